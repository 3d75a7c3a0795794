import Foundation

extension Migrations {
    /// Step 15: each user's dollars of each UTC day are counted in `daily_spending` — settled costs and the costs
    /// still reserved by live holds, by the day a hold was made — so that a hold under a daily dollar limit no longer
    /// sums every one of the day's `token_usage` rows: with 100 000 rows in a day that sum took 22 ms on SQLite, on
    /// the one writer (docs/benchmarks.md, "Daily dollar limits without summing the day"). A service-wide limit
    /// sums the day's rows of this table instead, one per user who spent that day.
    ///
    /// Like `tokens_held`, `held_picousd` counts every `held` row, expired or not: the expressions in
    /// `DailySpendingSQL` subtract the expired ones, found through the partial index of held rows. Triggers keep the
    /// counts on both databases (a row inserted `held`; a row leaving `held`, settled or released, whatever changes
    /// it). Rows stay when their user is deleted: what was spent that day was spent.
    static let dailySpendingStep = Step(
        version: 15,
        statements: [],
        sqliteOnly: [
            """
            CREATE TABLE daily_spending (
                day_start INTEGER NOT NULL,
                user_id TEXT NOT NULL,
                spent_picousd INTEGER NOT NULL DEFAULT 0,
                held_picousd INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (day_start, user_id)
            ) WITHOUT ROWID
            """,
            backfill,
            """
            CREATE TRIGGER token_usage_spending_held AFTER INSERT ON token_usage
            WHEN NEW.state = 'held'
            BEGIN
                INSERT INTO daily_spending (day_start, user_id, held_picousd)
                VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.user_id, NEW.reserved_cost_picousd)
                ON CONFLICT (day_start, user_id) DO UPDATE SET held_picousd = held_picousd + excluded.held_picousd;
            END
            """,
            """
            CREATE TRIGGER token_usage_spending_ended AFTER UPDATE OF state ON token_usage
            WHEN OLD.state = 'held' AND NEW.state <> 'held'
            BEGIN
                \(endedUpdate);
            END
            """,
        ],
        postgresOnly: [
            """
            CREATE TABLE daily_spending (
                day_start BIGINT NOT NULL,
                user_id TEXT NOT NULL,
                spent_picousd BIGINT NOT NULL DEFAULT 0,
                held_picousd BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (day_start, user_id)
            )
            """,
            backfill,
            """
            CREATE OR REPLACE FUNCTION sluice_count_spending() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.state = 'held' THEN
                        INSERT INTO daily_spending (day_start, user_id, held_picousd)
                        VALUES (NEW.created_at - NEW.created_at % 86400000, NEW.user_id, NEW.reserved_cost_picousd)
                        ON CONFLICT (day_start, user_id)
                        DO UPDATE SET held_picousd = daily_spending.held_picousd + excluded.held_picousd;
                    END IF;
                ELSIF OLD.state = 'held' AND NEW.state <> 'held' THEN
                    \(endedUpdate);
                END IF;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER token_usage_spending AFTER INSERT OR UPDATE OF state ON token_usage
            FOR EACH ROW EXECUTE FUNCTION sluice_count_spending()
            """,
            holdFunction(limitingEndUsers: false, limitingRates: false),
        ])

    /// Every day's counts from the ledger as it stands.
    private static let backfill = """
        INSERT INTO daily_spending (day_start, user_id, spent_picousd, held_picousd)
        SELECT created_at - created_at % 86400000, user_id,
            SUM(CASE WHEN state = 'settled' THEN cost_picousd ELSE 0 END),
            SUM(CASE WHEN state = 'held' THEN reserved_cost_picousd ELSE 0 END)
        FROM token_usage GROUP BY created_at - created_at % 86400000, user_id
        """

    /// A hold that ends gives back its reserved cost to its day, and adds what it cost when it was settled.
    private static let endedUpdate = """
        UPDATE daily_spending SET held_picousd = held_picousd - OLD.reserved_cost_picousd,
                spent_picousd = spent_picousd + CASE WHEN NEW.state = 'settled' THEN NEW.cost_picousd ELSE 0 END
            WHERE day_start = OLD.created_at - OLD.created_at % 86400000 AND user_id = OLD.user_id
        """

