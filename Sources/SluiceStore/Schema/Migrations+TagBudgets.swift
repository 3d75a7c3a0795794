import Foundation
import SluiceCore

extension Migrations {
    /// Step 67: budgets per tag (`TagBudgetStore`, LiteLLM's tag budgets): a daily and a monthly dollar limit on the
    /// calls that carry a tag. `tag_daily_spending` counts each budgeted tag's day as `team_daily_spending` (step 62)
    /// counts a team's, kept by triggers that fire only for tagged rows and count only the tags with a budget; a new
    /// budget first counts its month from the ledger (`TagSpendingSQL.backfill`). The hold refuses a call that one of
    /// its budgeted tags could not pay for; PostgreSQL's `sluice_hold` locks those tags' rows (after the team's,
    /// before the user's) as it locks a team's.
    static let tagBudgetsStep = Step(
        version: 67,
        statements: [
            """
            CREATE TABLE tag_budgets (
                tag TEXT PRIMARY KEY,
                daily_usd_limit_picousd INTEGER,
                monthly_usd_limit_picousd INTEGER,
                created_at INTEGER NOT NULL
            )
            """,
            """
            CREATE TABLE tag_daily_spending (
                tag TEXT NOT NULL,
                day_start INTEGER NOT NULL,
                spent_picousd INTEGER NOT NULL DEFAULT 0,
                held_picousd INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (tag, day_start)
            )
            """,
        ],
        sqliteOnly: [
            """
            CREATE TRIGGER token_usage_tag_spending_held AFTER INSERT ON token_usage
            WHEN NEW.state = 'held' AND NEW.tags IS NOT NULL
            BEGIN
                \(tagHeldInsert(tags: "json_each(NEW.tags) j", held: "held_picousd"));
            END
            """,
            """
            CREATE TRIGGER token_usage_tag_spending_ended AFTER UPDATE OF state ON token_usage
            WHEN OLD.state = 'held' AND NEW.state <> 'held' AND OLD.tags IS NOT NULL
            BEGIN
                \(tagEndedUpdate(tags: "SELECT value FROM json_each(OLD.tags)"));
            END
            """,
        ],
        postgresOnly: [
            """
            CREATE OR REPLACE FUNCTION sluice_count_tag_spending() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.state = 'held' THEN
                        \(tagHeldInsert(
                            tags: "jsonb_array_elements_text(NEW.tags::jsonb) AS j(value)", held: "tag_daily_spending.held_picousd"));
                    END IF;
                ELSIF OLD.state = 'held' AND NEW.state <> 'held' THEN
                    \(tagEndedUpdate(tags: "SELECT jsonb_array_elements_text(OLD.tags::jsonb)"));
                END IF;
                RETURN NULL;
            END
            $$
            """,
            // Only tagged rows call the function at all.
            """
            CREATE TRIGGER token_usage_tag_spending AFTER INSERT OR UPDATE OF state ON token_usage
            FOR EACH ROW WHEN (NEW.tags IS NOT NULL) EXECUTE FUNCTION sluice_count_tag_spending()
            """,
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                countingCalls: true, limitingTeams: true, limitingTeamRates: true, taggingUsage: true, limitingTags: true),
        ])

    /// A held row adds its reserved cost to the day of each of its tags that has a budget.
    private static func tagHeldInsert(tags: String, held: String) -> String {
        """
        INSERT INTO tag_daily_spending (tag, day_start, held_picousd)
                    SELECT j.value, NEW.created_at - NEW.created_at % 86400000, NEW.reserved_cost_picousd
                    FROM \(tags) WHERE j.value IN (SELECT b.tag FROM tag_budgets b)
                    ON CONFLICT (tag, day_start) DO UPDATE SET held_picousd = \(held) + excluded.held_picousd
        """
    }

    /// A tagged hold that ends gives back its reserved cost to its budgeted tags' day, and adds what it cost when settled.
    private static func tagEndedUpdate(tags: String) -> String {
        """
        UPDATE tag_daily_spending SET held_picousd = held_picousd - OLD.reserved_cost_picousd,
                    spent_picousd = spent_picousd + CASE WHEN NEW.state = 'settled' THEN NEW.cost_picousd ELSE 0 END
                WHERE day_start = OLD.created_at - OLD.created_at % 86400000 AND tag IN (\(tags))
        """
    }
}

/// What a tag's calls have spent on a day or in a month, and what the call's budgeted tags have left, as SQL
/// expressions over `tag_daily_spending` (schema step 67), written as `TeamSpendingSQL`'s are. `hasTag` writes the
/// dialect's test that a ledger row's `tags` (the SQL before it) holds a tag (the SQL after it); the call log's tag
/// filter uses it too.
struct TagSpendingSQL: Sendable {
    /// `SELECT`s each of the call's tags: `SELECT value FROM json_each(?22)` (SQLite) or the PostgreSQL equivalent.
    var callTags: String
    var hasTag: @Sendable (_ tags: String, _ tag: String) -> String
    /// The dialect's smaller-of function: `MIN` (SQLite), `LEAST`.
    var least: String

