import ArgumentParser
import SluiceStore

/// `sluice cache clear`: empties the gateway's response cache (`--response-cache-seconds`), LiteLLM's `/cache/flushall`.
struct CacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache", abstract: "The gateway's response cache.", subcommands: [Clear.self])

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drop the kept answers, so that the next identical calls ask the model again (after its weights, its prompt template or its upstream changed).")
        @Option(help: "Only the answers of this model (default: all).") var model: String?
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            let store = try await database.open()
            do {
                let removed = try await store.clearCachedResponses(model: model)
                try await store.close()
                print("Removed \(removed) cached answer\(removed == 1 ? "" : "s")\(model.map { " of \($0)" } ?? "").")
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}
