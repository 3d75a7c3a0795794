import Foundation

/// The SQL dialects Sluice stores speak.
enum SQLDialect {
    case sqlite
    case postgres
}

/// The schema, as numbered steps shared by SQLite and PostgreSQL. Never edit a step that has shipped; append a
/// new one. Statements are written once; for PostgreSQL every `INTEGER` becomes `BIGINT` (times are
/// milliseconds and money picodollars, beyond 32 bits), and a step may add statements for one dialect only.
enum Migrations {
    struct Step {
        let version: Int
        let statements: [String]
        var sqliteOnly: [String] = []
        var postgresOnly: [String] = []
    }

    /// The statements of every step, in order, as `dialect` runs them.
    static func steps(for dialect: SQLDialect) -> [(version: Int, statements: [String])] {
        steps.map { step in
            switch dialect {
            case .sqlite:
                return (step.version, step.statements + step.sqliteOnly)
            case .postgres:
                let widened = step.statements.map {
                    $0.replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
                }
                return (step.version, widened + step.postgresOnly)
            }
        }
    }

    /// Every step in order: steps 1–13 below, later ones each in a file of its own (`Migrations+HeldTokens.swift`,
    /// `Migrations+DailySpending.swift`, `Migrations+EndUser.swift`, `Migrations+EndUserLimits.swift`).
    static let steps: [Step] = firstSteps + [heldTokensStep, dailySpendingStep, endUserStep, endUserLedgerStep, endUserLimitsStep, rateLimitsStep, modelAccessStep, apiKeysStep, toolCallsStep, apiKeyLedgerStep, apiKeyExpiryStep, apiKeyModelsStep, apiKeyDailyLimitStep, apiKeyRateLimitsStep, responseCacheStep, cacheSavingsStep, pinnedAndArchivedStep, circuitCooldownsStep, feedbackStep, promptCacheStep, attachmentsStep, branchesStep, callEndUsersStep, unkeptConversationsStep, reasoningStep, imagesStep, userInstructionsStep, signedThinkingStep, sharedLinksStep, editedAnswersStep, autoTitlesStep, projectsStep, savedPromptsStep, branchedFromStep, listIndexesStep, stopRequestsStep, answerSourcesStep, conversationParametersStep, extraAnswersStep, adminsStep, suspendedUsersStep, deletedUsersStep, signInStep, pendingUsersStep, sessionOriginsStep, signInAttemptsStep, twoStepStep, securityLogStep, teamsStep, teamRateLimitsStep, auditLogStep, usageTagsStep, keyTagsStep, tagBudgetsStep, memoriesStep, identitiesStep, personalDataStep]

