import Foundation
import PostgresNIO
import SluiceCore

/// Token budgets on PostgreSQL, shared by every instance. A hold is one transaction that first locks the user's
/// limits row (and, with a service-wide dollar limit, a service-wide advisory lock), so holds for one budget run
/// one at a time across all instances and each sees every hold committed before it: together they can never
/// overspend. A settle updates the ledger row and the user's `tokens_used` and `tokens_held` in one statement.
extension PostgresStore {
    /// The advisory lock that serialises holds when the whole service has a daily dollar limit.
    static let globalBudgetLock = 7_362_838

    public func hold(_ request: HoldRequest, now: Date) async throws -> BudgetHold? {
        try await prepareBudget(userID: request.userID, now: now)
        let id = Identifier.make()
        let nowMs = StoredValues.milliseconds(now)
        let dayStart = StoredValues.milliseconds(StoredValues.dayStart(now))
        let wanted = request.inputTokens + request.wantedOutput
        let input = request.inputTokens
        // At the highest rate a prompt token may cost (a cache write may cost more than plain input).
        let inputCost = Int(request.price.mostPerInputToken.picodollars) * request.inputTokens
        let outputPrice = Int(request.price.outputPerToken.picodollars)
        let expires = nowMs + Int(request.expiresAfter * 1000)
        let userID = request.userID
        // The user's row lock and the insert, with SQLiteStore.hold's arithmetic, are one call (schema steps 12–15):
        // every turn of this user waits for that lock, held from here to the commit.
        let arguments = HoldStatement.Arguments(
            id: id, userID: userID, conversationID: request.conversationID, messageID: request.messageID,
            model: request.model, now: nowMs, expires: expires, dayStart: dayStart, wanted: wanted, input: input,
            inputCost: inputCost, outputPrice: outputPrice, globalLimit: globalDailyLimit.map { Int($0.picodollars) },
            globalLock: Self.globalBudgetLock, apiKeyID: request.apiKeyID,
            apiKeyDailyLimit: request.apiKeyDailyLimit.map { Int($0.picodollars) }, apiKeyRateCaps: request.apiKeyRateCaps,
            endUser: request.endUser, extraAnswer: request.extraAnswer, tags: StoredValues.tagsJSON(request.tags))
        // The user's message first, committed on its own: it needs no lock, and it is kept whether the hold is
        // granted or not (and when the hold fails, which the launcher then finds stored).
        if let prelude = request.prelude { try await store(prelude) }
        // Then the lock, the hold and the answer's row as one autocommitted statement: the lock is released by the
        // commit inside the same round trip. In one transaction with the message, it was held across two more round
        // trips to Sluice (the hold's answer, then COMMIT), and every other turn of the user waited for them.
        let rows = if let answer = request.answer {
            try await run(HoldWithAnswerStatement(arguments, answer: answer, writer: instanceID))
        } else {
            try await run(HoldStatement(arguments))
        }
        let held = rows.first.flatMap { row -> (reserved: Int, unlimited: Bool, resetAt: Int?, rates: String?, keyRates: String?)? in
            guard let reserved = row.int("held_tokens") else { return nil }
            return (reserved, (row.int("unlimited") ?? 0) != 0, row.int("reset_at_ms"), row.string("rate_state"), row.string("key_rate_state"))
        }
        guard let held else { return nil }
        resetCache.remember(userID: userID, resetAtMs: held.resetAt)
        return BudgetHold(
            id: id, userID: request.userID, reservedTokens: held.reserved,
            outputAllowance: held.unlimited && held.reserved >= wanted ? nil : held.reserved - request.inputTokens,
            rateLimits: StoredValues.rateLimits(
                packed: held.rates, reservedTokens: held.reserved, nowMs: nowMs, request: !request.extraAnswer),
            keyRateLimits: StoredValues.rateLimits(
                packed: held.keyRates, reservedTokens: held.reserved, nowMs: nowMs, request: !request.extraAnswer))
    }