    /// `sluice_hold` (steps 12 and 14) with the day's dollars read from `daily_spending`; from step 18 also under the
    /// user's limit per end user (`EndUserSpendingSQL`), for a conversation that names one; from step 19 also under the
    /// user's limits per minute (`RateWindowSQL`); from step 23 it takes the turn's API key (`p_api_key`), keeps it
    /// on the ledger's row and holds the key to its own daily limit (`p_key_daily`, `KeySpendingSQL`); from step 27
    /// also to its own rate limits (`p_key_rpm`, `p_key_tpm`, `p_key_parallel`; `KeyRateSQL`); from step 36 it takes
    /// the end user of a call without a conversation (`p_end_user`); from step 52 whether the hold is an `n` call's
    /// answer after the first (`p_extra_answer`), which is not a request (`RateWindowSQL`'s `callsOnly`); from step
    /// 62 it finds the user's team, locks its row (after the service's lock, before the user's: every hold takes them
    /// in that order), holds the team to its daily and monthly limits (`TeamSpendingSQL`; the month's first day
    /// worked out from `p_day_start`) and keeps the team on the ledger's row; from step 65 it keeps the call's tags
    /// (`p_tags`); from step 67 it locks the call's budgeted tags' rows (after the team's) and holds the call to
    /// their limits (`TagSpendingSQL`).
    static func holdFunction(
        limitingEndUsers: Bool, limitingRates: Bool, recordingKeys: Bool = false, limitingKeyRates: Bool = false,
        namingEndUsers: Bool = false, countingCalls: Bool = false, limitingTeams: Bool = false,
        limitingTeamRates: Bool = false, taggingUsage: Bool = false, limitingTags: Bool = false
    ) -> String {
        let variables = (limitingEndUsers ? ["v_end_user TEXT;"] : []) + (limitingTeams ? ["v_team TEXT; v_month_start BIGINT;"] : [])
        let declarations = variables.isEmpty ? "" : "DECLARE " + variables.joined(separator: " ") + "\n"
        // Empty before step 62, as below.
        let teamLock = limitingTeams
            ? """
            SELECT u.team_id INTO v_team FROM users u WHERE u.id = p_user;
                IF v_team IS NOT NULL THEN
                    PERFORM 1 FROM teams t WHERE t.id = v_team FOR UPDATE;
                END IF;
                v_month_start := (EXTRACT(EPOCH FROM date_trunc('month', to_timestamp(p_day_start / 1000.0) AT TIME ZONE 'UTC')) * 1000)::bigint;

            """ : ""
        // Empty before step 67: the call's budgeted tags locked (in one order, as every hold takes them) and held to.
        let tagLock = limitingTags
            ? """
            IF p_tags IS NOT NULL THEN
                    PERFORM 1 FROM tag_budgets b WHERE b.tag IN (SELECT jsonb_array_elements_text(p_tags::jsonb)) ORDER BY b.tag FOR UPDATE;
                END IF;

            """ : ""
        let tagLeft = limitingTags
            ? ",\n" + TagSpendingSQL.postgres.left(now: "p_now", dayStart: "p_day_start", monthStart: "v_month_start")
            : ""
        let teamLeft = limitingTeams
            ? ",\n" + TeamSpendingSQL.left(team: "v_team", now: "p_now", dayStart: "p_day_start", monthStart: "v_month_start", least: "LEAST")
            : ""
        // Empty before step 63, as below: the team's row beside the user's, and whether the turn fits its rates.
        let teamRow = limitingTeamRates ? " LEFT JOIN teams t ON t.id = v_team" : ""
        let teamRateColumn = limitingTeamRates ? ",\n" + TeamRateSQL.stateColumns(team: "t", now: "p_now") : ""
        let teamRateAllowed = limitingTeamRates
            ? ", " + TeamRateSQL.admits(input: "p_input", extraAnswer: "p_extra_answer") + " AS team_within_rate" : ""
        let teamRateCondition = limitingTeamRates ? " AND a.team_within_rate = 1" : ""
        let teamColumn = limitingTeams ? ", team_id" : ""
        let teamValue = limitingTeams ? ", v_team" : ""
        // Empty before step 65: the call's tags (a JSON array, or NULL) on its row.
        let tagsArgument = taggingUsage ? ", p_tags TEXT" : ""
        let tagsColumn = taggingUsage ? ", tags" : ""
        let tagsValue = taggingUsage ? ", p_tags" : ""
        // From step 36 a call without a conversation names its end user (`p_end_user`), which its row keeps too.
        let conversationsEndUser = "SELECT c.end_user INTO v_end_user FROM conversations c WHERE c.id = p_conversation;\n"
        let endUserLookup = namingEndUsers
            ? "v_end_user := p_end_user;\n    IF v_end_user IS NULL THEN\n        \(conversationsEndUser)    END IF;\n"
            : limitingEndUsers ? conversationsEndUser : ""
        let endUserArgument = namingEndUsers ? ", p_end_user TEXT" : ""
        let endUserColumn = namingEndUsers ? ", end_user" : ""
        let endUserValue = namingEndUsers ? ", v_end_user" : ""
        let endUserLeft = limitingEndUsers
            ? ",\n" + EndUserSpendingSQL.left(limit: "l.end_user_daily_usd_limit_picousd", user: "l.user_id", endUser: "v_end_user", now: "p_now", dayStart: "p_day_start")
            : ""
        // Empty without rate limits, so that the shipped steps' functions stay as they were written.
        // Empty before step 52, as above.
        let extraAnswer = countingCalls ? "p_extra_answer" : nil
        let extraArgument = countingCalls ? ", p_extra_answer BIGINT" : ""
        let extraColumn = countingCalls ? ", extra_answer" : ""
        let extraValue = countingCalls ? ", p_extra_answer" : ""
        let rateColumn = limitingRates ? ",\n" + RateWindowSQL.stateColumns(limits: "l", now: "p_now", callsOnly: countingCalls) : ""
        let rateAllowed = limitingRates
            ? ", " + RateWindowSQL.admits(input: "p_input", extraAnswer: extraAnswer) + " AS within_rate" : ""
        let rateCondition = limitingRates ? " AND a.within_rate = 1" : ""
        let rateReturned = limitingRates ? ", rate_state TEXT" : ""
        let rateSelected = limitingRates ? ", (SELECT \(RateWindowSQL.packedState) FROM budget)" : ""
        // Empty before step 23, as above.
        let keyArgument = recordingKeys ? ", p_api_key TEXT, p_key_daily BIGINT" : ""
        let keyLeft = recordingKeys
            ? ",\n" + KeySpendingSQL.left(limit: "p_key_daily", user: "l.user_id", key: "p_api_key", now: "p_now", dayStart: "p_day_start")
            : ""
        let keyColumn = recordingKeys ? ", api_key_id" : ""
        let keyValue = recordingKeys ? ", p_api_key" : ""
        // Empty before step 27, as above.
        let keyRateArguments = limitingKeyRates ? ", p_key_rpm BIGINT, p_key_tpm BIGINT, p_key_parallel BIGINT" : ""
        let keyRateColumn = limitingKeyRates
            ? ",\n" + KeyRateSQL.stateColumns(
                requestsPerMinute: "p_key_rpm", tokensPerMinute: "p_key_tpm", maxParallel: "p_key_parallel", user: "l.user_id",
                key: "p_api_key", now: "p_now", callsOnly: countingCalls)
            : ""
        let keyRateAllowed = limitingKeyRates
            ? ", " + KeyRateSQL.admits(input: "p_input", extraAnswer: extraAnswer) + " AS key_within_rate" : ""
        let keyRateCondition = limitingKeyRates ? " AND a.key_within_rate = 1" : ""
        let keyRateReturned = limitingKeyRates ? ", key_rate_state TEXT" : ""
        let keyRateSelected = limitingKeyRates ? ", (SELECT \(KeyRateSQL.packedState) FROM budget)" : ""
        return """
        CREATE OR REPLACE FUNCTION sluice_hold(
            p_id TEXT, p_user TEXT, p_conversation TEXT, p_message TEXT, p_model TEXT, p_now BIGINT,
            p_expires BIGINT, p_day_start BIGINT, p_wanted BIGINT, p_input BIGINT, p_input_cost BIGINT,
            p_output_price BIGINT, p_global BIGINT, p_global_lock BIGINT\(keyArgument)\(keyRateArguments)\(endUserArgument)\(extraArgument)\(tagsArgument))
        RETURNS TABLE (held_tokens BIGINT, unlimited INT, reset_at_ms BIGINT\(rateReturned)\(keyRateReturned))
        LANGUAGE plpgsql VOLATILE AS $$
        \(declarations)BEGIN
            IF p_global IS NOT NULL THEN
                PERFORM pg_advisory_xact_lock(p_global_lock);
            END IF;
            \(teamLock)\(tagLock)PERFORM 1 FROM user_token_limits l WHERE l.user_id = p_user FOR UPDATE;
            \(endUserLookup)            RETURN QUERY
            WITH budget AS MATERIALIZED (
                SELECT
                    COALESCE(l.token_limit - l.tokens_used - (l.tokens_held - COALESCE((
                        SELECT SUM(u.reserved_tokens)::bigint FROM token_usage u
                        WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at <= p_now), 0)), p_wanted) AS tokens_left,
                    LEAST(
                        COALESCE(l.daily_usd_limit_picousd - (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE \(
                            DailySpendingSQL.userSpent(user: "l.user_id", now: "p_now", dayStart: "p_day_start")) END), 9000000000000000000),
                        COALESCE(p_global - (CASE WHEN p_global IS NULL THEN 0 ELSE \(
                            DailySpendingSQL.allSpent(now: "p_now", dayStart: "p_day_start")) END), 9000000000000000000)\(endUserLeft)\(keyLeft)\(teamLeft)\(tagLeft)) AS dollars_left\(rateColumn)\(keyRateColumn)\(teamRateColumn)
                FROM user_token_limits l\(teamRow) WHERE l.user_id = p_user
            ), allowed AS (
                SELECT LEAST(p_wanted, b.tokens_left,
                        CASE WHEN p_output_price > 0 THEN p_input + (b.dollars_left - p_input_cost) / p_output_price ELSE p_wanted END
                    ) AS tokens, b.dollars_left\(rateAllowed)\(keyRateAllowed)\(teamRateAllowed)
                FROM budget b
            ), inserted AS (
                INSERT INTO token_usage (id, user_id, conversation_id, message_id, model, state, reserved_tokens,
                    created_at, expires_at, reserved_cost_picousd\(keyColumn)\(endUserColumn)\(extraColumn)\(teamColumn)\(tagsColumn))
                SELECT p_id, p_user, p_conversation, p_message, p_model, 'held', a.tokens, p_now, p_expires,
                    p_input_cost + (a.tokens - p_input) * p_output_price\(keyValue)\(endUserValue)\(extraValue)\(teamValue)\(tagsValue)
                FROM allowed a
                WHERE a.tokens >= p_input + 1 AND a.dollars_left >= p_input_cost + p_output_price\(rateCondition)\(keyRateCondition)\(teamRateCondition)
                RETURNING token_usage.reserved_tokens
            ), counted AS (
                UPDATE user_token_limits c SET tokens_held = c.tokens_held + i.reserved_tokens
                FROM inserted i WHERE c.user_id = p_user
            )
            SELECT i.reserved_tokens, (l.token_limit IS NULL)::int, l.reset_at\(rateSelected)\(keyRateSelected)
            FROM inserted i, user_token_limits l WHERE l.user_id = p_user;
        END
        $$
        """
    }
}

