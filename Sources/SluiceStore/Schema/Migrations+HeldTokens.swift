import Foundation

extension Migrations {
    /// Step 14: each user's live holds are counted in `user_token_limits.tokens_held`, so that a hold no longer sums
    /// every live hold of its user. With 1 000 streams of one user a hold summed up to 1 000 rows under the user's
    /// lock or SQLite's writer (0.2 ms each, after step 13; 1.0 ms before), and a wave of N streams cost O(N²).
    ///
    /// `tokens_held` counts every `held` row, expired or not: a hold subtracts the user's expired ones, found
    /// through the partial index `token_usage_held (user_id, expires_at)` from its start — almost always none — so
    /// an expired hold stops counting at its `expires_at`, as before, without anything sweeping it. On SQLite
    /// triggers keep the count (a row inserted `held`; a row leaving `held`, whatever changes it); on
    /// PostgreSQL, where each budget change is one statement that updates the user's row anyway, those statements
    /// do (`sluice_hold`, `SettleStatement`, `recoverAbandoned`).
    static let heldTokensStep = Step(
        version: 14,
        statements: [
            "ALTER TABLE user_token_limits ADD COLUMN tokens_held INTEGER NOT NULL DEFAULT 0",
            """
            UPDATE user_token_limits SET tokens_held = COALESCE((
                SELECT SUM(u.reserved_tokens) FROM token_usage u
                WHERE u.user_id = user_token_limits.user_id AND u.state = 'held'), 0)
            """,
        ],
        sqliteOnly: [
            """
            CREATE TRIGGER token_usage_hold_placed AFTER INSERT ON token_usage
            WHEN NEW.state = 'held'
            BEGIN
                UPDATE user_token_limits SET tokens_held = tokens_held + NEW.reserved_tokens WHERE user_id = NEW.user_id;
            END
            """,
            """
            CREATE TRIGGER token_usage_hold_ended AFTER UPDATE OF state ON token_usage
            WHEN OLD.state = 'held' AND NEW.state <> 'held'
            BEGIN
                UPDATE user_token_limits SET tokens_held = tokens_held - OLD.reserved_tokens WHERE user_id = OLD.user_id;
            END
            """,
        ],
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
                        COALESCE(l.token_limit - l.tokens_used - (l.tokens_held - COALESCE((
                            SELECT SUM(u.reserved_tokens)::bigint FROM token_usage u
                            WHERE u.user_id = l.user_id AND u.state = 'held' AND u.expires_at <= p_now), 0)), p_wanted) AS tokens_left,
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
                ), counted AS (
                    UPDATE user_token_limits c SET tokens_held = c.tokens_held + i.reserved_tokens
                    FROM inserted i WHERE c.user_id = p_user
                )
                SELECT i.reserved_tokens, (l.token_limit IS NULL)::int, l.reset_at
                FROM inserted i, user_token_limits l WHERE l.user_id = p_user;
            END
            $$
            """,
        ])
}
