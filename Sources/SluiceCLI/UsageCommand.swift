import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice usage report`: settled token usage and cost, for one user or everyone, from the database; `sluice usage
/// calls` (`UsageCallsCommand`): the calls one by one.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Token usage reports, and the calls one by one.", subcommands: [Report.self, UsageCallsCommand.self])

    /// A report's `--since YYYY-MM-DD`: the start of that UTC day, or 30 days ago without one.
    static func start(since: String?) throws -> Date {
        guard let since else { return Date().addingTimeInterval(-30 * 86_400) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        guard let parsed = formatter.date(from: since) else { throw ValidationError("--since must be a date like 2026-11-01") }
        return parsed
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print settled tokens and exact cost per day (or conversation, model, end user, API key, project, user, team or tag) as a table.")
        @Option(help: "Only this user (default: everyone).") var user: String?
        @Option(help: "First UTC day to include, YYYY-MM-DD (default: 30 days ago).") var since: String?
        @Option(help: "day, conversation, model, end_user (the gateway's `user` field), key (the labelled API key), project, user, team or tag (a turn counts under each of its tags).")
        var group: String = "day"
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            guard let grouping = UsageGrouping(rawValue: group) else {
                throw ValidationError("--group must be day, conversation, model, end_user, key, project, user, team or tag")
            }
            let start = try UsageCommand.start(since: since)
            let store = try await database.open()
            let userID = try await user.asyncMap { try await UserCommand.user(named: $0, in: store).id }
            let buckets = try await store.usageHistory(userID: userID, since: start, groupedBy: grouping)
            // Per tag the rows overlap (a turn counts under each of its tags): the total is the whole, read by day.
            let whole = grouping == .tag ? try await store.usageHistory(userID: userID, since: start, groupedBy: .day) : buckets
            try await store.close()
            print([grouping.rawValue, "turns", "input", "output", "total", "cost_usd", "cache_hits", "saved_usd", "cached_input"]
                .joined(separator: "\t"))
            for bucket in buckets {
                let key: String
                switch grouping {
                // The empty key: calls that are not conversations (embeddings, text completions).
                case .conversation where bucket.key.isEmpty: key = "(no conversation: embeddings, text completions)"
                case .conversation: key = "\(bucket.key) \(bucket.label ?? "(deleted)")"
                case .endUser where bucket.key.isEmpty: key = "(none)"
                // A key by its label (unique per user); with everyone's usage, by its id too.
                case .apiKey where bucket.key.isEmpty: key = "(own token)"
                case .apiKey: key = userID == nil ? "\(bucket.key) \(bucket.label ?? "")" : bucket.label ?? bucket.key
                case .project where bucket.key.isEmpty: key = "(no project)"
                case .project: key = bucket.label ?? bucket.key
                case .user: key = bucket.label ?? "\(bucket.key) (deleted)"
                case .team where bucket.key.isEmpty: key = "(no team)"
                case .team: key = bucket.label ?? "\(bucket.key) (deleted team)"
                case .tag where bucket.key.isEmpty: key = "(untagged)"
                default: key = bucket.key
                }
                print([key, "\(bucket.turns)", "\(bucket.inputTokens)", "\(bucket.outputTokens)", "\(bucket.totalTokens)", bucket.cost.decimalString,
                       "\(bucket.cacheHits)", bucket.savedCost.decimalString, "\(bucket.cachedInputTokens)"]
                    .joined(separator: "\t"))
            }
            let total = UsageBucket.total(of: whole)
            print(["total", "\(total.turns)", "", "", "\(total.totalTokens)", total.cost.decimalString, "\(total.cacheHits)",
                   total.savedCost.decimalString, "\(total.cachedInputTokens)"].joined(separator: "\t"))
        }
    }
}