/// What a user, or the whole service, has spent on a day so far, in picodollars, as SQL expressions over
/// `daily_spending` (schema step 15): settled costs plus the costs reserved by live holds. Each takes the SQL of the
/// moment (`now`, milliseconds) and of the day's start; both databases run them as written (PostgreSQL's `SUM` of
/// a `BIGINT` is a `numeric`, hence the casts).
enum DailySpendingSQL {
    /// The day's spending of the user whose id is the SQL expression `user`.
    static func userSpent(user: String, now: String, dayStart: String) -> String {
        """
        (COALESCE((SELECT d.spent_picousd + d.held_picousd FROM daily_spending d
                WHERE d.day_start = \(dayStart) AND d.user_id = \(user)), 0)
            - \(expiredHolds(now: now, dayStart: dayStart, extraCondition: "u.user_id = \(user) AND ")))
        """
    }

    /// The day's spending of every user together: one row per user who spent that day.
    static func allSpent(now: String, dayStart: String) -> String {
        """
        (COALESCE((SELECT CAST(SUM(d.spent_picousd + d.held_picousd) AS BIGINT) FROM daily_spending d WHERE d.day_start = \(dayStart)), 0)
            - \(expiredHolds(now: now, dayStart: dayStart, extraCondition: "")))
        """
    }

    /// The day's holds that are still `held` but past their `expires_at` (a crashed turn's, almost always none),
    /// which no longer count. `+u.created_at` keeps the planners on the small partial index of held rows rather than
    /// the index of every row by day.
    private static func expiredHolds(now: String, dayStart: String, extraCondition: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(u.reserved_cost_picousd) AS BIGINT) FROM token_usage u
                WHERE \(extraCondition)u.state = 'held' AND u.expires_at <= \(now) AND +u.created_at >= \(dayStart)), 0)
        """
    }
}