    private static let firstSteps: [Step] = [
        Step(
            version: 1,
            statements: [
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE,
                    plan TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE conversations (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    title TEXT NOT NULL,
                    model TEXT NOT NULL,
                    system_prompt TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX conversations_by_user ON conversations(user_id, updated_at DESC)",
                """
                CREATE TABLE messages (
                    id TEXT PRIMARY KEY,
                    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    content TEXT NOT NULL,
                    status TEXT NOT NULL,
                    model TEXT,
                    created_at INTEGER NOT NULL,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    total_tokens INTEGER,
                    ttft_ms INTEGER,
                    duration_ms INTEGER,
                    finish_reason TEXT,
                    error TEXT
                )
                """,
                "CREATE INDEX messages_by_conversation ON messages(conversation_id, created_at)",
                "CREATE INDEX messages_by_status ON messages(status)",
            ],
            // SQLite orders rows of equal time by `rowid`; PostgreSQL has none, so it gets an insertion counter.
            postgresOnly: [
                "ALTER TABLE conversations ADD COLUMN seq BIGSERIAL",
                "ALTER TABLE messages ADD COLUMN seq BIGSERIAL",
            ]),
        // Token boundaries (for resuming a stream from any event id) and the error code of failed answers.
        Step(
            version: 2,
            statements: [
                "ALTER TABLE messages ADD COLUMN token_ends TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE messages ADD COLUMN error_code TEXT",
            ]),
        // Versions of regenerated answers.
        Step(
            version: 3,
            statements: [
                "ALTER TABLE messages ADD COLUMN version_group TEXT",
                "ALTER TABLE messages ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0",
                "CREATE INDEX messages_by_version_group ON messages(version_group)",
            ]),
        // Where usage figures come from, and Sluice's own counts beside the provider's.
        Step(
            version: 4,
            statements: [
                "ALTER TABLE messages ADD COLUMN usage_source TEXT",
                "ALTER TABLE messages ADD COLUMN counted_input_tokens INTEGER",
                "ALTER TABLE messages ADD COLUMN counted_output_tokens INTEGER",
            ]),
        // Token budgets and the usage ledger. A turn's row is `held` (reserved_tokens count against the
        // budget until expires_at) and becomes `settled` (its total counts, via the trigger, in tokens_used)
        // or `released`. Each change is one statement, so concurrent turns can never overspend.
        Step(
            version: 5,
            statements: [
                """
                CREATE TABLE user_token_limits (
                    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    plan TEXT NOT NULL,
                    token_limit INTEGER,
                    tokens_used INTEGER NOT NULL DEFAULT 0,
                    reset_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE token_usage (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    conversation_id TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    model TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reserved_tokens INTEGER NOT NULL,
                    input_tokens INTEGER NOT NULL DEFAULT 0,
                    output_tokens INTEGER NOT NULL DEFAULT 0,
                    total_tokens INTEGER NOT NULL DEFAULT 0,
                    cost_picousd INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX token_usage_by_user ON token_usage(user_id, created_at)",
                "CREATE INDEX token_usage_held ON token_usage(user_id, state, expires_at)",
                "CREATE INDEX token_usage_by_conversation ON token_usage(conversation_id)",
            ],
            // PostgreSQL's settle adds to tokens_used in the same statement (a data-modifying CTE) instead.
            sqliteOnly: [
                """
                CREATE TRIGGER token_usage_settled AFTER UPDATE OF state ON token_usage
                WHEN OLD.state = 'held' AND NEW.state = 'settled'
                BEGIN
                    UPDATE user_token_limits SET tokens_used = tokens_used + NEW.total_tokens WHERE user_id = NEW.user_id;
                END
                """,
            ]),
        // Daily dollar budgets: a user's limit, and the most each running turn may still cost.
        Step(
            version: 6,
            statements: [
                "ALTER TABLE user_token_limits ADD COLUMN daily_usd_limit_picousd INTEGER",
                "ALTER TABLE token_usage ADD COLUMN reserved_cost_picousd INTEGER NOT NULL DEFAULT 0",
                "CREATE INDEX token_usage_by_day ON token_usage(created_at)",
            ]),
        // Context management: how each message is treated (auto, pinned, excluded) and a running summary per
        // conversation with the ids of the messages folded into it.
        Step(
            version: 7,
            statements: [
                "ALTER TABLE messages ADD COLUMN context_mode TEXT NOT NULL DEFAULT 'auto'",
                """
                CREATE TABLE conversation_summaries (
                    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
                    text TEXT NOT NULL,
                    covered_ids TEXT NOT NULL,
                    model TEXT,
                    updated_at INTEGER NOT NULL
                )
                """,
            ]),
        // Several instances on one database: which instance writes an answer, and when each instance was last
        // seen alive, so that one instance's start or sweep marks only a dead instance's answers interrupted.
        Step(
            version: 8,
            statements: [
                "ALTER TABLE messages ADD COLUMN writer TEXT",
                "CREATE TABLE sluice_instances (id TEXT PRIMARY KEY, started_at INTEGER NOT NULL, seen_at INTEGER NOT NULL)",
            ]),
        // A message's insert touches its conversation by trigger, so that storing a message is one statement.
        // (PostgreSQL does both in one statement with a data-modifying CTE instead.)
        Step(
            version: 9,
            statements: [],
            sqliteOnly: [
                """
                CREATE TRIGGER messages_touch_conversation AFTER INSERT ON messages
                BEGIN
                    UPDATE conversations SET updated_at = NEW.created_at WHERE id = NEW.conversation_id;
                END
                """,
            ]),
        // The gateway continues a conversation when a call's history is that conversation as it last ended
        // (`thread_key`: a digest of its system prompt and messages), instead of storing the history again.
        Step(
            version: 10,
            statements: [
                "ALTER TABLE conversations ADD COLUMN thread_key TEXT",
                "CREATE INDEX conversations_by_thread ON conversations(user_id, thread_key)",
            ]),
        // Indexes that every turn wrote twice but that are read for one value only become partial: answers still
        // being written (the startup sweep), live holds (every budget check), regenerated answers' groups. A
        // turn's writes then touch three index pages fewer: a complete message, a settled hold and a first answer
        // are in none of them, and a status change is one removal instead of a removal and an insertion.
        Step(
            version: 11,
            statements: [
                "DROP INDEX messages_by_status",
                "CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming'",
                "DROP INDEX token_usage_held",
                "CREATE INDEX token_usage_held ON token_usage(user_id, expires_at) WHERE state = 'held'",
                "DROP INDEX messages_by_version_group",
                "CREATE INDEX messages_by_version_group ON messages(version_group) WHERE version_group IS NOT NULL",
            ]),
        // PostgreSQL: a budget hold's lock and insert in one call (`PostgresStore.hold`). Every turn of one user
        // waits for that user's row lock, and it was held across three round trips (the lock's answer, the
        // insert, the answer's row) and the commit; now across one and the commit, and the insert's plan is
        // kept by the function instead of being made again each time. The lock is its own statement inside:
        // at READ COMMITTED the insert must start after it, so that it sees the holds committed while it waited.
        // The arithmetic is SQLiteStore.hold's.
        Step(
            version: 12,
            statements: [],
            postgresOnly: [
                """
                CREATE FUNCTION sluice_hold(
                    p_id TEXT, p_user TEXT, p_conversation TEXT, p_message TEXT, p_model TEXT, p_now BIGINT,
                    p_expires BIGINT, p_day_start BIGINT, p_wanted BIGINT, p_input BIGINT, p_input_cost BIGINT,
                    p_output_price BIGINT, p_global BIGINT, p_global_lock BIGINT)
                RETURNS TABLE (held_tokens BIGINT, unlimited INT, reset_at_ms BIGINT)
                LANGUAGE plpgsql VOLATILE AS $$
                BEGIN
                    IF p_global IS NOT NULL THEN
                        PERFORM pg_advisory_xact_lock(p_global_lock);
                    END IF;
                    PERFORM 1 FROM user_token_limits l WHERE l.user_id = p_user FOR UPDATE;
                    RETURN QUERY
                    WITH spending AS (
                        SELECT u.user_id, CASE WHEN u.state = 'settled' THEN u.cost_picousd ELSE u.reserved_cost_picousd END AS cost
                        FROM token_usage u
                        WHERE u.created_at >= p_day_start AND (u.state = 'settled' OR (u.state = 'held' AND u.expires_at > p_now))
                    ), budget AS (
                        SELECT
                            COALESCE(l.token_limit - l.tokens_used - COALESCE((
                                SELECT SUM(u.reserved_tokens)::bigint FROM token_usage u
                                WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at > p_now), 0), p_wanted) AS tokens_left,
                            LEAST(
                                COALESCE(l.daily_usd_limit_picousd - (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE COALESCE((SELECT SUM(s.cost)::bigint FROM spending s WHERE s.user_id = l.user_id), 0) END), 9000000000000000000),
                                COALESCE(p_global - (CASE WHEN p_global IS NULL THEN 0 ELSE COALESCE((SELECT SUM(s.cost)::bigint FROM spending s), 0) END), 9000000000000000000)) AS dollars_left
                        FROM user_token_limits l WHERE l.user_id = p_user
                    ), allowed AS (
                        SELECT LEAST(p_wanted, b.tokens_left,
                                CASE WHEN p_output_price > 0 THEN p_input + (b.dollars_left - p_input_cost) / p_output_price ELSE p_wanted END
                            ) AS tokens, b.dollars_left
                        FROM budget b
                    ), inserted AS (
                        INSERT INTO token_usage (id, user_id, conversation_id, message_id, model, state, reserved_tokens,
                            created_at, expires_at, reserved_cost_picousd)
                        SELECT p_id, p_user, p_conversation, p_message, p_model, 'held', a.tokens, p_now, p_expires,
                            p_input_cost + (a.tokens - p_input) * p_output_price
                        FROM allowed a
                        WHERE a.tokens >= p_input + 1 AND a.dollars_left >= p_input_cost + p_output_price
                        RETURNING token_usage.reserved_tokens
                    )
                    SELECT i.reserved_tokens, (l.token_limit IS NULL)::int, l.reset_at
                    FROM inserted i, user_token_limits l WHERE l.user_id = p_user;
                END
                $$
                """,
            ]),
        // PostgreSQL: the same function with its `budget` MATERIALIZED. Inlined, the planner copied the sum over
        // the user's live holds into every use of tokens_left and dollars_left, and the hold runs under the user's
        // row lock, which every turn of that user waits for: 685 → 268 µs per hold among 1 000 live ones, 258 →
        // 146 among 10 (SQLiteStore.hold's statement has the same change).
        Step(
            version: 13,
            statements: [],
            postgresOnly: [
                """
                CREATE OR REPLACE FUNCTION sluice_hold(
                    p_id TEXT, p_user TEXT, p_conversation TEXT, p_message TEXT, p_model TEXT, p_now BIGINT,
                    p_expires BIGINT, p_day_start BIGINT, p_wanted BIGINT, p_input BIGINT, p_input_cost BIGINT,
                    p_output_price BIGINT, p_global BIGINT, p_global_lock BIGINT)
                RETURNS TABLE (held_tokens BIGINT, unlimited INT, reset_at_ms BIGINT)
                LANGUAGE plpgsql VOLATILE AS $$
                BEGIN
                    IF p_global IS NOT NULL THEN
                        PERFORM pg_advisory_xact_lock(p_global_lock);
                    END IF;
                    PERFORM 1 FROM user_token_limits l WHERE l.user_id = p_user FOR UPDATE;
                    RETURN QUERY
                    WITH spending AS (
                        SELECT u.user_id, CASE WHEN u.state = 'settled' THEN u.cost_picousd ELSE u.reserved_cost_picousd END AS cost
                        FROM token_usage u
                        WHERE u.created_at >= p_day_start AND (u.state = 'settled' OR (u.state = 'held' AND u.expires_at > p_now))
                    ), budget AS MATERIALIZED (
                        SELECT
                            COALESCE(l.token_limit - l.tokens_used - COALESCE((
                                SELECT SUM(u.reserved_tokens)::bigint FROM token_usage u
                                WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at > p_now), 0), p_wanted) AS tokens_left,
                            LEAST(
                                COALESCE(l.daily_usd_limit_picousd - (CASE WHEN l.daily_usd_limit_picousd IS NULL THEN 0 ELSE COALESCE((SELECT SUM(s.cost)::bigint FROM spending s WHERE s.user_id = l.user_id), 0) END), 9000000000000000000),
                                COALESCE(p_global - (CASE WHEN p_global IS NULL THEN 0 ELSE COALESCE((SELECT SUM(s.cost)::bigint FROM spending s), 0) END), 9000000000000000000)) AS dollars_left
                        FROM user_token_limits l WHERE l.user_id = p_user
                    ), allowed AS (
                        SELECT LEAST(p_wanted, b.tokens_left,
                                CASE WHEN p_output_price > 0 THEN p_input + (b.dollars_left - p_input_cost) / p_output_price ELSE p_wanted END
                            ) AS tokens, b.dollars_left
                        FROM budget b
                    ), inserted AS (
                        INSERT INTO token_usage (id, user_id, conversation_id, message_id, model, state, reserved_tokens,
                            created_at, expires_at, reserved_cost_picousd)
                        SELECT p_id, p_user, p_conversation, p_message, p_model, 'held', a.tokens, p_now, p_expires,
                            p_input_cost + (a.tokens - p_input) * p_output_price
                        FROM allowed a
                        WHERE a.tokens >= p_input + 1 AND a.dollars_left >= p_input_cost + p_output_price
                        RETURNING token_usage.reserved_tokens
                    )
                    SELECT i.reserved_tokens, (l.token_limit IS NULL)::int, l.reset_at
                    FROM inserted i, user_token_limits l WHERE l.user_id = p_user;
                END
                $$
                """,
            ]),
    ]
}
