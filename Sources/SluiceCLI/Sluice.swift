import ArgumentParser

/// The `sluice` command.
@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A self-hostable chat gateway for large language models.",
        subcommands: [Serve.self, UserCommand.self, TeamCommand.self, TagCommand.self, UsageCommand.self, FeedbackCommand.self, AuditCommand.self, CacheCommand.self, Simulate.self, Tokenize.self, Bench.self])
}
