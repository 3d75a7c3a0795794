import ArgumentParser
import Foundation
import SluiceGuard

/// `sluice bench guard`: precision, recall and the mistakes of the prompt guard on a labelled set.
struct GuardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard", abstract: "Precision and recall of the prompt-injection guard on a labelled set.")

    @Option(help: "JSON lines {\"text\", \"label\": attack|benign, \"category\"}.")
    var set = "Tests/guard/prompts.jsonl"

    @Option(help: "A rules file to measure instead of the built-in one.")
    var rules: String?

    @Flag(help: "List every mistake with the rules that fired.")
    var verbose = false

    func run() throws {
        let guardRules = try rules.map(GuardRules.load(from:)) ?? GuardRules.builtIn()
        let prompts = try GuardEvaluation.loadSet(path: set)
        let evaluation = GuardEvaluation(guard: PromptGuard(rules: guardRules), prompts: prompts)
        print("set: \(evaluation.total) prompts (\(evaluation.attacks) attacks, \(evaluation.total - evaluation.attacks) benign), \(guardRules.rules.count) rules")
        print(String(format: "precision %.3f  recall %.3f  (caught %d of %d attacks, %d false alarms)",
                     evaluation.precision, evaluation.recall, evaluation.truePositives, evaluation.attacks,
                     evaluation.falsePositives))
        print(String(format: "check time per prompt: p50 %.1f µs  p95 %.1f µs  p99 %.1f µs",
                     evaluation.percentile(50), evaluation.percentile(95), evaluation.percentile(99)))
        if !evaluation.mistakesByCategory.isEmpty {
            print("mistakes by category:")
            for (category, count) in evaluation.mistakesByCategory { print("  \(category): \(count)") }
        }
        if verbose {
            for miss in evaluation.misses { print("MISSED  [\(miss.prompt.category)] \(miss.prompt.text.debugDescription) fired=\(miss.firedRules)") }
            for alarm in evaluation.falseAlarms { print("FALSE   [\(alarm.prompt.category)] \(alarm.prompt.text.debugDescription) fired=\(alarm.firedRules)") }
        }
    }
}
