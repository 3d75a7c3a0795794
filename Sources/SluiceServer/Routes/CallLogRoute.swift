import Foundation
import Hummingbird
import SluiceCore

/// The caller's calls one by one (LiteLLM's request logs, OpenAI's dashboard's Logs): `GET /api/usage/calls` →
/// `{"calls": [WireCall], "next_before"}`, the newest first, `?limit=` (1–200, 50 by default) at a time, `?before=` the
/// last call's id for the page after (`next_before` names it, `null` at the end). Narrowed by `?model=`, `?tag=`,
/// `?outcome=running|complete|stopped|failed|cached`, `?key=` (a key's id; empty: the user's own token),
/// `?end_user=` (empty: calls that named none) and `?period=today|week|month` (as `/api/usage`'s; every call without). With `scope=all` an administrator reads everyone's (`?user=` a name
/// narrows them to one user's); another user's conversation, key and end user stay theirs — left out of the row, and
/// not a filter there, as `group` is limited with `scope=all`. `?format=csv`: all of them as a spreadsheet.
struct CallLogRoute {
    let calls: (any CallLogStore)?
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("usage/calls", use: list)
        api.get("usage/latency", use: latency)
    }

    /// `GET /api/usage/latency?period=today|week|month[&scope=all]` → `{"period", "models": [{"model", "answers",
    /// "ttft_ms": {"p50", "p95", "p99"}, "tokens_per_second_p50"}]}`: how fast each model answered the caller (or,
    /// for an administrator, everyone) over the period, from its newest `mostMeasured` complete answers.
    @Sendable func latency(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard let calls else {
            throw APIError(.notFound, code: "not_found", message: "Token accounting is not enabled on this server.")
        }
        let parameters = request.uri.queryParameters
        let periodName = parameters.get("period") ?? "week"
        guard let period = UsagePeriod(rawValue: periodName) else { throw APIError.invalid("'period' must be today, week or month.") }
        var userID: String? = user.id
        switch parameters.get("scope") ?? "mine" {
        case "mine": break
        case "all":
            _ = try context.requireAdministrator(to: "see everyone's latency")
            userID = nil
        default: throw APIError.invalid("'scope' must be mine or all.")
        }
        let timings = try await calls.answerTimings(userID: userID, since: period.start(now: Date()), limit: Self.mostMeasured)
        return try AdminUserRoutes.json(WireLatency(period: periodName, models: ModelLatency.of(timings).map(WireLatency.Model.init)))
    }

    /// The most answers latency is measured over: the newest of the period.
    static let mostMeasured = 50_000

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard let calls else {
            throw APIError(.notFound, code: "not_found", message: "Token accounting is not enabled on this server.")
        }
        let parameters = request.uri.queryParameters
        let value = { (field: String) in request.formValue(field) }
        let nonEmpty = { (field: String) in value(field).flatMap { $0.isEmpty ? nil : $0 } }
        var query = CallLogQuery(userID: user.id, model: nonEmpty("model"), tag: nonEmpty("tag"), before: nonEmpty("before"))
        query.limit = try parameters.get("limit").map { text in
            guard let limit = Int(text), (1...200).contains(limit) else {
                throw APIError.invalid("'limit' must be a whole number from 1 to 200.")
            }
            return limit
        } ?? 50
        query.since = try nonEmpty("period").map { text in
            guard let period = UsagePeriod(rawValue: text) else { throw APIError.invalid("'period' must be today, week or month.") }
            return period.start(now: Date())
        }
        query.outcome = try nonEmpty("outcome").map { text in
            guard let outcome = CallRecord.Outcome(rawValue: text) else {
                let outcomes = CallRecord.Outcome.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.invalid("'outcome' must be one of \(outcomes).")
            }
            return outcome
        }
        switch parameters.get("scope") ?? "mine" {
        case "mine":
            query.apiKeyID = value("key")
            query.endUser = value("end_user")
        case "all":
            _ = try context.requireAdministrator(to: "see everyone's calls")
            guard value("key") == nil, value("end_user") == nil else {
                throw APIError.invalid("With scope=all, calls are narrowed by user, model, tag and outcome: other users' keys and end users stay theirs.")
            }
            query.userID = nil
            if let name = nonEmpty("user") {
                guard let named = try await store.user(named: name) else {
                    throw APIError(.notFound, code: "user_not_found", message: "No user is named '\(name)'.")
                }
                query.userID = named.id
            }
        default: throw APIError.invalid("'scope' must be mine or all.")
        }
        switch parameters.get("format") ?? "json" {
        case "json": break
        case "csv": return try await csv(query, from: calls, caller: user, everyone: parameters.get("scope") == "all")
        default: throw APIError.invalid("'format' must be json or csv.")
        }
        // One more than asked: whether there is a page after this one.
        var asked = query
        asked.limit += 1
        let found = try await calls.calls(asked)
        let page = Array(found.prefix(query.limit))
        return try AdminUserRoutes.json(WireCallLog(
            calls: page.map { WireCall($0, caller: user) }, nextBefore: found.count > query.limit ? page.last?.id : nil))
    }

    /// Every call `query` asks for, the newest first, as a spreadsheet's rows: read a thousand at a time, up to
    /// `mostExported`.
    private func csv(_ query: CallLogQuery, from calls: any CallLogStore, caller: User, everyone: Bool) async throws -> Response {
        var lines = [
            "at,user,model,outcome,input_tokens,output_tokens,cached_input_tokens,cost_usd,ttft_ms,duration_ms,finish_reason,"
                + "error_code,key,end_user,team,tags,conversation",
        ]
        var page = query
        page.limit = 1_000
        var exported = 0
        repeat {
            let found = try await calls.calls(page)
            for call in found {
                lines.append(Self.csvFields(WireCall(call, caller: caller)).map(UsageCSV.field).joined(separator: ","))
            }
            exported += found.count
            page.before = found.count == 1_000 ? found.last?.id : nil
        } while page.before != nil && exported < AuditLogRoutes.mostExported
        return UsageCSV.download(lines: lines, named: "sluice-calls\(everyone ? "-everyone" : "").csv")
    }
}

