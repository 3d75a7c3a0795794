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
            subcommands: [Add.self, List.self, Change.self, Revoke.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a key and print it alone on the last line (it is shown only now).")
            @Argument(help: "The user's name.") var name: String
            @Argument(help: "What the key is for, unique per user, e.g. ci or alice-laptop.") var label: String
            @Option(help: "Days until the key stops working by itself (default: never).") var expiresInDays: Int?
            @Option(name: .customLong("model"), help: "Limit the key to this model (repeat for more; default: all of the user's).")
            var models: [String] = []
            @Option(help: "What the key's turns may spend a day (UTC), in dollars, e.g. 5 or 0.25 (default: no limit of its own).")
            var dailyUsd: String?
            @Option(help: "Requests the key may make a minute, within the user's own limit (default: no limit of its own).")
            var requestsPerMinute: Int?
            @Option(help: "Tokens the key's turns may use a minute, within the user's own limit (default: no limit of its own).")
            var tokensPerMinute: Int?
            @Option(help: "Answers the key may have running at once, within the user's own limit (default: no limit of its own).")
            var maxParallelRequests: Int?
            @Option(name: .customLong("tag"), help: "A tag every call made with the key carries (repeat for more; usage per tag).")
            var tags: [String] = []
            @OptionGroup var database: DatabaseOption

            var rateCaps: RateCaps {
                RateCaps(requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute, maxParallel: maxParallelRequests)
            }

            func validate() throws {
                if APIKey.label(label) == nil { throw ValidationError("the label must be \(APIKey.labelRule)") }
                if let bad = models.first(where: { $0.isEmpty || $0.contains("\n") || $0.count > 200 }) {
                    throw ValidationError("'\(bad)' is not a model name (one line, 1 to 200 characters)")
                }
                if let dailyUsd, (USDAmount(dailyUsd)?.picodollars ?? 0) <= 0 {
                    throw ValidationError("--daily-usd must be an amount of dollars above 0, e.g. 5 or 0.25")
                }
                if UsageTags.checked(tags) == nil { throw ValidationError("--tag must be \(UsageTags.rule)") }
                if let days = expiresInDays, !(1...APIKey.longestLifetimeDays).contains(days) {
                    throw ValidationError("--expires-in-days must be from 1 to \(APIKey.longestLifetimeDays)")
                }
                for (option, value) in [
                    ("--requests-per-minute", requestsPerMinute), ("--tokens-per-minute", tokensPerMinute),
                    ("--max-parallel-requests", maxParallelRequests),
                ] {
                    if let value, !(1...RateCaps.highest).contains(value) {
                        throw ValidationError("\(option) must be from 1 to \(RateCaps.highest)")
                    }
                }
            }

            func run() async throws {
                let store = try await database.open()
                let user = try await UserCommand.user(named: name, in: store)
                let token = AccessToken.generate()
                do {
                    let keyLabel = APIKey.label(label) ?? label
                    let key = try await CommandAudit.key(.keyAdded, label: keyLabel, of: user, command: "add", in: store) {
                        try await store.addAPIKey(
                            userID: user.id, label: keyLabel, tokenHash: AccessToken.hash(token),
                            terms: .init(
                                expiresAt: expiresInDays.map { Date().addingTimeInterval(Double($0) * 86_400) },
                                allowedModels: models.isEmpty ? nil : models, dailyDollarLimit: dailyUsd.flatMap { USDAmount($0) },
                                rateCaps: rateCaps, tags: UsageTags.checked(tags) ?? []))
                    }
                    let expiry = key.expiresAt.map { " until \($0.formatted(.iso8601))" } ?? ""
                    let only = (key.allowedModels.map { ", only with \($0.joined(separator: ", "))" } ?? "")
                        + (key.dailyDollarLimit.map { ", up to $\($0.decimalString) a day" } ?? "")
                        + (key.rateCaps.isEmpty ? "" : ", at most \(key.rateCaps.summary)")
                        + (key.tags.isEmpty ? "" : ", its calls tagged \(key.tags.joined(separator: ", "))")
                    print("Added the key '\(key.label)' for \(user.name); it acts as \(user.name)\(only)\(expiry). Shown only now:")
                    print(token)
                } catch StoreError.conflict(let message) {
                    try await store.close()
                    throw ValidationError("\(message) (a revoked key keeps its label): pick another label")
                }
                try await store.close()
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List a user's keys: label, created, whether it works, its last use and what it has spent (settled turns, ever).")
            @Argument(help: "The user's name.") var name: String
            @OptionGroup var database: DatabaseOption

            func run() async throws {
                let store = try await database.open()
                let user = try await UserCommand.user(named: name, in: store)
                let keys = try await store.apiKeys(userID: user.id)
                let usage = try await store.usageHistory(userID: user.id, since: .distantPast, groupedBy: .apiKey)
                try await store.close()
                print(["label", "created", "status", "expires", "models", "daily_usd", "rate_limits", "tags", "last_used", "turns", "total_tokens", "cost_usd"]
                    .joined(separator: "\t"))
                let spent = Dictionary(usage.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
                for key in keys {
                    let status = key.revokedAt.map { "revoked \($0.formatted(.iso8601))" } ?? (key.hasExpired(at: Date()) ? "expired" : "works")
                    let used = spent[key.id]
                    print([
                        key.label, key.createdAt.formatted(.iso8601), status, key.expiresAt?.formatted(.iso8601) ?? "never",
                        key.allowedModels?.joined(separator: ",") ?? "all", key.dailyDollarLimit?.decimalString ?? "none",
                        key.rateCaps.isEmpty ? "none" : key.rateCaps.summary, key.tags.isEmpty ? "none" : key.tags.joined(separator: ","),
                        used?.lastTurnAt?.formatted(.iso8601) ?? "never",
                        "\(used?.turns ?? 0)", "\(used?.totalTokens ?? 0)", (used?.cost ?? .zero).decimalString,
                    ].joined(separator: "\t"))
                }
                // What the user's own token (and the web app) spent, for comparison.
                if let own = spent[""] {
                    print([
                        "(own token)", "", "", "", "", "", "", "", own.lastTurnAt?.formatted(.iso8601) ?? "never", "\(own.turns)", "\(own.totalTokens)",
                        own.cost.decimalString,
                    ].joined(separator: "\t"))
                }
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
                let revoked = try await CommandAudit.key(.keyRevoked, label: label, of: user, command: "revoke", in: store) {
                    try await store.revokeAPIKey(userID: user.id, label: label)
                }
                try await store.close()
                guard revoked else {
                    throw ValidationError("\(user.name) has no working key labelled '\(label)'; 'sluice user key list \(user.name)' shows them")
                }
                print("Revoked the key '\(label)' of \(user.name).")
            }
        }
    }
}

extension RateCaps {
    /// "60 requests/min, 10000 tokens/min, 2 at once": the limits that are set.
    var summary: String {
        [
            requestsPerMinute.map { "\($0) requests/min" }, tokensPerMinute.map { "\($0) tokens/min" },
            maxParallel.map { "\($0) at once" },
        ].compactMap { $0 }.joined(separator: ", ")
    }
}
