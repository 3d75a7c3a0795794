import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice team …`: teams of users who share daily and monthly spending limits and limits per minute and at once (the
/// Users page's Teams panel, from a shell).
struct TeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team", abstract: "Manage teams: users who share daily and monthly spending limits.",
        subcommands: [Create.self, List.self, Change.self, Join.self, Leave.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a team, optionally with limits and members.")
        @Argument(help: "The team's name (unique).") var name: String
        @Option(help: ArgumentHelp("What the members may spend together a day, in USD, e.g. 25 (default: no limit).", valueName: "usd"))
        var dailyUsd: String?
        @Option(help: ArgumentHelp(
            "What the members may spend together a UTC calendar month, in USD, e.g. 500 (default: no limit).", valueName: "usd"))
        var monthlyUsd: String?
        @Option(name: .customLong("model"), help: ArgumentHelp(
            "A model the members may use, within their own (again for more; default: every model).", valueName: "model"))
        var models: [String] = []
        @Option(name: .customLong("member"), help: ArgumentHelp("A user to put in the team (again for more).", valueName: "user"))
        var members: [String] = []
        @OptionGroup var rates: TeamRateOptions
        @OptionGroup var database: UserCommand.DatabaseOption

        func validate() throws { try TeamCommand.checkModels(models) }

        func run() async throws {
            guard let teamName = Team.name(name) else { throw ValidationError("a team's name must be \(Team.nameRule)") }
            let limit = try dailyUsd.flatMap { try UserCommand.SetPlan.amount($0, option: "--daily-usd") }
            let monthly = try monthlyUsd.flatMap { try UserCommand.SetPlan.amount($0, option: "--monthly-usd") }
            let limits = try rates.limits()
            try await TeamCommand.withStore(database) { store in
                var users: [User] = []
                for member in members { users.append(try await TeamCommand.user(named: member, in: store)) }
                let team = try await CommandAudit.team(.teamAdded, teamName, command: "create", in: store) {
                    let team: Team
                    do {
                        team = try await store.createTeam(name: teamName, dailyDollarLimit: limit, monthlyDollarLimit: monthly)
                    } catch StoreError.conflict(let message) {
                        throw ValidationError(message)
                    }
                    if !models.isEmpty { try await store.setTeamModels(id: team.id, models: models) }
                    for (kind, value) in limits { try await store.setTeamRateLimit(kind, id: team.id, limit: value) }
                    for user in users { try await store.setTeam(userID: user.id, teamID: team.id) }
                    return team
                }
                let members = users.isEmpty ? "no members yet" : users.map(\.name).joined(separator: ", ")
                let terms = [
                    TeamCommand.limitText(limit, monthly), TeamRateOptions.text(TeamRateOptions.applying(limits, to: .none)),
                    TeamCommand.modelsText(models.isEmpty ? nil : models), members,
                ]
                print("Created team \(team.name) (\(terms.joined(separator: "; "))).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List teams with their limits, today's spending and members.")
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            try await TeamCommand.withStore(database) { store in
                let names = Dictionary(try await store.users().map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
                print("name\tdaily limit (USD)\tspent today (USD)\tmonthly limit (USD)\tspent this month (USD)\trate limits\tmodels\tmembers")
                for summary in try await store.teams(now: Date()) {
                    let members = summary.memberIDs.compactMap { names[$0] }.joined(separator: ",")
                    print([
                        summary.team.name, summary.team.dailyDollarLimit?.decimalString ?? "none", summary.spentToday.decimalString,
                        summary.team.monthlyDollarLimit?.decimalString ?? "none", summary.spentThisMonth.decimalString,
                        TeamRateOptions.text(summary.team.rateCaps),
                        summary.team.allowedModels?.joined(separator: ",") ?? "all", members,
                    ].joined(separator: "\t"))
                }
            }
        }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Change a team's limits or name.")
        @Argument(help: "The team's name.") var name: String
        @Option(help: ArgumentHelp("What the members may spend together a day, in USD, or 'none'.", valueName: "usd"))
        var dailyUsd: String?
        @Option(help: ArgumentHelp("What the members may spend together a UTC calendar month, in USD, or 'none'.", valueName: "usd"))
        var monthlyUsd: String?
        @Option(name: .customLong("model"), help: ArgumentHelp(
            "A model the members may use, within their own (again for more), in place of the team's models.", valueName: "model"))
        var models: [String] = []
        @Flag(help: "Let the members use every model of their own again.") var allModels = false
        @Option(help: ArgumentHelp("A new name for the team.", valueName: "name")) var rename: String?
        @OptionGroup var rates: TeamRateOptions
        @OptionGroup var database: UserCommand.DatabaseOption

        func validate() throws {
            try TeamCommand.checkModels(models)
            if allModels, !models.isEmpty { throw ValidationError("name the team's models or pass --all-models (not both)") }
        }

        func run() async throws {
            let limits = try rates.limits()
            guard dailyUsd != nil || monthlyUsd != nil || rename != nil || allModels || !models.isEmpty || !limits.isEmpty else {
                throw ValidationError(
                    "name what to change: --daily-usd, --monthly-usd, --requests-per-minute, --tokens-per-minute, "
                        + "--max-parallel-requests, --model, --all-models or --rename")
            }
            let limit = try dailyUsd.map { try UserCommand.SetPlan.amount($0, option: "--daily-usd") }
            let monthly = try monthlyUsd.map { try UserCommand.SetPlan.amount($0, option: "--monthly-usd") }
            let newName = try rename.map { raw in
                guard let name = Team.name(raw) else { throw ValidationError("a team's name must be \(Team.nameRule)") }
                return name
            }
            try await TeamCommand.withTeam(named: name, in: database) { store, team in
                let teamModels = allModels ? nil : models.isEmpty ? team.allowedModels : models
                try await CommandAudit.team(.teamChanged, team.name, after: newName, command: "set", in: store) {
                    if let limit { try await store.setTeamDailyDollarLimit(id: team.id, limit: limit) }
                    if let monthly { try await store.setTeamMonthlyDollarLimit(id: team.id, limit: monthly) }
                    if allModels || !models.isEmpty { try await store.setTeamModels(id: team.id, models: teamModels) }
                    for (kind, value) in limits { try await store.setTeamRateLimit(kind, id: team.id, limit: value) }
                    if let newName {
                        do {
                            try await store.renameTeam(id: team.id, to: newName)
                        } catch StoreError.conflict(let message) {
                            throw ValidationError(message)
                        }
                    }
                }
                let dollarLimits = TeamCommand.limitText(limit ?? team.dailyDollarLimit, monthly ?? team.monthlyDollarLimit)
                let rateText = TeamRateOptions.text(TeamRateOptions.applying(limits, to: team.rateCaps))
                print("Team \(newName ?? team.name): \(dollarLimits); \(rateText); \(TeamCommand.modelsText(teamModels)).")
            }
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add", abstract: "Put users in a team (out of any other team they were in).")
        @Argument(help: "The team's name.") var name: String
        @Argument(help: "The users' names.") var users: [String]
        @OptionGroup var database: UserCommand.DatabaseOption

        func validate() throws { if users.isEmpty { throw ValidationError("name at least one user") } }

        func run() async throws {
            try await TeamCommand.withTeam(named: name, in: database) { store, team in
                var found: [User] = []
                for name in users { found.append(try await TeamCommand.user(named: name, in: store)) }
                for user in found {
                    try await CommandAudit.user(.userChanged, user.name, command: "add", group: "team", in: store) {
                        try await store.setTeam(userID: user.id, teamID: team.id)
                    }
                }
                print("\(found.map(\.name).joined(separator: ", ")) now in team \(team.name).")
            }
        }
    }

    struct Leave: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Take users out of their team.")
        @Argument(help: "The users' names.") var users: [String]
        @OptionGroup var database: UserCommand.DatabaseOption

        func validate() throws { if users.isEmpty { throw ValidationError("name at least one user") } }

        func run() async throws {
            try await TeamCommand.withStore(database) { store in
                var found: [User] = []
                for name in users { found.append(try await TeamCommand.user(named: name, in: store)) }
                for user in found {
                    try await CommandAudit.user(.userChanged, user.name, command: "remove", group: "team", in: store) {
                        try await store.setTeam(userID: user.id, teamID: nil)
                    }
                }
                print("\(found.map(\.name).joined(separator: ", ")) now in no team.")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a team; its members stay, in no team, and what they spent stays in the ledger.")
        @Argument(help: "The team's name.") var name: String
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            try await TeamCommand.withTeam(named: name, in: database) { store, team in
                try await CommandAudit.team(.teamDeleted, team.name, command: "delete", in: store) {
                    _ = try await store.deleteTeam(id: team.id)
                }
                print("Deleted team \(team.name).")
            }
        }
    }

    /// The user `name` (a `ValidationError` naming `sluice user list` when there is none).
    static func user(named name: String, in store: any SluiceDatabase) async throws -> User {
        guard let user = try await store.user(named: name) else {
            throw ValidationError("no user named \(name); 'sluice user list' shows who exists")
        }
        return user
    }

    /// "every model" or "only gpt-4o, gpt-4o-mini".
    static func modelsText(_ models: [String]?) -> String { models.map { "only " + $0.joined(separator: ", ") } ?? "every model" }

    /// Each `--model` one line of 1 to 200 characters (the server checks that it serves them: this is a shell's typo).
    static func checkModels(_ models: [String]) throws {
        if let bad = models.first(where: { $0.isEmpty || $0.contains("\n") || $0.count > 200 }) {
            throw ValidationError("'\(bad)' is not a model name (one line, 1 to 200 characters)")
        }
    }

    /// "daily limit $25, monthly limit $500", "daily limit $25" or "no spending limits".
    static func limitText(_ daily: USDAmount?, _ monthly: USDAmount?) -> String {
        let parts = [daily.map { "daily limit $\($0.decimalString)" }, monthly.map { "monthly limit $\($0.decimalString)" }].compactMap { $0 }
        return parts.isEmpty ? "no spending limits" : parts.joined(separator: ", ")
    }

    /// Opens the database, runs `body`, and closes the database whether `body` throws or not.
    static func withStore(_ database: UserCommand.DatabaseOption, _ body: (any SluiceDatabase) async throws -> Void) async throws {
        try await database.withStore(body)
    }

    /// `withStore` with the team `name` found (a `ValidationError` naming `sluice team list` when there is none).
    static func withTeam(
        named name: String, in database: UserCommand.DatabaseOption, _ body: (any SluiceDatabase, Team) async throws -> Void
    ) async throws {
        try await withStore(database) { store in
            guard let team = try await store.team(named: name) else {
                throw ValidationError("no team named \(name); 'sluice team list' shows the teams")
            }
            try await body(store, team)
        }
    }
}
