import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

extension UserCommand {
    /// `sluice user key add|list|revoke`: labelled keys besides a user's token (`APIKey`), one per application or
    /// teammate, so that one is revoked or rotated without breaking the others.
    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage a user's labelled API keys (one per application or teammate; each acts as the user).",
            subcommands: [Add.self, List.self, Revoke.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a key and print it alone on the last line (it is shown only now).")
            @Argument(help: "The user's name.") var name: String
            @Argument(help: "What the key is for, unique per user, e.g. ci or alice-laptop.") var label: String
            @OptionGroup var database: DatabaseOption

            func validate() throws {
                let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty || trimmed.count > 100 || trimmed.contains(where: \.isNewline) {
                    throw ValidationError("the label must be one line of 1 to 100 characters, e.g. ci or alice-laptop")
                }
            }

            func run() async throws {
                let store = try await database.open()
                let user = try await UserCommand.user(named: name, in: store)
                let token = AccessToken.generate()
                do {
                    let key = try await store.addAPIKey(
                        userID: user.id, label: label.trimmingCharacters(in: .whitespacesAndNewlines), tokenHash: AccessToken.hash(token))
                    print("Added the key '\(key.label)' for \(user.name); it acts as \(user.name). Shown only now:")
                    print(token)
                } catch StoreError.conflict(let message) {
                    try await store.close()
                    throw ValidationError("\(message) (a revoked key keeps its label): pick another label")
                }
                try await store.close()
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a user's keys: label, created, and whether it works.")
            @Argument(help: "The user's name.") var name: String
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                let store = try await database.open()
                let user = try await UserCommand.user(named: name, in: store)
                print("label\tcreated\tstatus")
                for key in try await store.apiKeys(userID: user.id) {
                    let status = key.revokedAt.map { "revoked \($0.formatted(.iso8601))" } ?? "works"
                    print("\(key.label)\t\(key.createdAt.formatted(.iso8601))\t\(status)")
                }
                try await store.close()
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Stop a key from working (within 5 s on a running server); the user's other keys and token go on.")
            @Argument(help: "The user's name.") var name: String
            @Argument(help: "The key's label.") var label: String
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                let store = try await database.open()
                let user = try await UserCommand.user(named: name, in: store)
                let revoked = try await store.revokeAPIKey(userID: user.id, label: label)
                try await store.close()
                guard revoked else {
                    throw ValidationError("\(user.name) has no working key labelled '\(label)'; 'sluice user key list \(user.name)' shows them")
                }
                print("Revoked the key '\(label)' of \(user.name).")
            }
        }
    }
}
