import Foundation
import SluiceCore

/// A result row of either database, read by column name. SQL `NULL` and a missing column read as `nil`.
protocol StoredRow {
    func string(_ column: String) -> String?
    func int(_ column: String) -> Int?
}

extension StoredRow {
    func text(_ column: String) -> String { string(column) ?? "" }
    func date(_ column: String) -> Date { StoredValues.date(milliseconds: int(column)) }
}

/// How both stores write values and read domain types back: times as integer milliseconds since 1970, token
/// ends as comma-separated numbers, money as integer picodollars.
enum StoredValues {
    /// The columns a new conversation is inserted with, in this order, on both databases (SQLiteStore.creation,
    /// StatementValues.conversation and the PostgreSQL statements that start a conversation).
    static let conversationColumns = "id, user_id, title, model, system_prompt, created_at, updated_at, end_user"

    static func now() -> Date {
        // Millisecond precision, as stored, so a value read back equals the value written.
        Date.nowToTheMillisecond
    }

    static func milliseconds(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(milliseconds: Int?) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds ?? 0) / 1000)
    }

    /// The start of the UTC day that contains `now`: dollar budgets are daily.
    /// The limits row's column for a rate limit (schema step 19).
    static func rateLimitColumn(_ kind: RateLimits.Kind) -> String {
        switch kind {
        case .requests: "requests_per_minute"
        case .tokens: "tokens_per_minute"
        case .parallel: "max_parallel_requests"
        }
    }

    static func dayStart(_ now: Date) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    /// The end of the budget period that contains `now`: the next multiple of `period` since 1970.
    static func nextReset(after now: Date, period: TimeInterval) -> Date {
        let periods = (now.timeIntervalSince1970 / period).rounded(.down) + 1
        return Date(timeIntervalSince1970: periods * period)
    }

    /// Token ends are stored as comma-separated numbers: compact, and rewritten with the content anyway.
    static func encode(_ tokenEnds: [Int]) -> String { tokenEnds.map(String.init).joined(separator: ",") }
    static func decodeTokenEnds(_ text: String) -> [Int] {
        text.isEmpty ? [] : text.split(separator: ",").compactMap { Int($0) }
    }

    /// SQL that finds an administrator besides the user `userID` names (SQL) who can sign in — not suspended, not
    /// deleted: the one who would be left to manage the others.
    static func anotherActiveAdmin(_ userID: String) -> String {
        "SELECT 1 FROM users o WHERE o.is_admin = 1 AND o.suspended_at IS NULL AND o.deleted_at IS NULL AND o.id <> \(userID)"
    }

    static func user(_ row: some StoredRow) -> User {
        User(
            id: row.text("id"), name: row.text("name"), plan: Plan(rawValue: row.text("plan")) ?? .free,
            createdAt: row.date("created_at"), allowedModels: row.string("allowed_models").map(decodeModels),
            isAdmin: row.int("is_admin") == 1, suspendedAt: row.int("suspended_at").map { date(milliseconds: $0) },
            hasPassword: row.string("password_hash") != nil, isPending: row.int("pending") == 1)
    }

    /// A user's row with `key_id` and `key_label` (`NULL` for the user's own token).
    static func credential(_ row: some StoredRow) -> Credential {
        Credential(
            user: user(row), apiKeyID: row.string("key_id"), apiKeyLabel: row.string("key_label"),
            expiresAt: row.int("key_expires_at").map { date(milliseconds: $0) },
            keyModels: row.string("key_models").map(decodeModels),
            keyDailyDollarLimit: row.int("key_daily").map { USDAmount(picodollars: Int64($0)) },
            keyRateCaps: RateCaps(
                requestsPerMinute: row.int("key_rpm"), tokensPerMinute: row.int("key_tpm"), maxParallel: row.int("key_parallel")),
            teamModels: row.string("team_models").map(decodeModels), keyTags: decodeTags(row.string("key_tags")))
    }

    /// The credential queries' last column: the models the user's team allows (`users` is aliased `users` or `u`).
    static func teamModelsColumn(of users: String) -> String {
        "(SELECT t.allowed_models FROM teams t WHERE t.id = \(users).team_id) AS team_models"
    }

    static func apiKey(_ row: some StoredRow) -> APIKey {
        APIKey(
            id: row.text("id"), userID: row.text("user_id"), label: row.text("label"), createdAt: row.date("created_at"),
            revokedAt: row.int("revoked_at").map { date(milliseconds: $0) }, expiresAt: row.int("expires_at").map { date(milliseconds: $0) },
            allowedModels: row.string("allowed_models").map(decodeModels),
            dailyDollarLimit: row.int("daily_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            rateCaps: RateCaps(
                requestsPerMinute: row.int("requests_per_minute"), tokensPerMinute: row.int("tokens_per_minute"),
                maxParallel: row.int("max_parallel_requests")),
            tags: decodeTags(row.string("tags")))
    }

    /// A new key as stored: its times in whole milliseconds, as they read back.
    static func newKey(userID: String, label: String, terms: APIKey.Terms) -> APIKey {
        APIKey(
            id: Identifier.make(), userID: userID, label: label, createdAt: now(),
            expiresAt: terms.expiresAt.map { date(milliseconds: milliseconds($0)) }, allowedModels: terms.allowedModels,
            dailyDollarLimit: terms.dailyDollarLimit, rateCaps: terms.rateCaps, tags: terms.tags)
    }

    /// `users.allowed_models` (schema step 20): one model name per line.
    static func encodeModels(_ models: [String]) -> String { models.joined(separator: "\n") }
    static func decodeModels(_ text: String) -> [String] { text.split(separator: "\n").map(String.init) }

    static func conversation(_ row: some StoredRow) -> Conversation {
        Conversation(
            id: row.text("id"), userID: row.text("user_id"), title: row.text("title"), model: row.text("model"),
            systemPrompt: row.string("system_prompt"), endUser: row.string("end_user"), createdAt: row.date("created_at"),
            updatedAt: row.date("updated_at"), pinnedAt: row.int("pinned_at").map { date(milliseconds: $0) },
            archivedAt: row.int("archived_at").map { date(milliseconds: $0) }, projectID: row.string("project_id"),
            branchedFrom: row.string("branched_from"), parameters: ConversationParameters(json: row.string("parameters")))
    }

    static func savedPrompt(_ row: some StoredRow) -> SavedPrompt {
        SavedPrompt(
            id: row.text("id"), userID: row.text("user_id"), command: row.text("command"), title: row.text("title"),
            content: row.text("content"), createdAt: row.date("created_at"), updatedAt: row.date("updated_at"))
    }

    static func memory(_ row: some StoredRow) -> Memory {
        Memory(
            id: row.text("id"), userID: row.text("user_id"), content: row.text("content"), createdAt: row.date("created_at"),
            updatedAt: row.date("updated_at"))
    }

    static func projectFile(_ row: some StoredRow) -> ProjectFile {
        ProjectFile(
            id: row.text("id"), projectID: row.text("project_id"), name: row.text("name"), text: row.text("text"),
            createdAt: row.date("created_at"))
    }

    static func project(_ row: some StoredRow) -> Project {
        Project(
            id: row.text("id"), userID: row.text("user_id"), name: row.text("name"), instructions: row.string("instructions"),
            createdAt: row.date("created_at"), updatedAt: row.date("updated_at"))
    }

    /// A message row, with its cost from the usage ledger in `cost_picousd` when the query adds it.
    static func message(_ row: some StoredRow) -> Message {
        let role = MessageRole(rawValue: row.text("role")) ?? .user
        var message = Message(
            id: row.text("id"), conversationID: row.text("conversation_id"), role: role,
            content: row.text("content"), status: MessageStatus(rawValue: row.text("status")) ?? .partial,
            model: row.string("model"), createdAt: row.date("created_at"),
            usage: role == .assistant
                ? Usage(
                    inputTokens: row.int("input_tokens"), outputTokens: row.int("output_tokens"),
                    totalTokens: row.int("total_tokens"),
                    source: row.string("usage_source").flatMap(UsageSource.init(rawValue:)),
                    countedInputTokens: row.int("counted_input_tokens"),
                    countedOutputTokens: row.int("counted_output_tokens"),
                    cachedInputTokens: row.int("cached_input_tokens"), cacheWriteTokens: row.int("cache_write_tokens"))
                : nil,
            ttftMs: row.int("ttft_ms"), durationMs: row.int("duration_ms"),
            finishReason: row.string("finish_reason"), error: row.string("error"),
            errorCode: row.string("error_code"), tokenEnds: decodeTokenEnds(row.text("token_ends")),
            versionGroup: row.string("version_group"), superseded: (row.int("superseded") ?? 0) != 0,
            cost: row.int("cost_picousd").map { USDAmount(picodollars: Int64($0)) },
            contextMode: row.string("context_mode").flatMap(ContextMode.init(rawValue:)) ?? .auto,
            toolCalls: decodeToolCalls(row.string("tool_calls")), toolCallID: row.string("tool_call_id"))
        message.feedback = feedback(row)
        message.attachments = decodeAttachments(row.string("attachments"))
        message.images = decodeImages(row.string("images"))
        message.reasoning = row.string("reasoning")
        message.reasoningMs = row.int("reasoning_ms")
        message.signedThinking = decodeSignedThinking(row.string("thinking_blocks"))
        message.sources = decodeList(row.string("sources"))
        message.personalDataMasked = row.string("personal_data_masked")
            .flatMap { try? JSONDecoder().decode([String: Int].self, from: Data($0.utf8)) } ?? [:]
        message.memory = row.string("memory").flatMap { try? JSONDecoder().decode(MemoryNote.self, from: Data($0.utf8)) }
        message.editedAt = row.int("edited_at").map { date(milliseconds: $0) }
        return message
    }

    /// A message's list column — `tool_calls` (schema step 22), `attachments` (34), `images` (39), `thinking_blocks`
    /// (41) — as JSON, `NULL`
    /// when empty.
    static func encodeList<Item: Encodable>(_ items: [Item]) -> String? {
        items.isEmpty ? nil : (try? JSONEncoder().encode(items)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A JSON column's text (a `MemoryNote`'s, step 68).
    static func json(_ value: some Encodable) -> String {
        (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// A list column read back; empty for `NULL` (or for JSON this build cannot read).
    static func decodeList<Item: Decodable>(_ text: String?, of type: Item.Type = Item.self) -> [Item] {
        guard let text, !text.isEmpty else { return [] }
        return (try? JSONDecoder().decode([Item].self, from: Data(text.utf8))) ?? []
    }

    static func encode(_ toolCalls: [ToolCall]) -> String? { encodeList(toolCalls) }
    static func decodeToolCalls(_ text: String?) -> [ToolCall] { decodeList(text) }

    static func summary(_ row: some StoredRow) -> ConversationSummary {
        let covered = row.text("covered_ids")
        return ConversationSummary(
            text: row.text("text"), coveredMessageIDs: covered.isEmpty ? [] : covered.split(separator: ",").map(String.init),
            model: row.string("model"), updatedAt: row.date("updated_at"))
    }

    static func usageBucket(_ row: some StoredRow, grouping: UsageGrouping) -> UsageBucket {
        UsageBucket(
            key: row.text("bucket"), label: row.string("label"),
            inputTokens: row.int("input") ?? 0, outputTokens: row.int("output") ?? 0, totalTokens: row.int("total") ?? 0,
            cost: USDAmount(picodollars: Int64(row.int("cost") ?? 0)), turns: row.int("turns") ?? 0,
            lastTurnAt: row.int("last_at").map { date(milliseconds: $0) }, cacheHits: row.int("cache_hits") ?? 0,
            savedTokens: row.int("saved_tokens") ?? 0, savedCost: USDAmount(picodollars: Int64(row.int("saved_cost") ?? 0)),
            ratedGood: row.int("rated_good") ?? 0, ratedBad: row.int("rated_bad") ?? 0,
            cachedInputTokens: row.int("cached_input") ?? 0)
    }

    /// The SQL of a usage bucket's label (`UsageBucket.label`) over `token_usage u` joined with its conversation `c`
    /// and its API key `k` (and the conversation's project `p`): a conversation's title, a key's label, a project's name,
    /// else `NULL`.
    static func usageLabel(_ grouping: UsageGrouping) -> String {
        switch grouping {
        case .conversation: "MAX(c.title)"
        case .apiKey: "MAX(k.label)"
        case .project: "MAX(p.name)"
        case .user: "MAX((SELECT name FROM users us WHERE us.id = u.user_id))"
        case .team: "MAX((SELECT name FROM teams t WHERE t.id = u.team_id))"
        case .day, .model, .endUser, .tag: "NULL"
        }
    }

    /// A user's budget from a row with the limits' columns and `used`, `user_spent`, `all_spent`.
    /// `endUserBudget`'s row (`lim`, `spent`): `nil` without a limit per end user.
    static func endUserBudget(_ row: (some StoredRow)?, now: Date) -> DollarBudget? {
        guard let row, let limit = row.int("lim") else { return nil }
        return DollarBudget(
            limit: USDAmount(picodollars: Int64(limit)), spent: USDAmount(picodollars: Int64(row.int("spent") ?? 0)),
            resetAt: dayStart(now).addingTimeInterval(86_400))
    }

    static func budgetState(_ row: some StoredRow, now: Date, globalDailyLimit: USDAmount?) -> BudgetState {
        let tomorrow = dayStart(now).addingTimeInterval(86_400)
        return BudgetState(
            plan: Plan(rawValue: row.text("plan")) ?? .free, used: row.int("used") ?? 0,
            limit: row.int("token_limit"), resetAt: row.date("reset_at"),
            dailyDollars: row.int("daily_usd_limit_picousd").map {
                DollarBudget(
                    limit: USDAmount(picodollars: Int64($0)),
                    spent: USDAmount(picodollars: Int64(row.int("user_spent") ?? 0)), resetAt: tomorrow)
            },
            globalDailyDollars: globalDailyLimit.map {
                DollarBudget(limit: $0, spent: USDAmount(picodollars: Int64(row.int("all_spent") ?? 0)), resetAt: tomorrow)
            },
            endUserDailyLimit: row.int("end_user_daily_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            rateLimits: rateLimits(row),
            team: row.string("team_name").map { name in
                TeamBudget(
                    name: name,
                    dailyDollars: row.int("team_limit").map {
                        DollarBudget(
                            limit: USDAmount(picodollars: Int64($0)),
                            spent: USDAmount(picodollars: Int64(row.int("team_spent") ?? 0)), resetAt: tomorrow)
                    },
                    monthlyDollars: row.int("team_monthly_limit").map {
                        DollarBudget(
                            limit: USDAmount(picodollars: Int64($0)),
                            spent: USDAmount(picodollars: Int64(row.int("team_month_spent") ?? 0)), resetAt: UTCMonth.next(after: now))
                    },
                    rateLimits: rateLimits(row, prefix: "team_"))
            })
    }

    /// A granted hold's `rate_state` (`RateWindowSQL.packedState`, the use before it) with the hold counted: its
    /// tokens, and unless it is an `n` call's answer after the first (`request` false), one request and running turn.
    static func rateLimits(packed: String?, reservedTokens: Int, nowMs: Int, request: Bool = true) -> RateLimits? {
        guard let packed else { return nil }
        let values = packed.split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard values.count == RateWindowSQL.stateNames.count else { return nil }
        return rateLimits(values, counting: (reservedTokens, nowMs, request))
    }

    /// `RateWindowSQL.stateColumns` of `budget`'s row, or with `prefix` `key_` `KeyRateSQL.stateColumns` (`team_`:
    /// `TeamRateSQL.stateColumns`).
    static func rateLimits(_ row: some StoredRow, prefix: String = "") -> RateLimits? {
        rateLimits(RateWindowSQL.stateNames.map { row.int(prefix + $0) })
    }

    /// The values of `RateWindowSQL.stateNames`, in order; with `hold`, its reserved tokens and (for a request, not an
    /// `n` call's answer after the first) one more request and running turn — each counted, as `stateColumns` counts them, only under a limit it concerns. `nil` when the
    /// user has no rate limit.
    private static func rateLimits(
        _ values: [Int?], counting hold: (reservedTokens: Int, nowMs: Int, request: Bool)? = nil
    ) -> RateLimits? {
        let (requestsPerMinute, tokensPerMinute, maxParallel) = (values[0], values[1], values[2])
        guard requestsPerMinute != nil || tokensPerMinute != nil || maxParallel != nil else { return nil }
        let (held, perMinute) = (hold?.request == true ? 1 : 0, requestsPerMinute != nil || tokensPerMinute != nil)
        // With a hold, the window has a request at least since the hold's moment.
        let oldest = hold.map { hold in min(values[6] ?? hold.nowMs, hold.nowMs) } ?? values[6]
        return RateLimits(
            maxParallel: maxParallel, running: maxParallel == nil ? 0 : (values[3] ?? 0) + held,
            requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute,
            requests: perMinute ? (values[4] ?? 0) + held : 0,
            tokens: tokensPerMinute == nil ? 0 : (values[5] ?? 0) + (hold?.reservedTokens ?? 0),
            oldestLeavesAt: oldest.map { Date(timeIntervalSince1970: Double($0 + RateWindowSQL.windowMs) / 1000) })
    }
}