    /// A hold's prelude: one message (with its new conversation, when it starts one) as a prepared statement, which
    /// is every web turn and every gateway call without earlier turns to store; a history as `creation` stores it.
    private func store(_ prelude: HoldPrelude) async throws {
        guard prelude.messages.count == 1, let message = prelude.messages.first else {
            return try await commit(creation(of: prelude.conversation, messages: prelude.messages))
        }
        if let conversation = prelude.conversation {
            try await run(ConversationStartStatement(conversation, message: message, writer: instanceID))
        } else {
            try await run(MessageInsertStatement(message, writer: instanceID))
        }
    }

    public func settle(
        holdID: String, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int, cost: USDAmount, now: Date,
        finishing answer: AnswerFinish?, saved: CacheSavings?
    ) async throws {
        try await run(SettleStatement(
            hold: (holdID, inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedInputTokens, cost: cost),
            answer: answer, saved: saved))
    }

    public func budget(userID: String, now: Date) async throws -> BudgetState {
        try await prepareBudget(userID: userID, now: now)
        guard let row = try await budgetRows(userID: userID, now: now).first else { throw StoreError.notFound }
        resetCache.remember(userID: userID, resetAtMs: row.int("reset_at"))
        return StoredValues.budgetState(row, now: now, globalDailyLimit: globalDailyLimit)
    }