extension CallLogRoute {
    /// A call's columns in the spreadsheet, as `WireCall` shows it (another user's conversation, key and end user left
    /// empty); its tags apart by spaces.
    static func csvFields(_ row: WireCall) -> [String] {
        let figures = [row.inputTokens, row.outputTokens, row.cachedInputTokens].map(String.init)
        let timings = [row.ttftMs, row.durationMs].map { $0.map(String.init) ?? "" }
        let ending = [row.finishReason ?? "", row.errorCode ?? ""]
        let about: [String] = [row.key?.name ?? "", row.endUser ?? "", row.team ?? "", row.tags.joined(separator: " "), row.conversation?.name ?? ""]
        return [ISO8601Milliseconds.string(row.at), row.user.name ?? "", row.model, row.outcome] + figures + [row.costUsd]
            + timings + ending + about
    }
}

/// Latency per model (`ModelLatency`); `tokens_per_second_p50` is `null` when it could not be measured.
struct WireLatency: Encodable {
    struct Model: Encodable {
        struct FirstToken: Encodable {
            let p50: Int
            let p95: Int
            let p99: Int
        }

        let model: String
        let answers: Int
        let ttftMs: FirstToken
        @ExplicitNull var tokensPerSecondP50: Double?

        init(_ latency: ModelLatency) {
            model = latency.model
            answers = latency.answers
            ttftMs = FirstToken(p50: latency.firstTokenP50, p95: latency.firstTokenP95, p99: latency.firstTokenP99)
            // One decimal is all a person reads.
            tokensPerSecondP50 = latency.tokensPerSecondP50.map { ($0 * 10).rounded() / 10 }
        }
    }

    let period: String
    let models: [Model]
}

/// A page of calls; `next_before` is written as `null` at the end.
struct WireCallLog: Encodable {
    let calls: [WireCall]
    @ExplicitNull var nextBefore: String?
}

/// A call as the API shows it: `{"id", "at", "user": {"id", "name"}, "model", "outcome", "input_tokens",
/// "output_tokens", "cached_input_tokens", "cost_usd", "ttft_ms", "duration_ms", "finish_reason", "error_code",
/// "conversation": {"id", "title"}, "key": {"id", "label"}, "end_user", "team", "tags"}`, `null` for what there is
/// none of — and for another user's conversation, key and end user.
struct WireCall: Encodable {
    struct Person: Encodable {
        let id: String
        /// `null`: a deleted user.
        @ExplicitNull var name: String?
    }

    /// A conversation (`{"id", "title"}`) or a key (`{"id", "label"}`).
    struct Named: Encodable {
        let id: String
        let name: String?
        let nameKey: CodingKeys

        enum CodingKeys: String, CodingKey { case id, title, label }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: nameKey)
        }
    }

    let id: String
    let at: Date
    let user: Person
    let model: String
    let outcome: String
    let inputTokens: Int
    let outputTokens: Int
    let cachedInputTokens: Int
    let costUsd: String
    @ExplicitNull var ttftMs: Int?
    @ExplicitNull var durationMs: Int?
    @ExplicitNull var finishReason: String?
    @ExplicitNull var errorCode: String?
    @ExplicitNull var conversation: Named?
    @ExplicitNull var key: Named?
    @ExplicitNull var endUser: String?
    @ExplicitNull var team: String?
    let tags: [String]

    /// `caller`: who reads it; another user's conversation, key and end user are left out.
    init(_ call: CallRecord, caller: User) {
        let own = call.userID == caller.id
        id = call.id
        at = call.at
        user = Person(id: call.userID, name: call.userName)
        model = call.model
        outcome = call.outcome.rawValue
        inputTokens = call.inputTokens
        outputTokens = call.outputTokens
        cachedInputTokens = call.cachedInputTokens
        costUsd = call.cost.decimalString
        ttftMs = call.firstTokenMilliseconds
        durationMs = call.durationMilliseconds
        finishReason = call.finishReason
        errorCode = call.errorCode
        conversation = own ? call.conversationID.map { Named(id: $0, name: call.conversationTitle, nameKey: .title) } : nil
        key = own ? call.apiKeyID.map { Named(id: $0, name: call.apiKeyLabel, nameKey: .label) } : nil
        endUser = own ? call.endUser : nil
        team = call.teamName
        tags = call.tags
    }
}
