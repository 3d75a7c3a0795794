import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice user …`: manage users and their tokens.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Token.self])

    struct DatabaseOption: ParsableArguments {
        @Option(help: "SQLite database path (SLUICE_DB, default ./data/sluice.sqlite).") var db: String?

        func open() async throws -> SQLiteStore {
            let path = SettingResolver().string(db, env: "SLUICE_DB", default: "./data/sluice.sqlite")!
            let store = try await SQLiteStore.open(path: path)
            try await store.migrate()
            return store
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user and print its bearer token alone on the last line.")
        @Argument(help: "The user's name (unique).") var name: String
        @Option(help: "free, pro or unlimited.") var plan: Plan = .free
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            let token = AccessToken.generate()
            do {
                let user = try await store.createUser(name: name, plan: plan, tokenHash: AccessToken.hash(token))
                print("Created user \(user.name) (plan \(user.plan.rawValue), id \(user.id)). Its token, shown only now:")
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
            for user in try await store.users() {
                print("\(user.name)\t\(user.plan.rawValue)\t\(user.id)\t\(user.createdAt.formatted(.iso8601))")
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
            print("New token for \(user.name), shown only now:")
            print(token)
            try await store.close()
        }
    }
}

extension Plan: ExpressibleByArgument {}