    public func budgets(now: Date) async throws -> [String: BudgetState] {
        // `prepareBudget` for everyone in two statements: the missing limits rows made, the ended periods rolled over.
        let next = StoredValues.milliseconds(StoredValues.nextReset(after: now, period: budgetPeriod))
        try await execute(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at)
            SELECT id, plan, CASE plan WHEN 'free' THEN \(Plan.free.defaultTokenLimit)::bigint
                WHEN 'pro' THEN \(Plan.pro.defaultTokenLimit)::bigint ELSE NULL END, 0, \(next)
            FROM users WHERE deleted_at IS NULL
            ON CONFLICT (user_id) DO NOTHING
            """, logger: logger)
        try await execute(
            "UPDATE user_token_limits SET tokens_used = 0, reset_at = \(next) WHERE reset_at <= \(StoredValues.milliseconds(now))",
            logger: logger)
        let rows = try await budgetRows(userID: nil, now: now)
        return Dictionary(
            rows.map { ($0.text("user_id"), StoredValues.budgetState($0, now: now, globalDailyLimit: globalDailyLimit)) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The budget row of the user, or with `nil` of everyone. The statement is planned with its values (postgres-nio's
    /// unnamed statements), so one user's reads only that user's row.
    private func budgetRows(userID: String?, now: Date) async throws -> [PostgresRandomAccessRow] {
        let nowMs = StoredValues.milliseconds(now)
        let dayStart = StoredValues.milliseconds(StoredValues.dayStart(now))
        let global = globalDailyLimit.map { Int($0.picodollars) }
        // Both moments are integers of ours, written into the SQL text (schema step 15's expressions).
        let userSpent = DailySpendingSQL.userSpent(user: "l.user_id", now: "\(nowMs)", dayStart: "\(dayStart)")
        let allSpent = DailySpendingSQL.allSpent(now: "\(nowMs)", dayStart: "\(dayStart)")
        let teamSpent = TeamSpendingSQL.spent(team: "t.id", now: "\(nowMs)", dayStart: "\(dayStart)")
        let teamMonthSpent = TeamSpendingSQL.monthSpent(
            team: "t.id", now: "\(nowMs)", monthStart: "\(StoredValues.milliseconds(UTCMonth.start(of: now)))")
        return try await rows(
            """
            SELECT l.user_id, l.plan, l.token_limit, l.reset_at, l.daily_usd_limit_picousd, l.end_user_daily_usd_limit_picousd,
                \(unescaped: RateWindowSQL.stateColumns(limits: "l", now: "\(nowMs)", callsOnly: true)),
                l.tokens_used + l.tokens_held - COALESCE((
                    SELECT SUM(u.reserved_tokens)::bigint FROM token_usage u
                    WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at <= \(nowMs)), 0) AS used,
                (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(unescaped: userSpent) END) AS user_spent,
                (CASE WHEN \(global)::bigint IS NULL THEN 0 ELSE \(unescaped: allSpent) END) AS all_spent,
                t.name AS team_name, t.daily_usd_limit_picousd AS team_limit, t.monthly_usd_limit_picousd AS team_monthly_limit,
                (CASE WHEN t.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(unescaped: teamSpent) END) AS team_spent,
                (CASE WHEN t.monthly_usd_limit_picousd IS NULL THEN 0 ELSE \(unescaped: teamMonthSpent) END) AS team_month_spent,
                \(unescaped: TeamRateSQL.stateColumns(team: "t", now: "\(nowMs)"))
            FROM user_token_limits l JOIN users us ON us.id = l.user_id LEFT JOIN teams t ON t.id = us.team_id
            WHERE (\(userID)::text IS NULL OR l.user_id = \(userID))
            """)
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
        var bindings = PostgresBindings()
        bindings.append(value)
        bindings.append(userID)
        try await execute(
            PostgresQuery(unsafeSQL: "UPDATE user_token_limits SET \(column) = $1::bigint WHERE user_id = $2", binds: bindings),
            logger: logger)
    }

    public func endUserBudget(userID: String, endUser: String, now: Date) async throws -> DollarBudget? {
        try await prepareBudget(userID: userID, now: now)
        let nowMs = StoredValues.milliseconds(now)
        let dayStart = StoredValues.milliseconds(StoredValues.dayStart(now))
        // The moments are integers of ours, written into the SQL text; the end user is bound.
        let spent = EndUserSpendingSQL.spent(user: "l.user_id", endUser: "$2", now: "\(nowMs)", dayStart: "\(dayStart)")
        var bindings = PostgresBindings()
        bindings.append(userID)
        bindings.append(endUser)
        let rows = try await rows(PostgresQuery(
            unsafeSQL: "SELECT l.end_user_daily_usd_limit_picousd AS lim, \(spent) AS spent FROM user_token_limits l WHERE l.user_id = $1",
            binds: bindings))
        return StoredValues.endUserBudget(rows.first, now: now)
    }

    public func apiKeySpentToday(userID: String, apiKeyID: String, now: Date) async throws -> USDAmount {
        // The moments are integers of ours, written into the SQL text; the ids are bound.
        let spent = KeySpendingSQL.spent(
            user: "$1", key: "$2", now: "\(StoredValues.milliseconds(now))",
            dayStart: "\(StoredValues.milliseconds(StoredValues.dayStart(now)))")
        var bindings = PostgresBindings()
        bindings.append(userID)
        bindings.append(apiKeyID)
        let rows = try await rows(PostgresQuery(unsafeSQL: "SELECT \(spent) AS spent", binds: bindings))
        return USDAmount(picodollars: Int64(rows.first?.int("spent") ?? 0))
    }

    public func apiKeyRateLimits(userID: String, apiKeyID: String, caps: RateCaps, now: Date) async throws -> RateLimits? {
        guard !caps.isEmpty else { return nil }
        // The limits and the moment are integers of ours, written into the SQL text; the ids are bound.
        let limit = { (value: Int?) in value.map { "\($0)::bigint" } ?? "NULL::bigint" }
        let columns = KeyRateSQL.stateColumns(
            requestsPerMinute: limit(caps.requestsPerMinute), tokensPerMinute: limit(caps.tokensPerMinute),
            maxParallel: limit(caps.maxParallel), user: "$1", key: "$2", now: "\(StoredValues.milliseconds(now))",
            callsOnly: true)
        var bindings = PostgresBindings()
        bindings.append(userID)
        bindings.append(apiKeyID)
        let rows = try await rows(PostgresQuery(unsafeSQL: "SELECT \(columns)", binds: bindings))
        return rows.first.flatMap { StoredValues.rateLimits($0, prefix: "key_") }
    }

    public func setPlan(userID: String, plan: Plan, tokenLimit: Int?) async throws {
        let limit = tokenLimit ?? plan.defaultTokenLimit
        let reset = StoredValues.milliseconds(StoredValues.nextReset(after: Date(), period: budgetPeriod))
        try await execute("UPDATE users SET plan = \(plan.rawValue) WHERE id = \(userID)", logger: logger)
        try await execute(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at)
            VALUES (\(userID), \(plan.rawValue), \(limit)::bigint, 0, \(reset))
            ON CONFLICT (user_id) DO UPDATE SET plan = excluded.plan, token_limit = excluded.token_limit
            """, logger: logger)
    }

    public func resetBudget(userID: String, now: Date) async throws {
        try await prepareBudget(userID: userID, now: now)
        let reset = StoredValues.milliseconds(StoredValues.nextReset(after: now, period: budgetPeriod))
        try await execute(
            "UPDATE user_token_limits SET tokens_used = 0, reset_at = \(reset) WHERE user_id = \(userID)", logger: logger)
    }

    public func conversationTokens(conversationID: String) async throws -> Int {
        try await rows(
            """
            SELECT COALESCE(SUM(total_tokens), 0)::bigint AS total FROM token_usage
            WHERE conversation_id = \(conversationID) AND state = 'settled'
            """
        ).first?.int("total") ?? 0
    }

    public func usageHistory(userID: String?, since: Date, groupedBy grouping: UsageGrouping) async throws -> [UsageBucket] {
        let key: String
        switch grouping {
        case .day: key = "to_char(to_timestamp(u.created_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
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
        let tagJoin = grouping == .tag ? " LEFT JOIN LATERAL jsonb_array_elements_text(u.tags::jsonb) AS tg(value) ON true" : ""
        return try await rows(
            """
            SELECT \(unescaped: key) AS bucket, \(unescaped: StoredValues.usageLabel(grouping)) AS label,
                \(unescaped: StoredValues.usageSums(cast: "::bigint"))
            \(unescaped: StoredValues.usageJoins)\(unescaped: tagJoin)
            WHERE \(unescaped: StoredValues.usageRows) AND u.created_at >= \(StoredValues.milliseconds(since))
                AND (\(userID)::text IS NULL OR u.user_id = \(userID))
            GROUP BY bucket ORDER BY \(unescaped: grouping == .day ? "bucket" : "total DESC, bucket")
            """
        ).map { StoredValues.usageBucket($0, grouping: grouping) }
    }

    /// Makes sure the user has a limits row (their plan's default limit) and rolls an ended period over.
    /// Both statements are idempotent, so racing turns on any instance may run them in any order.
    private func prepareBudget(userID: String, now: Date) async throws {
        if resetCache.covers(userID: userID, nowMs: StoredValues.milliseconds(now)) { return }
        let next = StoredValues.milliseconds(StoredValues.nextReset(after: now, period: budgetPeriod))
        try await execute(
            """
            INSERT INTO user_token_limits (user_id, plan, token_limit, tokens_used, reset_at)
            SELECT id, plan, CASE plan WHEN 'free' THEN \(Plan.free.defaultTokenLimit)::bigint
                WHEN 'pro' THEN \(Plan.pro.defaultTokenLimit)::bigint ELSE NULL END, 0, \(next)
            FROM users WHERE id = \(userID)
            ON CONFLICT (user_id) DO NOTHING
            """, logger: logger)
        try await execute(
            """
            UPDATE user_token_limits SET tokens_used = 0, reset_at = \(next)
            WHERE user_id = \(userID) AND reset_at <= \(StoredValues.milliseconds(now))
            """, logger: logger)
    }
}
