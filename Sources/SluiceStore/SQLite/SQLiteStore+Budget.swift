import Foundation
import GRDB
import SluiceCore

/// Token budgets on SQLite. Every change is a single SQL statement (SQLite runs each atomically), so the
/// shared connection can interleave turns freely without any of them seeing a half-done update.
extension SQLiteStore {
    public func hold(_ request: HoldRequest, now: Date) async throws -> BudgetHold? {
        try await prepareBudget(userID: request.userID, now: now)
        let id = Identifier.make()
        let nowMs = Self.milliseconds(now)
        let wanted = request.inputTokens + request.wantedOutput
        // At the highest rate a prompt token may cost (a cache write may cost more than plain input).
        let inputCost = Int(request.price.mostPerInputToken.picodollars) * request.inputTokens
        let outputPrice = Int(request.price.outputPerToken.picodollars)
        // tokens_left = limit − settled − live holds (NULL limit: the whole wish); live holds are the user's count of
        // held tokens less its expired holds (schema step 14), which are almost always none. dollars_left = the tighter of
        // the user's and the service's daily limits minus today's spending, counted in daily_spending (schema step 15).
        // With a limit per end user (schema step 18) and a conversation (or, schema step 36, a call) that names one,
        // that end user's dollars left today cap it too, and so do the dollars left today of the user's team (schema
        // step 62; its month's too, from ?21, the month's first day), which the ledger's row keeps, and those of each of the
        // call's tags (?22, which the row keeps too) that has a budget (step 67). The hold takes the wish, capped by all;
        // it needs the input and one output token to fit, and
        // to fit in the user's rate limits (schema step 19), the key's (step 27) and the team's (step 63), which refuse rather than cap; the limits' use before this
        // hold comes back with it (`rate_state`, the gateway's x-ratelimit-* headers). An `n` call's answer after the
        // first (?20, schema step 52) is held to the tokens per minute only: the call is one request.
        // `budget` is MATERIALIZED: inlined, SQLite ran its subqueries once for every use of tokens_left and
        // dollars_left below (when they still summed every live hold, a hold among 1 000 took 1.0 ms instead of 0.2;
        // docs/benchmarks.md, "Budget holds under a thousand streams").
        let sql = """
            WITH turn_end_user AS MATERIALIZED (SELECT COALESCE(?19, (SELECT c.end_user FROM conversations c WHERE c.id = ?5)) AS name),
            turn_team AS MATERIALIZED (SELECT (SELECT u.team_id FROM users u WHERE u.id = ?3) AS id),
            budget AS MATERIALIZED (
                SELECT
                    COALESCE(l.token_limit - l.tokens_used - (l.tokens_held - COALESCE((
                        SELECT SUM(u.reserved_tokens) FROM token_usage u
                        WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at <= ?1), 0)), ?2) AS tokens_left,
                    MIN(
                        COALESCE(l.daily_usd_limit_picousd - (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(Self.userSpentToday) END), 9000000000000000000),
                        COALESCE(?11 - (CASE WHEN ?11 IS NULL THEN 0 ELSE \(Self.allSpentToday) END), 9000000000000000000),
                        \(Self.endUserLeftToday),
                        \(Self.keyLeftToday),
                        \(Self.teamLeftToday),
                        \(Self.tagsLeft)) AS dollars_left,
                    \(Self.rateState),
                    \(Self.keyRateState),
                    \(Self.teamRateState)
                FROM user_token_limits l LEFT JOIN teams t ON t.id = (SELECT id FROM turn_team) WHERE l.user_id = ?3
            ), allowed AS (
                SELECT MIN(?2, tokens_left, CASE WHEN ?13 > 0 THEN ?9 + (dollars_left - ?12) / ?13 ELSE ?2 END) AS tokens,
                    dollars_left, tokens_left, \(Self.withinRate) AS within_rate, \(Self.keyWithinRate) AS key_within_rate,
                    \(Self.teamWithinRate) AS team_within_rate
                FROM budget
            )
            INSERT INTO token_usage (id, user_id, conversation_id, message_id, model, state, reserved_tokens, created_at,
                expires_at, reserved_cost_picousd, end_user, api_key_id, extra_answer, team_id, tags)
            SELECT ?4, ?3, ?5, ?6, ?7, 'held', tokens, ?1, ?8, ?12 + (tokens - ?9) * ?13, (SELECT name FROM turn_end_user), ?14, ?20,
                (SELECT id FROM turn_team), ?22
            FROM allowed
            WHERE tokens >= ?9 + 1 AND dollars_left >= ?12 + ?13 AND within_rate = 1 AND key_within_rate = 1 AND team_within_rate = 1
            RETURNING reserved_tokens,
                (SELECT token_limit IS NULL FROM user_token_limits WHERE user_id = ?3) AS unlimited,
                (SELECT reset_at FROM user_token_limits WHERE user_id = ?3) AS reset_at,
                (SELECT \(RateWindowSQL.packedState) FROM budget) AS rate_state,
                (SELECT \(KeyRateSQL.packedState) FROM budget) AS key_rate_state
            """
        let binds: [SQLiteData] = [
            .integer(nowMs), .integer(wanted), .text(request.userID), .text(id), .text(request.conversationID),
            .text(request.messageID), .text(request.model), .integer(nowMs + Int(request.expiresAfter * 1000)),
            .integer(request.inputTokens), .integer(Self.milliseconds(StoredValues.dayStart(now))),
            globalDailyLimit.map { .integer(Int($0.picodollars)) } ?? .null, .integer(inputCost), .integer(outputPrice),
            Self.optional(request.apiKeyID), Self.optional(request.apiKeyDailyLimit.map { Int($0.picodollars) }),
            Self.optional(request.apiKeyRateCaps.requestsPerMinute), Self.optional(request.apiKeyRateCaps.tokensPerMinute),
            Self.optional(request.apiKeyRateCaps.maxParallel), Self.optional(request.endUser), .integer(request.extraAnswer ? 1 : 0),
            .integer(Self.milliseconds(UTCMonth.start(of: now))), Self.optional(StoredValues.tagsJSON(request.tags)),
        ]
        let rows: [SQLiteRow]
        if request.answer != nil || request.prelude != nil {
            rows = try await connection.transactionReturning(Self.holdTransaction(sql, binds, storing: request))
        } else {
            rows = try await connection.query(sql, binds)
        }
        guard let row = rows.first, let reserved = row.int("reserved_tokens") else { return nil }
        resetCache.remember(userID: request.userID, resetAtMs: row.int("reset_at"))
        let unlimited = (row.int("unlimited") ?? 0) != 0
        return BudgetHold(
            id: id, userID: request.userID, reservedTokens: reserved,
            outputAllowance: unlimited && reserved >= wanted ? nil : reserved - request.inputTokens,
            rateLimits: StoredValues.rateLimits(
                packed: row.string("rate_state"), reservedTokens: reserved, nowMs: nowMs, request: !request.extraAnswer),
            keyRateLimits: StoredValues.rateLimits(
                packed: row.string("key_rate_state"), reservedTokens: reserved, nowMs: nowMs, request: !request.extraAnswer))
    }

