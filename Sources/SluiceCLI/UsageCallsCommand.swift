import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice usage calls`: the latest calls one by one, from the database — what the usage page's Calls lists.
struct UsageCallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "Print the latest calls, newest first: when, who, model, tokens, cost, first token, duration, outcome, key, end user, tags.")
    @Option(help: "Only this user's calls (default: everyone's).") var user: String?
    @Option(help: "Only calls to this model.") var model: String?
    @Option(help: "Only calls with this tag.") var tag: String?
    @Option(help: "Only calls that ended so: running, complete, stopped, failed or cached.") var outcome: String?
    @Option(help: "Only calls made on this UTC day or later, YYYY-MM-DD (default: any).") var since: String?
    @Option(help: "How many calls to print (1–10000).") var limit = 20
    @OptionGroup var database: UserCommand.DatabaseOption

    func run() async throws {
        let ending = try outcome.map { text in
            guard let ending = CallRecord.Outcome(rawValue: text) else {
                throw ValidationError("--outcome must be running, complete, stopped, failed or cached")
            }
            return ending
        }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 10000") }
        let start = try since.map { try UsageCommand.start(since: $0) }
        let calls = try await database.withStore { store in
            let userID = try await user.asyncMap { try await UserCommand.user(named: $0, in: store).id }
            return try await store.calls(CallLogQuery(userID: userID, model: model, tag: tag, outcome: ending, since: start, limit: limit))
        }
        print(["at", "user", "model", "outcome", "input", "output", "cost_usd", "ttft_ms", "duration_ms", "key", "end_user", "tags", "error"]
            .joined(separator: "\t"))
        for call in calls { print(Self.line(call)) }
    }

    /// A call's tab-separated fields; a deleted user's by their id.
    static func line(_ call: CallRecord) -> String {
        let who = call.userName ?? "\(call.userID) (deleted)"
        let timings = [call.firstTokenMilliseconds, call.durationMilliseconds].map { $0.map(String.init) ?? "" }
        let about = [call.apiKeyLabel ?? "", call.endUser ?? "", call.tags.joined(separator: ","), call.errorCode ?? ""]
        return ([ISO8601Milliseconds.string(call.at), who, call.model, call.outcome.rawValue, String(call.inputTokens),
                 String(call.outputTokens), call.cost.decimalString] + timings + about).joined(separator: "\t")
    }
}
