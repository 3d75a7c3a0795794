import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

extension UserCommand.Key {
    /// `sluice user key set NAME LABEL …`: changes a working key's terms in place (its label and secret stay), as
    /// `PATCH /api/keys/{label}` does. `none` removes a limit.
    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a key's expiry, models, limits or tags in place (within 5 s on a running server); 'none' removes one.")
        @Argument(help: "The user's name.") var name: String
        @Argument(help: "The key's label.") var label: String
        @Option(help: "Days from now until the key stops working by itself, or 'none' for never (an expired key works again).")
        var expiresInDays: String?
        @Option(name: .customLong("model"), help: "Limit the key to this model (repeat for more).")
        var models: [String] = []
        @Flag(help: "Let the key use all of the user's models again.") var allModels = false
        @Option(help: "What the key's turns may spend a day (UTC), in dollars, or 'none'.") var dailyUsd: String?
        @Option(help: "Requests the key may make a minute, or 'none'.") var requestsPerMinute: String?
        @Option(help: "Tokens the key's turns may use a minute, or 'none'.") var tokensPerMinute: String?
        @Option(help: "Answers the key may have running at once, or 'none'.") var maxParallelRequests: String?
        @Option(name: .customLong("tag"), help: "The key's tags, which each of its calls carries: repeat for more; they replace the key's tags.")
        var tags: [String] = []
        @Flag(help: "Remove the key's tags.") var noTags = false
        @OptionGroup var database: UserCommand.DatabaseOption

        func validate() throws {
            if allModels, !models.isEmpty { throw ValidationError("give --model or --all-models, not both") }
            if noTags, !tags.isEmpty { throw ValidationError("give --tag or --no-tags, not both") }
            if try parsedChanges(now: Date()).isEmpty {
                throw ValidationError(
                    "name what to change: --expires-in-days, --model, --all-models, --daily-usd, --requests-per-minute, "
                        + "--tokens-per-minute, --max-parallel-requests, --tag or --no-tags")
            }
        }

        func run() async throws {
            let store = try await database.open()
            let user = try await UserCommand.user(named: name, in: store)
            let changes = try parsedChanges(now: Date())
            let key = try await CommandAudit.key(.keyChanged, label: label, of: user, command: "set", in: store) {
                try await store.updateAPIKey(userID: user.id, label: label, changes: changes)
            }
            try await store.close()
            guard let key else {
                throw ValidationError("\(user.name) has no working key labelled '\(label)'; 'sluice user key list \(user.name)' shows them")
            }
            var terms: [String] = []
            terms.append(key.expiresAt.map { "until " + $0.formatted(.iso8601) } ?? "never expires")
            terms.append(key.allowedModels.map { "only with " + $0.joined(separator: ", ") } ?? "all models")
            terms.append(key.dailyDollarLimit.map { "up to $" + $0.decimalString + " a day" } ?? "no daily limit of its own")
            terms.append(key.rateCaps.isEmpty ? "no rate limits of its own" : "at most " + key.rateCaps.summary)
            terms.append(key.tags.isEmpty ? "no tags" : "its calls tagged " + key.tags.joined(separator: ", "))
            print("Changed the key '\(key.label)' of \(user.name): \(terms.joined(separator: "; ")).")
        }

        /// The changes asked for; a value that is neither a number in range nor `none` is an error naming its option.
        private func parsedChanges(now: Date) throws -> APIKey.Changes {
            var changes = APIKey.Changes()
            if let days = try Self.parse(expiresInDays, "--expires-in-days", 1...APIKey.longestLifetimeDays) {
                changes.expiresAt = .some(days.map { now.addingTimeInterval(Double($0) * 86_400) })
            }
            if allModels { changes.allowedModels = .some(nil) }
            if !models.isEmpty {
                if let bad = models.first(where: { $0.isEmpty || $0.contains("\n") || $0.count > 200 }) {
                    throw ValidationError("'\(bad)' is not a model name (one line, 1 to 200 characters)")
                }
                changes.allowedModels = .some(models)
            }
            if let dailyUsd {
                if dailyUsd == "none" {
                    changes.dailyDollarLimit = .some(nil)
                } else if let amount = USDAmount(dailyUsd), amount.picodollars > 0 {
                    changes.dailyDollarLimit = .some(amount)
                } else {
                    throw ValidationError("--daily-usd must be an amount of dollars above 0, e.g. 5 or 0.25, or 'none'")
                }
            }
            changes.requestsPerMinute = try Self.parse(requestsPerMinute, "--requests-per-minute", 1...RateCaps.highest)
            changes.tokensPerMinute = try Self.parse(tokensPerMinute, "--tokens-per-minute", 1...RateCaps.highest)
            changes.maxParallel = try Self.parse(maxParallelRequests, "--max-parallel-requests", 1...RateCaps.highest)
            if noTags { changes.tags = [] }
            if !tags.isEmpty {
                guard let checked = UsageTags.checked(tags) else { throw ValidationError("--tag must be \(UsageTags.rule)") }
                changes.tags = checked
            }
            return changes
        }

        /// `nil` when not given, `.some(nil)` for `none`, else the number.
        private static func parse(_ text: String?, _ option: String, _ range: ClosedRange<Int>) throws -> Int?? {
            guard let text else { return nil }
            if text == "none" { return .some(nil) }
            guard let number = Int(text), range.contains(number) else {
                throw ValidationError("\(option) must be from \(range.lowerBound) to \(range.upperBound), or 'none'")
            }
            return .some(number)
        }
    }
}