    /// The hold's statement in one transaction with the prelude (the user's message), stored granted or not, and
    /// the answer's row, stored only with a granted hold. Built out of line: in `hold` it took 1.2 KB more of the
    /// frame that the connection's task keeps for as long as the connection lives (docs/benchmarks.md, "Memory per stream").
    @inline(never)
    private static func holdTransaction(
        _ sql: String, _ binds: [SQLiteData], storing request: HoldRequest
    ) -> @Sendable (Database) throws -> [SQLiteRow] {
        let first = request.prelude.map { creation(of: $0.conversation, messages: $0.messages) } ?? []
        let answer = request.answer.map { insertions(of: [$0]) } ?? []
        return { db in
            try run(first, in: db)
            let rows = try SQLiteConnection.run(sql, binds, in: db)
            if !rows.isEmpty { try run(answer, in: db) }
            return rows
        }
    }

    public func settle(
        holdID: String, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cost: USDAmount, now: Date,
        finishing answer: AnswerFinish?, saved: CacheSavings?
    ) async throws {
        let total = inputTokens + outputTokens
        let sql = """
            UPDATE token_usage SET state = CASE WHEN ?1 > 0 THEN 'settled' WHEN ?6 > 0 THEN 'cached' ELSE 'released' END,
                input_tokens = ?2, output_tokens = ?3, total_tokens = ?1, cost_picousd = ?4,
                saved_tokens = ?6, saved_cost_picousd = ?7, cached_input_tokens = ?8
            WHERE id = ?5 AND state = 'held'
            """
        let binds: [SQLiteData] = [
            .integer(total), .integer(inputTokens), .integer(outputTokens), .integer(Int(cost.picodollars)), .text(holdID),
            .integer(saved?.tokens ?? 0), .integer(Int(saved?.cost.picodollars ?? 0)), .integer(cachedInputTokens),
        ]
        guard let answer else {
            _ = try await connection.query(sql, binds)
            return
        }
        let (finishSQL, finishBinds) = Self.finishStatement(messageID: answer.messageID, outcome: answer.outcome)
        let thread = answer.thread
        try await connection.transaction { db in
            try SQLiteConnection.run(sql, binds, in: db)
            try SQLiteConnection.run(finishSQL, finishBinds, in: db)
            if let thread {
                let (markSQL, markBinds) = Self.threadKeyStatement(conversationID: thread.conversationID, threadKey: thread.key)
                try SQLiteConnection.run(markSQL, markBinds, in: db)
            }
        }
    }

