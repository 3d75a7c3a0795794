import SluiceCore

extension Migrations {
    /// Step 62: teams (`TeamStore`) with a daily and a monthly dollar limit and the models their members may use
    /// (`allowed_models`, as `users.allowed_models` keeps them; `NULL`: every model). A user belongs to at most one
    /// (`users.team_id`); each ledger row keeps the team its user was in when it was held (`token_usage.team_id`), so a
    /// team's day stays what was spent under it whoever joins or leaves; `team_daily_spending` counts each team's day
    /// as `daily_spending` (step 15) counts a user's, kept by triggers that fire only for rows with a team, and a
    /// team's month is the sum of its days (at most 31 rows, keyed by team first). PostgreSQL's `sluice_hold` keeps its arguments
    /// and finds the team itself (`holdFunction`'s `limitingTeams`).
    static let teamsStep = Step(
        version: 62,
        statements: [
            """
            CREATE TABLE teams (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                daily_usd_limit_picousd INTEGER,
                monthly_usd_limit_picousd INTEGER,
                allowed_models TEXT,
                created_at INTEGER NOT NULL
            )
            """,
            "ALTER TABLE users ADD COLUMN team_id TEXT",
            "CREATE INDEX users_by_team ON users(team_id) WHERE team_id IS NOT NULL",
            "ALTER TABLE token_usage ADD COLUMN team_id TEXT",
            """
            CREATE TABLE team_daily_spending (
                team_id TEXT NOT NULL,
                day_start INTEGER NOT NULL,
                spent_picousd INTEGER NOT NULL DEFAULT 0,
                held_picousd INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (team_id, day_start)
            )
            """,
        ],
        sqliteOnly: [
            """
            CREATE TRIGGER token_usage_team_spending_held AFTER INSERT ON token_usage
            WHEN NEW.state = 'held' AND NEW.team_id IS NOT NULL
            BEGIN
                \(teamHeldInsert);
            END
            """,
            """
            CREATE TRIGGER token_usage_team_spending_ended AFTER UPDATE OF state ON token_usage
            WHEN OLD.state = 'held' AND NEW.state <> 'held' AND OLD.team_id IS NOT NULL
            BEGIN
                \(teamEndedUpdate);
            END
            """,
        ],
        postgresOnly: [
            """
            CREATE OR REPLACE FUNCTION sluice_count_team_spending() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.state = 'held' THEN
                        \(teamHeldInsert.replacingOccurrences(of: "held_picousd = held_picousd", with: "held_picousd = team_daily_spending.held_picousd"));
                    END IF;
                ELSIF OLD.state = 'held' AND NEW.state <> 'held' THEN
                    \(teamEndedUpdate);
                END IF;
                RETURN NULL;
            END
            $$
            """,
            // Only rows with a team call the function at all: the gateway's turns without one pay nothing for it.
            """
            CREATE TRIGGER token_usage_team_spending AFTER INSERT OR UPDATE OF state ON token_usage
            FOR EACH ROW WHEN (NEW.team_id IS NOT NULL) EXECUTE FUNCTION sluice_count_team_spending()
            """,
            holdFunction(
                limitingEndUsers: true, limitingRates: true, recordingKeys: true, limitingKeyRates: true, namingEndUsers: true,
                countingCalls: true, limitingTeams: true),
        ])

    /// A held row of a team adds its reserved cost to the team's day.
    private static let teamHeldInsert = """
        INSERT INTO team_daily_spending (team_id, day_start, held_picousd)
                VALUES (NEW.team_id, NEW.created_at - NEW.created_at % 86400000, NEW.reserved_cost_picousd)
                ON CONFLICT (team_id, day_start) DO UPDATE SET held_picousd = held_picousd + excluded.held_picousd
        """

    /// A team's hold that ends gives back its reserved cost, and adds what it cost when it was settled.
    private static let teamEndedUpdate = """
        UPDATE team_daily_spending SET held_picousd = held_picousd - OLD.reserved_cost_picousd,
                    spent_picousd = spent_picousd + CASE WHEN NEW.state = 'settled' THEN NEW.cost_picousd ELSE 0 END
                WHERE day_start = OLD.created_at - OLD.created_at % 86400000 AND team_id = OLD.team_id
        """
}

