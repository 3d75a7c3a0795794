import Foundation
import Hummingbird
import SluiceCore

/// The caller's token usage: `GET /api/usage/limits` (plan and budget now),
/// `GET /api/usage?period=today|week|month&group=day|conversation|model|end_user|key|project|user|team|tag[&format=csv]`
/// (history for charts; `end_user`: the gateway's `user` field, `""` for turns without one; `key`: the labelled API key,
/// `""` for the user's own token; `project`: the project a turn's conversation is in now, `""` for none; `user`: the
/// user, labelled with their name; `team`: the user's team then; `tag`: each of a gateway call's tags, `""` for
/// untagged turns), with `scope=all` everyone's (an administrator's, grouped by day, model, user, team or tag only:
/// other users' conversations, keys and projects stay theirs), and `GET /api/usage/end-user?name=…` (one end user's day under the
/// caller's limit per end user).
struct UsageRoutes {
    let budgets: (any BudgetStore)?

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("usage/limits", use: limits)
        api.get("usage/end-user", use: endUser)
        api.get("usage", use: history)
    }

    @Sendable func limits(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let budget = try await requireBudgets().budget(userID: user.id, now: Date())
        return Self.json(WireBudget(budget).json)
    }

    /// `{"name", "limit", "spent", "remaining", "percent", "level", "reset_at"}`: what a service can show its customer.
    @Sendable func endUser(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard let name = request.formValue("name"), !name.isEmpty else {
            throw APIError.invalid("'name' must name the end user, as the gateway's 'user' field did.")
        }
        guard let day = try await requireBudgets().endUserBudget(userID: user.id, endUser: name, now: Date()) else {
            throw APIError(
                .notFound, code: "no_end_user_limit",
                message: "This account has no daily limit per end user (sluice user set-plan NAME PLAN --end-user-daily-usd "
                    + "sets one). Usage per end user is at /api/usage?group=end_user.")
        }
        return Self.json(WireDollars(day).json(named: name))
    }

    @Sendable func history(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let query = request.uri.queryParameters
        let periodName = query.get("period") ?? "week"
        guard let period = UsagePeriod(rawValue: periodName) else {
            throw APIError.invalid("'period' must be today, week or month.")
        }
        guard let grouping = UsageGrouping(rawValue: query.get("group") ?? "day") else {
            throw APIError.invalid("'group' must be day, conversation, model, end_user, key, project, user, team or tag.")
        }
        let everyone: Bool
        switch query.get("scope") ?? "mine" {
        case "mine": everyone = false
        case "all":
            _ = try context.requireAdministrator(to: "see everyone's usage")
            guard [.day, .model, .user, .team, .tag].contains(grouping) else {
                throw APIError.invalid(
                    "With scope=all, 'group' must be day, model, user, team or tag: other users' conversations, keys and projects stay theirs.")
            }
            everyone = true
        default: throw APIError.invalid("'scope' must be mine or all.")
        }
        let now = Date()
        let since = period.start(now: now)
        let buckets = try await requireBudgets().usageHistory(userID: everyone ? nil : user.id, since: since, groupedBy: grouping)
        switch query.get("format") ?? "json" {
        case "csv":
            let whose = everyone ? "everyone-" : ""
            return UsageCSV.download(
                UsageCSV.render(buckets, grouping: grouping), named: "sluice-usage-\(whose)\(periodName)-by-\(grouping.rawValue).csv")
        case "json":
            // Per tag the rows overlap: the totals are the period's whole, read by day.
            let whole = grouping == .tag
                ? try await requireBudgets().usageHistory(userID: everyone ? nil : user.id, since: since, groupedBy: .day) : nil
            return Self.json(WireUsageHistory(
                period: periodName, group: grouping.rawValue, from: since, to: now, buckets: buckets, whole: whole).json)
        default:
            throw APIError.invalid("'format' must be json or csv.")
        }
    }

    private func requireBudgets() throws -> any BudgetStore {
        guard let budgets else {
            throw APIError(.notFound, code: "not_found", message: "Token accounting is not enabled on this server.")
        }
        return budgets
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The windows the history can cover, ending now; days are UTC days.
enum UsagePeriod: String {
    case today, week, month

    func start(now: Date) -> Date {
        let day: TimeInterval = 86_400
        let midnight = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / day).rounded(.down) * day)
        switch self {
        case .today: return midnight
        case .week: return midnight.addingTimeInterval(-6 * day)
        case .month: return midnight.addingTimeInterval(-29 * day)
        }
    }
}