    public func budget(userID: String, now: Date) async throws -> BudgetState {
        try await prepareBudget(userID: userID, now: now)
        let rows = try await connection.query(Self.budgetSelect(where: "l.user_id = ?2"), budgetBinds(userID: userID, now: now))
        guard let row = rows.first else { throw StoreError.notFound }
        resetCache.remember(userID: userID, resetAtMs: row.int("reset_at"))
        return StoredValues.budgetState(row, now: now, globalDailyLimit: globalDailyLimit)
    }

    public func budgets(now: Date) async throws -> [String: BudgetState] {
        // `prepareBudget` for everyone in two statements: the missing limits rows made, the ended periods rolled over.
        let next = Self.milliseconds(nextReset(after: now))
        _ = try await connection.query(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at)
            SELECT id, plan, CASE plan WHEN 'free' THEN ?1 WHEN 'pro' THEN ?2 ELSE NULL END, 0, ?3 FROM users WHERE deleted_at IS NULL
            ON CONFLICT(user_id) DO NOTHING
            """,
            [Self.optional(Plan.free.defaultTokenLimit), Self.optional(Plan.pro.defaultTokenLimit), .integer(next)])
        _ = try await connection.query(
            "UPDATE user_token_limits SET tokens_used = 0, reset_at = ?1 WHERE reset_at <= ?2",
            [.integer(next), .integer(Self.milliseconds(now))])
        let rows = try await connection.query(Self.budgetSelect(where: "?2 IS NULL"), budgetBinds(userID: nil, now: now))
        return Dictionary(
            rows.map { ($0.text("user_id"), StoredValues.budgetState($0, now: now, globalDailyLimit: globalDailyLimit)) },
            uniquingKeysWith: { first, _ in first })
    }

    /// `budget`'s and `budgets`' binds: ?1 the moment, ?2 the user (or `NULL`), ?3 the day's start, ?4 the service's
    /// daily limit, ?5 the month's start.
    private func budgetBinds(userID: String?, now: Date) -> [SQLiteData] {
        [
            .integer(Self.milliseconds(now)), Self.optional(userID), .integer(Self.milliseconds(StoredValues.dayStart(now))),
            globalDailyLimit.map { .integer(Int($0.picodollars)) } ?? .null, .integer(Self.milliseconds(UTCMonth.start(of: now))),
        ]
    }

    /// The budget of each user whose limits row `l` meets `condition`, with `budgetBinds`.
    private static func budgetSelect(where condition: String) -> String {
        """
            SELECT l.user_id, l.plan, l.token_limit, l.reset_at, l.daily_usd_limit_picousd, l.end_user_daily_usd_limit_picousd,
                \(Self.rateColumnsInBudget),
                l.tokens_used + l.tokens_held - COALESCE((
                    SELECT SUM(u.reserved_tokens) FROM token_usage u
                    WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at <= ?1), 0) AS used,
                (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(Self.userSpentTodayInBudget) END) AS user_spent,
                (CASE WHEN ?4 IS NULL THEN 0 ELSE \(Self.allSpentTodayInBudget) END) AS all_spent,
                t.name AS team_name, t.daily_usd_limit_picousd AS team_limit, t.monthly_usd_limit_picousd AS team_monthly_limit,
                (CASE WHEN t.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(Self.teamSpentTodayInBudget) END) AS team_spent,
                (CASE WHEN t.monthly_usd_limit_picousd IS NULL THEN 0 ELSE \(Self.teamSpentThisMonthInBudget) END) AS team_month_spent,
                \(Self.teamRateState)
            FROM user_token_limits l JOIN users us ON us.id = l.user_id LEFT JOIN teams t ON t.id = us.team_id
            WHERE \(condition)
            """
    }

    public func setDailyDollarLimit(userID: String, limit: USDAmount?) async throws {
        try await setDollarLimit("daily_usd_limit_picousd", userID: userID, limit: limit)
    }

    public func setEndUserDailyDollarLimit(userID: String, limit: USDAmount?) async throws {
        try await setDollarLimit("end_user_daily_usd_limit_picousd", userID: userID, limit: limit)
    }

    public func setRateLimit(_ kind: RateLimits.Kind, userID: String, limit: Int?) async throws {
        try await setLimit(StoredValues.rateLimitColumn(kind), userID: userID, to: limit)
    }

    /// Sets one of the limits row's dollar columns (a name of ours, never a caller's), in picodollars.
    private func setDollarLimit(_ column: String, userID: String, limit: USDAmount?) async throws {
        try await setLimit(column, userID: userID, to: limit.map { Int($0.picodollars) })
    }

    /// Sets one of the limits row's columns (a name of ours, never a caller's); `nil`: no limit.
    private func setLimit(_ column: String, userID: String, to value: Int?) async throws {
        try await prepareBudget(userID: userID, now: Date())
        _ = try await connection.query(
            "UPDATE user_token_limits SET \(column) = ? WHERE user_id = ?", [Self.optional(value), .text(userID)])
    }

    public func endUserBudget(userID: String, endUser: String, now: Date) async throws -> DollarBudget? {
        try await prepareBudget(userID: userID, now: now)
        let spent = EndUserSpendingSQL.spent(user: "l.user_id", endUser: "?2", now: "?3", dayStart: "?4")
        let rows = try await connection.query(
            "SELECT l.end_user_daily_usd_limit_picousd AS lim, \(spent) AS spent FROM user_token_limits l WHERE l.user_id = ?1",
            [.text(userID), .text(endUser), .integer(Self.milliseconds(now)), .integer(Self.milliseconds(StoredValues.dayStart(now)))])
        return StoredValues.endUserBudget(rows.first, now: now)
    }

    public func setPlan(userID: String, plan: Plan, tokenLimit: Int?) async throws {
        let limit = tokenLimit ?? plan.defaultTokenLimit
        _ = try await connection.query("UPDATE users SET plan = ? WHERE id = ?", [.text(plan.rawValue), .text(userID)])
        _ = try await connection.query(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at) VALUES (?1, ?2, ?3, 0, ?4)
            ON CONFLICT(user_id) DO UPDATE SET plan = excluded.plan, token_limit = excluded.token_limit
            """,
            [.text(userID), .text(plan.rawValue), Self.optional(limit), .integer(Self.milliseconds(nextReset(after: Date())))])
    }

    public func resetBudget(userID: String, now: Date) async throws {
        try await prepareBudget(userID: userID, now: now)
        _ = try await connection.query(
            "UPDATE user_token_limits SET tokens_used = 0, reset_at = ? WHERE user_id = ?",
            [.integer(Self.milliseconds(nextReset(after: now))), .text(userID)])
    }

    public func apiKeySpentToday(userID: String, apiKeyID: String, now: Date) async throws -> USDAmount {
        let spent = KeySpendingSQL.spent(user: "?1", key: "?2", now: "?3", dayStart: "?4")
        let rows = try await connection.query(
            "SELECT \(spent) AS spent",
            [.text(userID), .text(apiKeyID), .integer(Self.milliseconds(now)), .integer(Self.milliseconds(StoredValues.dayStart(now)))])
        return USDAmount(picodollars: Int64(rows.first?.int("spent") ?? 0))
    }

    public func apiKeyRateLimits(userID: String, apiKeyID: String, caps: RateCaps, now: Date) async throws -> RateLimits? {
        guard !caps.isEmpty else { return nil }
        let columns = KeyRateSQL.stateColumns(
            requestsPerMinute: "?3", tokensPerMinute: "?4", maxParallel: "?5", user: "?1", key: "?2", now: "?6", callsOnly: true)
        let rows = try await connection.query(
            "SELECT \(columns)",
            [.text(userID), .text(apiKeyID), Self.optional(caps.requestsPerMinute), Self.optional(caps.tokensPerMinute),
             Self.optional(caps.maxParallel), .integer(Self.milliseconds(now))])
        return rows.first.flatMap { StoredValues.rateLimits($0, prefix: "key_") }
    }

    public func conversationTokens(conversationID: String) async throws -> Int {
        let rows = try await connection.query(
            "SELECT COALESCE(SUM(total_tokens), 0) AS total FROM token_usage WHERE conversation_id = ? AND state = 'settled'",
            [.text(conversationID)])
        return rows.first?.int("total") ?? 0
    }

    public func usageHistory(userID: String?, since: Date, groupedBy grouping: UsageGrouping) async throws -> [UsageBucket] {
        let key: String
        switch grouping {
        case .day: key = "strftime('%Y-%m-%d', u.created_at / 1000, 'unixepoch')"
        case .conversation: key = "u.conversation_id"
        case .model: key = "u.model"
        case .endUser: key = "COALESCE(u.end_user, '')"
        case .apiKey: key = "COALESCE(u.api_key_id, '')"
        case .project: key = "COALESCE(c.project_id, '')"
        case .user: key = "u.user_id"
        case .team: key = "COALESCE(u.team_id, '')"
        case .tag: key = "COALESCE(tg.value, '')"
        }
        // A tagged turn is a row for each of its tags.
        let tagJoin = grouping == .tag ? " LEFT JOIN json_each(u.tags) tg" : ""
        let rows = try await connection.query(
            """
            SELECT \(key) AS bucket, \(StoredValues.usageLabel(grouping)) AS label, \(StoredValues.usageSums(cast: ""))
            \(StoredValues.usageJoins)\(tagJoin)
            WHERE \(StoredValues.usageRows) AND u.created_at >= ?1 AND (?2 IS NULL OR u.user_id = ?2)
            GROUP BY bucket ORDER BY \(grouping == .day ? "bucket" : "total DESC, bucket")
            """,
            [.integer(Self.milliseconds(since)), Self.optional(userID)])
        return rows.map { StoredValues.usageBucket($0, grouping: grouping) }
    }

    /// Crash recovery: holds of turns that were running when Sluice stopped are released.
    func releaseInterruptedHolds() async throws {
        _ = try await connection.query("UPDATE token_usage SET state = 'released' WHERE state = 'held'")
    }

    /// Makes sure the user has a limits row (their plan's default limit) and rolls an ended period over.
    /// Both statements are idempotent, so racing turns may run them in any order.
    private func prepareBudget(userID: String, now: Date) async throws {
        if resetCache.covers(userID: userID, nowMs: Self.milliseconds(now)) { return }
        let next = Self.milliseconds(nextReset(after: now))
        _ = try await connection.query(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at)
            SELECT id, plan, CASE plan WHEN 'free' THEN ?1 WHEN 'pro' THEN ?2 ELSE NULL END, 0, ?3 FROM users WHERE id = ?4
            ON CONFLICT(user_id) DO NOTHING
            """,
            [
                Self.optional(Plan.free.defaultTokenLimit), Self.optional(Plan.pro.defaultTokenLimit), .integer(next),
                .text(userID),
            ])
        _ = try await connection.query(
            "UPDATE user_token_limits SET tokens_used = 0, reset_at = ?1 WHERE user_id = ?2 AND reset_at <= ?3",
            [.integer(next), .text(userID), .integer(Self.milliseconds(now))])
    }

    func nextReset(after now: Date) -> Date { StoredValues.nextReset(after: now, period: budgetPeriod) }

    /// Today's spending in `hold`'s statement (?1 the moment, ?10 the day's start) and in `budget`'s (?1, ?3).
    private static let userSpentToday = DailySpendingSQL.userSpent(user: "l.user_id", now: "?1", dayStart: "?10")
    private static let allSpentToday = DailySpendingSQL.allSpent(now: "?1", dayStart: "?10")
    private static let userSpentTodayInBudget = DailySpendingSQL.userSpent(user: "l.user_id", now: "?1", dayStart: "?3")
    /// The turn's API key's dollars left today under its own limit in `hold`'s statement (?14 the key, ?15 its limit;
    /// schema step 26).
    private static let keyLeftToday = KeySpendingSQL.left(limit: "?15", user: "l.user_id", key: "?14", now: "?1", dayStart: "?10")
    /// The conversation's end user's dollars left today in `hold`'s statement (schema step 18).
    private static let endUserLeftToday = EndUserSpendingSQL.left(
        limit: "l.end_user_daily_usd_limit_picousd", user: "l.user_id", endUser: "(SELECT name FROM turn_end_user)", now: "?1",
        dayStart: "?10")
    private static let allSpentTodayInBudget = DailySpendingSQL.allSpent(now: "?1", dayStart: "?3")
    /// The dollars left today of the user's team, if it has a limit, in `hold`'s statement (schema step 62).
    private static let teamSpentTodayInBudget = TeamSpendingSQL.spent(team: "t.id", now: "?1", dayStart: "?3")
    private static let teamSpentThisMonthInBudget = TeamSpendingSQL.monthSpent(team: "t.id", now: "?1", monthStart: "?5")
    /// The dollars the call's budgeted tags (?22, a JSON array) have left, in `hold`'s statement (schema step 67).
    private static let tagsLeft = TagSpendingSQL.sqlite.left(now: "?1", dayStart: "?10", monthStart: "?21")
    private static let teamLeftToday = TeamSpendingSQL.left(
        team: "(SELECT id FROM turn_team)", now: "?1", dayStart: "?10", monthStart: "?21", least: "MIN")
    /// Whether the turn fits in the user's limits per minute, in `hold`'s statement (schema step 19).
    private static let rateState = RateWindowSQL.stateColumns(limits: "l", now: "?1", callsOnly: true)
    private static let withinRate = RateWindowSQL.admits(input: "?9", extraAnswer: "?20")
    private static let keyRateState = KeyRateSQL.stateColumns(
        requestsPerMinute: "?16", tokensPerMinute: "?17", maxParallel: "?18", user: "l.user_id", key: "?14", now: "?1",
        callsOnly: true)
    private static let keyWithinRate = KeyRateSQL.admits(input: "?9", extraAnswer: "?20")
    /// The user's team's limits per minute and their use (schema step 63), over `teams t`, in `hold`'s and `budget`'s
    /// statements (the moment is ?1 in both).
    private static let teamRateState = TeamRateSQL.stateColumns(team: "t", now: "?1")
    private static let teamWithinRate = TeamRateSQL.admits(input: "?9", extraAnswer: "?20")
    private static let rateColumnsInBudget = RateWindowSQL.stateColumns(limits: "l", now: "?1", callsOnly: true)
}
