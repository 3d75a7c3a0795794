import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice user …`: manage users and their tokens.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Token.self, Key.self, SetPlan.self, SetModels.self, Reset.self, Admin.self, Suspend.self, Delete.self, Password.self, SignOut.self, TwoStepOff.self, SecurityLogCommand.self])

    struct DatabaseOption: ParsableArguments {
        @Option(help: "SQLite database path or postgres:// URL (SLUICE_DB, default ./data/sluice.sqlite).") var db: String?

        func open() async throws -> any SluiceDatabase {
            let settings = SettingResolver()
            let path = settings.string(db, env: "SLUICE_DB", default: "./data/sluice.sqlite")!
            let hours = (try? settings.positiveInt(nil, env: "SLUICE_BUDGET_PERIOD_HOURS", name: "SLUICE_BUDGET_PERIOD_HOURS")) ?? nil
            let store = try await SluiceDatabases.open(path, budgetPeriod: TimeInterval((hours ?? 24) * 3600))
            try await store.migrate()
            return store
        }

        /// Opens the database, runs `body`, and closes the database whether `body` throws or not.
        func withStore<T>(_ body: (any SluiceDatabase) async throws -> T) async throws -> T {
            let store = try await open()
            let result: T
            do {
                result = try await body(store)
            } catch {
                try? await store.close()
                throw error
            }
            try await store.close()
            return result
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user and print its bearer token alone on the last line.")
        @Argument(help: "The user's name (unique).") var name: String
        @Option(help: "free, pro or unlimited.") var plan: Plan = .free
        @Flag(help: "Make the user an administrator (the first user is one anyway).") var admin = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let token = AccessToken.generate()
            do {
                let user = try await CommandAudit.user(.userAdded, name, command: "add", in: store) {
                    var user = try await store.createUser(name: name, plan: plan, tokenHash: AccessToken.hash(token))
                    if admin, !user.isAdmin { user.isAdmin = try await store.setAdmin(userID: user.id, isAdmin: true) }
                    return user
                }
                let role = user.isAdmin ? ", administrator" : ""
                print("Created user \(user.name) (plan \(user.plan.rawValue)\(role), id \(user.id)). Its token, shown only now:")
                print(token)
            } catch StoreError.conflict(let message) {
                try await store.close()
                throw ValidationError(message)
            }
            try await store.close()
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            print("name\tplan\ttokens used/limit (this period)\tid\tcreated\tadministrator\tsuspended\tpassword\ttwo-step\tteam")
            let twoStep = try await store.twoStepUserIDs()
            let teams = try await store.teamNamesByUser()
            for user in try await store.users() {
                let budget = try await store.budget(userID: user.id, now: Date())
                let usage = "\(budget.used)/\(budget.limit.map(String.init) ?? "unlimited")"
                print("\(user.name)\t\(user.plan.rawValue)\t\(usage)\t\(user.id)\t\(user.createdAt.formatted(.iso8601))\t\(user.isAdmin ? "yes" : "no")\t\(user.suspendedAt.map { $0.formatted(.iso8601) } ?? "no")\t\(user.hasPassword ? "yes" : "no")\t\(twoStep.contains(user.id) ? "on" : "off")\t\(teams[user.id] ?? "-")")
            }
            try await store.close()
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new token for a user (the old one stops working); prints it alone on the last line.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            guard let user = try await store.user(named: name) else {
                try await store.close()
                throw ValidationError("no user named \(name); 'sluice user list' shows who exists")
            }
            let token = AccessToken.generate()
            try await store.setTokenHash(userID: user.id, tokenHash: AccessToken.hash(token))
            await CommandAudit.record(.userTokenIssued, on: AuditTarget(.user, user.name), command: "sluice user token", in: store)
            print("New token for \(user.name), shown only now:")
            print(token)
            try await store.close()
        }
    }
}

extension UserCommand {
    /// Finds a user by name or stops with a message that says how to list them.
    static func user(named name: String, in store: any SluiceDatabase) async throws -> User {
        guard let user = try await store.user(named: name) else {
            try await store.close()
            throw ValidationError("no user named \(name); 'sluice user list' shows who exists")
        }
        return user
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-plan", abstract: "Change a user's plan (free: 4 000 tokens a day, pro: 50 000, unlimited).")
        @Argument(help: "The user's name.") var name: String
        @Argument(help: "free, pro or unlimited.") var plan: Plan
        @Option(help: "A token limit per period instead of the plan's default.") var limit: Int?
        @Option(help: "A daily spending limit in USD, e.g. 1.50, or 'none' to remove it (default: unchanged).") var dailyUsd: String?
        @Option(help: ArgumentHelp(
            "What each end user (the gateway's `user` field) may spend a day, in USD, or 'none' (default: unchanged).",
            valueName: "usd"))
        var endUserDailyUsd: String?
        @Option(help: ArgumentHelp("Requests the user may send a minute (OpenAI's RPM), or 'none' (default: unchanged).", valueName: "n"))
        var requestsPerMinute: String?
        @Option(help: ArgumentHelp("Tokens the user's requests may use a minute (TPM), or 'none' (default: unchanged).", valueName: "n"))
        var tokensPerMinute: String?
        @Option(help: ArgumentHelp("Answers the user may have running at once, or 'none' (default: unchanged).", valueName: "n"))
        var maxParallelRequests: String?
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more tokens") }
            // Both checked before anything changes. Each is nil when not given, .some(nil) for `none`.
            let daily = try dailyUsd.map { try Self.amount($0, option: "--daily-usd") }
            let perEndUser = try endUserDailyUsd.map { try Self.amount($0, option: "--end-user-daily-usd") }
            let rates: [(RateLimits.Kind, Int?)] = try [
                requestsPerMinute.map { (.requests, try Self.rateLimit($0, option: "--requests-per-minute")) },
                tokensPerMinute.map { (.tokens, try Self.rateLimit($0, option: "--tokens-per-minute")) },
                maxParallelRequests.map { (.parallel, try Self.rateLimit($0, option: "--max-parallel-requests")) },
            ].compactMap { $0 }
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            try await CommandAudit.user(.userChanged, user.name, command: "set-plan", in: store) {
                try await store.setPlan(userID: user.id, plan: plan, tokenLimit: limit)
                if let daily { try await store.setDailyDollarLimit(userID: user.id, limit: daily) }
                if let perEndUser { try await store.setEndUserDailyDollarLimit(userID: user.id, limit: perEndUser) }
                for (kind, limit) in rates { try await store.setRateLimit(kind, userID: user.id, limit: limit) }
            }
            let budget = try await store.budget(userID: user.id, now: Date())
            let dollars = budget.dailyDollars.map { ", daily limit $\($0.limit.decimalString) ($\($0.spent.decimalString) spent today)" } ?? ""
            let endUsers = budget.endUserDailyLimit.map { ", each end user at most $\($0.decimalString) a day" } ?? ""
            print("\(user.name) is now on the \(plan.rawValue) plan: \(budget.used) of \(budget.limit.map(String.init) ?? "unlimited") tokens used, resets \(budget.resetAt.formatted(.iso8601))\(dollars)\(endUsers)\(Self.rateText(budget.rateLimits))")
            try await store.close()
        }

        /// ", at most 60 requests and 5000 tokens a minute, 4 answers at once", or "" without such limits.
        static func rateText(_ rates: RateLimits?) -> String {
            guard let rates else { return "" }
            return ", at most " + rateParts(rates.limit).joined(separator: ", ")
        }

        /// ["60 requests and 5000 tokens a minute", "4 answers at once"] for the limits `limit` gives by kind (a user's,
        /// or a team's for `sluice team`); none without any.
        static func rateParts(_ limit: (RateLimits.Kind) -> Int?) -> [String] {
            let perMinute = [RateLimits.Kind.requests, .tokens].compactMap { kind in
                limit(kind).map { "\($0) \($0 == 1 ? String(kind.rawValue.dropLast()) : kind.rawValue)" }
            }
            return (perMinute.isEmpty ? [] : [perMinute.joined(separator: " and ") + " a minute"])
                + (limit(.parallel).map { ["\($0) \($0 == 1 ? "answer" : "answers") at once"] } ?? [])
        }

        /// A rate limit's value: a whole number above zero, or `none` (`nil`: no limit).
        static func rateLimit(_ text: String, option: String) throws -> Int? {
            if text == "none" { return nil }
            guard let limit = Int(text), limit > 0 else { throw ValidationError("\(option) must be a whole number above 0, or none") }
            return limit
        }

        /// A dollar limit option's value: an amount above zero, or `none` (`nil`: no limit).
        static func amount(_ text: String, option: String) throws -> USDAmount? {
            if text == "none" { return nil }
            guard let amount = USDAmount(text), amount.picodollars > 0 else {
                throw ValidationError("\(option) must be an amount of dollars like 1.50, or none")
            }
            return amount
        }
    }

    struct SetModels: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-models",
            abstract: "Allow a user only some models (the others get 403 model_not_allowed), or every model again with --all.")
        @Argument(help: "The user's name.") var name: String
        @Argument(help: "The models the user may chat with, as the gateway and the models file name them.") var models: [String] = []
        @Flag(help: "Allow every model the server serves.") var all = false
        @OptionGroup var database: DatabaseOption

        func validate() throws {
            if all == !models.isEmpty { throw ValidationError("name the models the user may use, or pass --all (not both)") }
            if let bad = models.first(where: { $0.isEmpty || $0.contains("\n") || $0.count > 200 }) {
                throw ValidationError("'\(bad)' is not a model name (one line, 1 to 200 characters)")
            }
        }

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            try await CommandAudit.user(.userChanged, user.name, command: "set-models", in: store) {
                try await store.setAllowedModels(userID: user.id, models: all ? nil : models)
            }
            print(all ? "\(user.name) may use every model" : "\(user.name) may use only: \(models.joined(separator: ", "))")
            try await store.close()
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a fresh budget period for a user now (used tokens back to 0).")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            let used = try await store.budget(userID: user.id, now: Date()).used
            try await store.resetBudget(userID: user.id, now: Date())
            await CommandAudit.record(
                .userBudgetReset, on: AuditTarget(.user, user.name), command: "sluice user reset", in: store,
                changes: [AuditChange("tokens_used", from: String(used), to: "0")])
            let budget = try await store.budget(userID: user.id, now: Date())
            print("\(user.name): \(budget.used) of \(budget.limit.map(String.init) ?? "unlimited") tokens used, resets \(budget.resetAt.formatted(.iso8601))")
            try await store.close()
        }
    }
}

/// `sluice user admin NAME [--off]`: who manages the other users from the web app's Users page.
extension UserCommand {
    struct Admin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a user an administrator, who manages the other users from the web app (or, with --off, no longer).")
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "No longer an administrator (refused for the last one).") var off = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            let made = try await CommandAudit.user(.userChanged, user.name, command: "admin", in: store) {
                try await store.setAdmin(userID: user.id, isAdmin: !off)
            }
            guard made else {
                try await store.close()
                throw ValidationError("\(user.name) is the only administrator: make another user one first.")
            }
            print(off ? "\(user.name) is no longer an administrator." : "\(user.name) is an administrator (within 5 s on a running server).")
            try await store.close()
        }
    }
}

/// `sluice user suspend NAME [--off]`: a user whose token and keys are refused until restored, all they made kept.
extension UserCommand {
    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Suspend a user: their token and keys are refused (within 5 s on a running server) until --off restores them.")
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "Restore the user.") var off = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            // As the server refuses it: someone must be left to manage the others.
            if !off, user.isAdmin, !(try await store.users().contains { $0.isAdmin && $0.suspendedAt == nil && $0.id != user.id }) {
                try await store.close()
                throw ValidationError("\(user.name) is the only administrator who can sign in: make another user one first.")
            }
            try await CommandAudit.user(.userChanged, user.name, command: "suspend", in: store) {
                try await store.setSuspended(userID: user.id, suspended: !off)
            }
            print(off ? "\(user.name) is restored." : "\(user.name) is suspended, with all their keys; everything they made is kept.")
            try await store.close()
        }
    }
}

/// `sluice user delete NAME --yes`: what the user made goes, what they spent stays in the ledger.
extension UserCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user's conversations, projects and prompts for good, revoke their keys and free the name; their usage stays.")
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "Yes, delete it all (nothing is deleted without it).") var yes = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            guard yes else {
                try await store.close()
                throw ValidationError(
                    "This deletes \(user.name)'s conversations, projects and prompts for good. Run it again with --yes, "
                        + "or suspend the user instead (sluice user suspend \(user.name)), which keeps everything.")
            }
            let deleted = try await CommandAudit.user(.userDeleted, user.name, command: "delete", in: store) {
                try await store.deleteUser(userID: user.id)
            }
            guard deleted else {
                try await store.close()
                throw ValidationError("\(user.name) is the only administrator: make another user one first.")
            }
            print("\(user.name) is deleted (within 5 s on a running server); their usage stays in the ledger as deleted-\(user.id).")
            try await store.close()
        }
    }
}

extension Plan: ExpressibleByArgument {}