    static let sqlite = TagSpendingSQL(
        callTags: "SELECT value FROM json_each(?22)",
        hasTag: { "EXISTS (SELECT 1 FROM json_each(\($0)) tg WHERE tg.value = \($1))" }, least: "MIN")
    static let postgres = TagSpendingSQL(
        callTags: "SELECT jsonb_array_elements_text(p_tags::jsonb)",
        hasTag: { "\($0)::jsonb @> jsonb_build_array(\($1)::text)" }, least: "LEAST")

    /// The day's spending of the tag `tag` (an SQL expression): settled costs plus live holds'.
    func spent(tag: String, now: String, dayStart: String) -> String {
        """
        (COALESCE((SELECT s.spent_picousd + s.held_picousd FROM tag_daily_spending s
                WHERE s.tag = \(tag) AND s.day_start = \(dayStart)), 0)
            - \(expiredHolds(tag: tag, now: now, since: dayStart)))
        """
    }

    /// The spending since `monthStart` of the tag `tag`: its days summed (at most 31 rows, keyed by tag first).
    func monthSpent(tag: String, now: String, monthStart: String) -> String {
        """
        (COALESCE((SELECT CAST(SUM(s.spent_picousd + s.held_picousd) AS BIGINT) FROM tag_daily_spending s
                WHERE s.tag = \(tag) AND s.day_start >= \(monthStart)), 0)
            - \(expiredHolds(tag: tag, now: now, since: monthStart)))
        """
    }

    /// The dollars the call's tags have left: the least of every budgeted one's daily and monthly limit less its
    /// spending; a huge number when none of them has a budget (or the call has no tags).
    func left(now: String, dayStart: String, monthStart: String) -> String {
        """
        COALESCE((SELECT MIN(\(least)(
                COALESCE(tb.daily_usd_limit_picousd - \(spent(tag: "tb.tag", now: now, dayStart: dayStart)), 9000000000000000000),
                COALESCE(tb.monthly_usd_limit_picousd - \(monthSpent(tag: "tb.tag", now: now, monthStart: monthStart)), 9000000000000000000)))
            FROM tag_budgets tb WHERE tb.tag IN (\(callTags))), 9000000000000000000)
        """
    }

    /// The tag's holds since `since` still `held` but past their expiry (a crashed turn's): they no longer count.
    /// The partial index of held rows finds them; almost always none.
    private func expiredHolds(tag: String, now: String, since: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(u.reserved_cost_picousd) AS BIGINT) FROM token_usage u
                WHERE u.state = 'held' AND u.expires_at <= \(now) AND +u.created_at >= \(since) AND \(hasTag("u.tags", tag))), 0)
        """
    }

    /// Counts what the ledger's rows with the tag `tag` (an SQL expression) since `monthStart` spent and hold, per day,
    /// for a budget just made: the triggers count the rows after it.
    func backfill(tag: String, monthStart: String) -> String {
        """
        INSERT INTO tag_daily_spending (tag, day_start, spent_picousd, held_picousd)
        SELECT \(tag), u.created_at - u.created_at % 86400000,
            CAST(SUM(CASE WHEN u.state = 'settled' THEN u.cost_picousd ELSE 0 END) AS BIGINT),
            CAST(SUM(CASE WHEN u.state = 'held' THEN u.reserved_cost_picousd ELSE 0 END) AS BIGINT)
        FROM token_usage u WHERE u.created_at >= \(monthStart) AND u.tags IS NOT NULL AND \(hasTag("u.tags", tag))
        GROUP BY u.created_at - u.created_at % 86400000
        """
    }
}

extension StoredValues {
    /// A row of `tag_budgets` with its day's `spent` and its month's `month_spent`.
    static func tagBudgetSummary(_ row: some StoredRow, now: Date) -> TagBudgetSummary {
        TagBudgetSummary(
            budget: tagBudget(row),
            spentToday: USDAmount(picodollars: Int64(row.int("spent") ?? 0)),
            spentThisMonth: USDAmount(picodollars: Int64(row.int("month_spent") ?? 0)), now: now)
    }

    static func tagBudget(_ row: some StoredRow) -> TagBudget {
        TagBudget(
            tag: row.text("tag"),
            dailyDollarLimit: row.int("daily_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            monthlyDollarLimit: row.int("monthly_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            createdAt: row.date("created_at"))
    }
}
