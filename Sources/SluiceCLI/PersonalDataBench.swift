import ArgumentParser
import Foundation
import SluiceGuard
import SluiceSimulator

/// `sluice bench personal-data`: how well and how fast `--mask-personal-data` finds the details it masks, and what
/// putting them back costs a streamed answer.
struct PersonalDataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personal-data",
        abstract: "Precision, recall and cost of personal data masking (--mask-personal-data) on a labelled set.")

    @Option(help: "JSON lines {\"text\", \"details\": [{\"kind\", \"text\"}], \"category\"}.")
    var set = "Tests/guard/personal-data.jsonl"

    @Flag(help: "List every mistake.")
    var verbose = false

    func run() throws {
        let lines = try PersonalDataEvaluation.loadSet(path: set)
        let evaluation = PersonalDataEvaluation(lines: lines)
        print("set: \(evaluation.lines) texts, \(evaluation.labelled) labelled details")
        print(String(format: "precision %.3f  recall %.3f  (found %d, %d false alarms, %d missed)",
                     evaluation.precision, evaluation.recall, evaluation.found, evaluation.falseAlarms.count, evaluation.misses.count))
        for kind in PersonalDataKind.allCases {
            let scores = evaluation.scores(of: kind.rawValue)
            print(String(format: "  %-6@ %3d labelled  precision %.3f  recall %.3f", kind.rawValue, scores.labelled, scores.precision, scores.recall))
        }
        print(String(format: "finding per text: p50 %.1f µs  p95 %.1f µs  p99 %.1f µs",
                     evaluation.percentile(50), evaluation.percentile(95), evaluation.percentile(99)))
        let document = Self.document(from: lines, bytes: 100_000)
        let (masked, seconds) = Self.timeMasking(document)
        print(String(format: "masking a %d KB message with %d details: %.2f ms (%.0f MB/s)",
                     document.utf8.count / 1000, masked, seconds * 1000, Double(document.utf8.count) / seconds / 1e6))
        let restoring = Self.timeRestoring()
        print(String(format: "putting details back, per streamed token: p50 %.2f µs  p95 %.2f µs  p99 %.2f µs",
                     restoring.p50, restoring.p95, restoring.p99))
        if verbose {
            for miss in evaluation.misses { print("MISSED  [\(miss.line.category)] \(miss.detail.kind): \(miss.detail.text.debugDescription) in \(miss.line.text.debugDescription)") }
            for alarm in evaluation.falseAlarms { print("FALSE   [\(alarm.line.category)] \(alarm.detail.kind): \(alarm.detail.text.debugDescription) in \(alarm.line.text.debugDescription)") }
        }
    }

    /// The set's texts between paragraphs of the simulator's prose, to `bytes`: a pasted document with some details.
    static func document(from lines: [PersonalDataEvaluation.LabelledText], bytes: Int) -> String {
        var document = ""
        var index = 0
        while document.utf8.count < bytes {
            document += (0..<60).map { SimulatedText.token(index * 60 + $0) }.joined() + "\n\n"
            document += lines[index % lines.count].text + "\n\n"
            index += 1
        }
        return document
    }

    /// The fastest of 20 maskings of `document` (the first warms up), and how many details it masked.
    static func timeMasking(_ document: String) -> (masked: Int, seconds: Double) {
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000)
        var masked = 0
        for _ in 0..<20 {
            var mask = PersonalDataMask(texts: [document])
            let start = clock.now
            _ = mask.mask(document)
            best = min(best, clock.now - start)
            masked = mask.counts.values.reduce(0, +)
        }
        return (masked, Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18)
    }

    /// `PlaceholderRestorer.feed` on the simulator's answer with a placeholder written over three tokens every
    /// fifty tokens, as a model refers to the details it was given.
    static func timeRestoring() -> (p50: Double, p95: Double, p99: Double) {
        var mask = PersonalDataMask()
        _ = mask.mask("ann@example.com, 4242 4242 4242 4242, +44 20 7946 0958")
        var restorer = PlaceholderRestorer(originals: mask.originals)
        var tokens: [String] = []
        for index in 0..<20_000 {
            tokens.append(SimulatedText.token(index))
            if index % 50 == 49 { tokens += [" [EM", "AIL_", "1]"] }
        }
        let clock = ContinuousClock()
        var samples: [Double] = []
        samples.reserveCapacity(tokens.count)
        var shown = ""
        for token in tokens {
            let start = clock.now
            shown += restorer.feed(token)
            let elapsed = clock.now - start
            samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        shown += restorer.finish()
        precondition(!shown.contains("[EMAIL_1]") && shown.contains("ann@example.com"), "the restorer left a placeholder")
        samples.sort()
        func at(_ percent: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * percent / 100))] }
        return (at(50), at(95), at(99))
    }
}
