import ArgumentParser
import Foundation
import SluiceCore
import SluiceStore

/// `sluice tag …`: budgets per tag — a daily and a monthly dollar limit on every call carrying a tag, whoever makes it
/// (the Users page's Tag budgets panel, from a shell).
struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag", abstract: "Manage tag budgets: daily and monthly spending limits on the calls carrying a tag.",
        subcommands: [List.self, Change.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tags with a budget, their limits and spending.")
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            try await database.withStore { store in
                print("tag\tdaily limit (USD)\tspent today (USD)\tmonthly limit (USD)\tspent this month (USD)")
                for summary in try await store.tagBudgets(now: Date()) {
                    print([
                        summary.budget.tag, summary.budget.dailyDollarLimit?.decimalString ?? "none", summary.spentToday.decimalString,
                        summary.budget.monthlyDollarLimit?.decimalString ?? "none", summary.spentThisMonth.decimalString,
                    ].joined(separator: "\t"))
                }
            }
        }
    }

    struct Change: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Give a tag a budget, or change its limits (a limit not named stays as it was).",
            discussion: "A new budget counts what the tag's calls have already spent this month.")
        @Argument(help: "The tag, as calls carry it (metadata.tags, x-sluice-tags, or a key's tags).") var tag: String
        @Option(help: ArgumentHelp("What calls with the tag may spend together a day, in USD, or 'none'.", valueName: "usd"))
        var dailyUsd: String?
        @Option(help: ArgumentHelp(
            "What calls with the tag may spend together a UTC calendar month, in USD, or 'none'.", valueName: "usd"))
        var monthlyUsd: String?
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            guard dailyUsd != nil || monthlyUsd != nil else { throw ValidationError("name a limit: --daily-usd, --monthly-usd or both") }
            let tag = try TagCommand.checked(tag)
            let daily = try dailyUsd.map { try UserCommand.SetPlan.amount($0, option: "--daily-usd") }
            let monthly = try monthlyUsd.map { try UserCommand.SetPlan.amount($0, option: "--monthly-usd") }
            try await database.withStore { store in
                let current = try await store.tagBudgets(now: Date()).first { $0.budget.tag == tag }?.budget
                let newDaily = daily ?? current?.dailyDollarLimit
                let newMonthly = monthly ?? current?.monthlyDollarLimit
                guard newDaily != nil || newMonthly != nil else {
                    throw ValidationError("that leaves the tag no limit: 'sluice tag remove \(tag)' removes its budget")
                }
                try await CommandAudit.tracking(
                    .tagBudgetSet, on: AuditTarget(.tag, tag), command: "sluice tag set", in: store,
                    settings: { try await $0.tagBudget(tag) }
                ) {
                    try await store.setTagBudget(tag: tag, dailyDollarLimit: newDaily, monthlyDollarLimit: newMonthly, now: Date())
                }
                let limits = [newDaily.map { "$\($0.decimalString) a day" }, newMonthly.map { "$\($0.decimalString) a month" }]
                print("Calls tagged \(tag) may spend \(limits.compactMap { $0 }.joined(separator: " and ")) together.")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a tag's budget; its calls stay in the ledger.")
        @Argument(help: "The tag.") var tag: String
        @OptionGroup var database: UserCommand.DatabaseOption

        func run() async throws {
            let tag = try TagCommand.checked(tag)
            try await database.withStore { store in
                try await CommandAudit.tracking(
                    .tagBudgetRemoved, on: AuditTarget(.tag, tag), command: "sluice tag remove", in: store,
                    settings: { try await $0.tagBudget(tag) }
                ) {
                    guard try await store.removeTagBudget(tag: tag) else {
                        throw ValidationError("the tag \(tag) has no budget; 'sluice tag list' shows those that have one")
                    }
                }
                print("The tag \(tag) has no budget now.")
            }
        }
    }

    /// `raw` as a call's tag is checked (`UsageTags.rule`).
    static func checked(_ raw: String) throws -> String {
        guard let tags = UsageTags.checked([raw]), let tag = tags.first, tags.count == 1 else {
            throw ValidationError("a tag must be 1 to \(UsageTags.longest) characters, without commas or control characters")
        }
        return tag
    }
}
