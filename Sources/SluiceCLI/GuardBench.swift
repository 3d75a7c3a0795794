import ArgumentParser
import Foundation
import SluiceGuard
import SluiceSimulator

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
        for (name, figures) in try RedactorTiming.measure(credentials: guardRules.credentials) {
            print(String(format: "output redactor per streamed token (%@): p50 %.2f µs  p95 %.2f µs  p99 %.2f µs",
                         name, figures.p50, figures.p95, figures.p99))
        }
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

/// What `OutputRedactor.feed` costs per streamed token, on the simulator's answer (a mix of ASCII words, accents,
/// CJK and emoji): with the built-in credential shapes alone, as on a gateway call without a system prompt, and
/// with a system prompt and an upstream key to keep out of the answer too.
enum RedactorTiming {
    static func measure(credentials: [CredentialPattern]) throws -> [(String, (p50: Double, p95: Double, p99: Double))] {
        let tokens = (0..<20_000).map(SimulatedText.token)
        let cases: [(String, String?, [String])] = [
            ("credential shapes", nil, []),
            ("+ system prompt and key", "You are a careful assistant for the support team. Answer briefly.", ["sk-bench-upstream-key-0123456789"]),
        ]
        return cases.map { name, systemPrompt, secrets in
            var redactor = OutputRedactor(systemPrompt: systemPrompt, credentials: credentials, secrets: secrets)
            let clock = ContinuousClock()
            var samples: [Double] = []
            samples.reserveCapacity(tokens.count)
            var shown = 0
            for token in tokens {
                let start = clock.now
                shown += redactor.feed(token).utf8.count
                let elapsed = clock.now - start
                samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
            }
            shown += redactor.finish().utf8.count
            precondition(shown == tokens.reduce(0) { $0 + $1.utf8.count }, "the redactor changed ordinary text")
            samples.sort()
            func at(_ percent: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * percent / 100))] }
            return (name, (at(50), at(95), at(99)))
        }
    }
}
