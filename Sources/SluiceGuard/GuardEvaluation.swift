import Foundation

/// Scores a `PromptGuard` against a labelled set of prompts (JSON lines `{"text", "label": "attack"|"benign",
/// "category"}`): precision, recall and what it got wrong, per category.
public struct GuardEvaluation: Sendable {
    public struct LabelledPrompt: Sendable, Decodable {
        public let text: String
        public let label: String
        public let category: String
        public var isAttack: Bool { label == "attack" }
    }

    /// A prompt the guard judged wrongly.
    public struct Mistake: Sendable {
        public let prompt: LabelledPrompt
        /// The rules that fired (empty for a missed attack that matched nothing).
        public let firedRules: [String]
        public let score: Double
    }

    public let total: Int
    public let attacks: Int
    public let truePositives: Int
    public let falsePositives: Int
    /// Attacks let through.
    public let misses: [Mistake]
    /// Benign prompts rejected.
    public let falseAlarms: [Mistake]
    /// Time to check one prompt, in microseconds, sorted.
    public let checkMicroseconds: [Double]

    public var precision: Double {
        truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    public var recall: Double { attacks == 0 ? 1 : Double(truePositives) / Double(attacks) }

    public static func loadSet(path: String) throws -> [LabelledPrompt] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GuardRules.InvalidRules(description: "Could not read the labelled prompts at \(path).")
        }
        let decoder = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try decoder.decode(LabelledPrompt.self, from: Data($0.utf8))
        }
    }

    public init(guard promptGuard: PromptGuard, prompts: [LabelledPrompt]) {
        var truePositives = 0
        var falsePositives = 0
        var misses: [Mistake] = []
        var falseAlarms: [Mistake] = []
        var times: [Double] = []
        let clock = ContinuousClock()
        for prompt in prompts {
            let start = clock.now
            let verdict = promptGuard.check(prompt.text)
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
            switch (prompt.isAttack, verdict.allowed) {
            case (true, false): truePositives += 1
            case (true, true): misses.append(Mistake(prompt: prompt, firedRules: verdict.firedRules, score: verdict.score))
            case (false, false):
                falsePositives += 1
                falseAlarms.append(Mistake(prompt: prompt, firedRules: verdict.firedRules, score: verdict.score))
            case (false, true): break
            }
        }
        self.total = prompts.count
        self.attacks = prompts.filter(\.isAttack).count
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.misses = misses
        self.falseAlarms = falseAlarms
        self.checkMicroseconds = times.sorted()
    }

    /// Mistakes counted by category (`obfuscated:leetspeak`, `hard_negative`, …).
    public var mistakesByCategory: [(category: String, count: Int)] {
        Dictionary(grouping: misses + falseAlarms, by: \.prompt.category)
            .map { ($0.key, $0.value.count) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.category < $1.category }
    }

    public func percentile(_ p: Double) -> Double {
        guard !checkMicroseconds.isEmpty else { return 0 }
        let index = min(checkMicroseconds.count - 1, Int((p / 100 * Double(checkMicroseconds.count)).rounded(.up)) - 1)
        return checkMicroseconds[max(0, index)]
    }
}