/// What a team has spent on a day or in a month, and what it has left under its limits, as SQL expressions over
/// `team_daily_spending` (schema step 62), written as `DailySpendingSQL`'s are.
enum TeamSpendingSQL {
    /// The day's spending of the team whose id is the SQL expression `team`: settled costs plus live holds'.
    static func spent(team: String, now: String, dayStart: String) -> String {
        """
        (COALESCE((SELECT s.spent_picousd + s.held_picousd FROM team_daily_spending s
                WHERE s.team_id = \(team) AND s.day_start = \(dayStart)), 0)
            - \(expiredHolds(team: team, now: now, since: dayStart)))
        """
    }

    /// The spending since `monthStart` (the month's first day) of the team whose id is `team`: its days summed.
    static func monthSpent(team: String, now: String, monthStart: String) -> String {
        """
        (COALESCE((SELECT CAST(SUM(s.spent_picousd + s.held_picousd) AS BIGINT) FROM team_daily_spending s
                WHERE s.team_id = \(team) AND s.day_start >= \(monthStart)), 0)
            - \(expiredHolds(team: team, now: now, since: monthStart)))
        """
    }

    /// The dollars the team `team` (an id, or `NULL`: none) has left today under its daily and monthly limits; a huge
    /// number without a team or a limit. `least` is the dialect's smaller-of function: `MIN` (SQLite), `LEAST`.
    static func left(team: String, now: String, dayStart: String, monthStart: String, least: String) -> String {
        """
        COALESCE((SELECT \(least)(
                COALESCE(t.daily_usd_limit_picousd - \(spent(team: "t.id", now: now, dayStart: dayStart)), 9000000000000000000),
                COALESCE(t.monthly_usd_limit_picousd - \(monthSpent(team: "t.id", now: now, monthStart: monthStart)), 9000000000000000000))
            FROM teams t WHERE t.id = \(team)
                AND (t.daily_usd_limit_picousd IS NOT NULL OR t.monthly_usd_limit_picousd IS NOT NULL)), 9000000000000000000)
        """
    }

    /// The team's holds since `since` that are still `held` but past their expiry (a crashed turn's): they no longer count.
    private static func expiredHolds(team: String, now: String, since: String) -> String {
        """
        COALESCE((SELECT CAST(SUM(u.reserved_cost_picousd) AS BIGINT) FROM token_usage u
                WHERE u.team_id = \(team) AND u.state = 'held' AND u.expires_at <= \(now) AND +u.created_at >= \(since)), 0)
        """
    }
}

extension StoredValues {
    static func team(_ row: some StoredRow) -> Team {
        Team(
            id: row.text("id"), name: row.text("name"),
            dailyDollarLimit: row.int("daily_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            monthlyDollarLimit: row.int("monthly_usd_limit_picousd").map { USDAmount(picodollars: Int64($0)) },
            allowedModels: row.string("allowed_models").map(decodeModels),
            rateCaps: RateCaps(
                requestsPerMinute: row.int("requests_per_minute"), tokensPerMinute: row.int("tokens_per_minute"),
                maxParallel: row.int("max_parallel_requests")),
            createdAt: row.date("created_at"))
    }

    /// Teams (with their day's `spent` and their month's `month_spent`) and their members (`id`, `team_id`, in the order to list them).
    static func teamSummaries(_ teams: [some StoredRow], members: [some StoredRow]) -> [TeamSummary] {
        var byTeam: [String: [String]] = [:]
        for member in members { byTeam[member.text("team_id"), default: []].append(member.text("id")) }
        return teams.map { row in
            let team = team(row)
            return TeamSummary(
                team: team, memberIDs: byTeam[team.id] ?? [], spentToday: USDAmount(picodollars: Int64(row.int("spent") ?? 0)),
                spentThisMonth: USDAmount(picodollars: Int64(row.int("month_spent") ?? 0)))
        }
    }
}