/// `{"period","group","from","to","totals":{…},"series":[{"key","label"?,"input_tokens",…,"cost_usd","turns","last_turn_at"}]}`.
struct WireUsageHistory: Encodable {
    struct Row: Encodable {
        /// `nil` in the totals row.
        var key: String?
        let label: String?
        let inputTokens: Int
        let outputTokens: Int
        let totalTokens: Int
        let costUsd: String
        let turns: Int
        /// ISO 8601: when the bucket's latest turn was made (a key's last use).
        let lastTurnAt: String?
        /// Answers from the response cache among `turns`, and the tokens and dollars they saved.
        let cacheHits: Int
        let savedTokens: Int
        let savedCostUsd: String
        /// Answers rated 👍 and 👎 among `turns`.
        let ratedGood: Int
        let ratedBad: Int
        /// The part of `inputTokens` read from the providers' prompt caches.
        let cachedInputTokens: Int

        init(_ bucket: UsageBucket) {
            cachedInputTokens = bucket.cachedInputTokens
            key = bucket.key
            label = bucket.label
            inputTokens = bucket.inputTokens
            outputTokens = bucket.outputTokens
            totalTokens = bucket.totalTokens
            costUsd = bucket.cost.decimalString
            turns = bucket.turns
            lastTurnAt = bucket.lastTurnAt.map { ISO8601DateFormatter().string(from: $0) }
            cacheHits = bucket.cacheHits
            savedTokens = bucket.savedTokens
            savedCostUsd = bucket.savedCost.decimalString
            ratedGood = bucket.ratedGood
            ratedBad = bucket.ratedBad
        }
    }

    let period: String
    let group: String
    let from: String
    let to: String
    let totals: Row
    let series: [Row]

    /// `whole`: the buckets whose sum is the period's whole, when `buckets` add up to more (per tag, where a turn
    /// counts under each of its tags).
    init(period: String, group: String, from: Date, to: Date, buckets: [UsageBucket], whole: [UsageBucket]? = nil) {
        self.period = period
        self.group = group
        let formatter = ISO8601DateFormatter()
        self.from = formatter.string(from: from)
        self.to = formatter.string(from: to)
        series = buckets.map(Row.init)
        var totals = Row(UsageBucket.total(of: whole ?? buckets))
        totals.key = nil
        self.totals = totals
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Usage history as CSV (RFC 4180): one header line, one line per bucket.
enum UsageCSV {
    /// `text` as a spreadsheet the browser saves as `filename` (the usage page's, the call log's and the audit log's
    /// Download CSV).
    static func download(_ text: String, named filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// CSV lines as one download's text: each line ended by CRLF.
    static func download(lines: [String], named filename: String) -> Response {
        download(lines.joined(separator: "\r\n") + "\r\n", named: filename)
    }

    static func render(_ buckets: [UsageBucket], grouping: UsageGrouping) -> String {
        // A conversation's title, a key's label, a project's, user's or team's name: the name a person knows it by.
        let named = [.conversation, .apiKey, .project, .user, .team].contains(grouping)
        let nameColumn = grouping == .apiKey ? "label," : [.project, .user, .team].contains(grouping) ? "name," : "title,"
        var lines = [
            "\(grouping.rawValue),\(named ? nameColumn : "")input_tokens,output_tokens,total_tokens,cost_usd,turns,"
                + "cache_hits,saved_tokens,saved_cost_usd,rated_good,rated_bad,cached_input_tokens",
        ]
        for bucket in buckets {
            let title = named ? field(bucket.label ?? "") + "," : ""
            lines.append(
                "\(field(bucket.key)),\(title)\(bucket.inputTokens),\(bucket.outputTokens),\(bucket.totalTokens),\(bucket.cost.decimalString),"
                    + "\(bucket.turns),\(bucket.cacheHits),\(bucket.savedTokens),\(bucket.savedCost.decimalString),"
                    + "\(bucket.ratedGood),\(bucket.ratedBad),\(bucket.cachedInputTokens)")
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Quotes a field when it holds a comma, a quote or a line break; a leading `=`, `+`, `-` or `@` is
    /// prefixed with `'` so that a spreadsheet never runs a title as a formula.
    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
