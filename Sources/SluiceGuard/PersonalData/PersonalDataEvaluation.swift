import Foundation

/// Scores `PersonalDataFinder` against a labelled set (JSON lines `{"text", "details": [{"kind", "text"}],
/// "category"}`, `Tests/guard/personal-data.jsonl`): per kind, the details found as labelled, those found that are
/// not labelled (false alarms: text changed for nothing) and those missed (sent to the model as written).
public struct PersonalDataEvaluation: Sendable {
    public struct LabelledText: Sendable, Decodable {
        public struct Detail: Sendable, Decodable, Hashable {
            public let kind: String
            public let text: String
        }

        public let text: String
        public let details: [Detail]
        public let category: String
    }

    /// A detail found but not labelled, or labelled but not found, with the text it is in.
    public struct Mistake: Sendable {
        public let detail: LabelledText.Detail
        public let line: LabelledText
    }

    public let lines: Int
    public let labelled: Int
    /// How many details of each kind the set labels.
    public let labelledByKind: [String: Int]
    public let found: Int
    public let misses: [Mistake]
    public let falseAlarms: [Mistake]
    /// Time to find the details of one line, in microseconds, sorted.
    public let findMicroseconds: [Double]

    public var truePositives: Int { labelled - misses.count }
    public var precision: Double { found == 0 ? 1 : Double(truePositives) / Double(found) }
    public var recall: Double { labelled == 0 ? 1 : Double(truePositives) / Double(labelled) }

    public static func loadSet(path: String) throws -> [LabelledText] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GuardRules.InvalidRules(description: "Could not read the labelled personal data at \(path).")
        }
        let decoder = JSONDecoder()
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try decoder.decode(LabelledText.self, from: Data($0.utf8))
        }
    }

    public init(lines: [LabelledText]) {
        var misses: [Mistake] = []
        var falseAlarms: [Mistake] = []
        var found = 0
        var times: [Double] = []
        let clock = ContinuousClock()
        for line in lines {
            let start = clock.now
            let matches = PersonalDataFinder.matches(in: line.text)
            let elapsed = clock.now - start
            times.append(Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12)
            let bytes = Array(line.text.utf8)
            let seen = matches.map {
                LabelledText.Detail(kind: $0.kind.rawValue, text: String(decoding: bytes[$0.range], as: UTF8.self))
            }
            found += seen.count
            misses += line.details.filter { !seen.contains($0) }.map { Mistake(detail: $0, line: line) }
            falseAlarms += seen.filter { !line.details.contains($0) }.map { Mistake(detail: $0, line: line) }
        }
        self.lines = lines.count
        labelled = lines.reduce(0) { $0 + $1.details.count }
        labelledByKind = Dictionary(grouping: lines.flatMap(\.details), by: \.kind).mapValues(\.count)
        self.found = found
        self.misses = misses
        self.falseAlarms = falseAlarms
        findMicroseconds = times.sorted()
    }

    /// Precision and recall of one kind.
    public func scores(of kind: String) -> (labelled: Int, precision: Double, recall: Double) {
        let missed = misses.filter { $0.detail.kind == kind }.count
        let alarms = falseAlarms.filter { $0.detail.kind == kind }.count
        let labelledKind = labelledByKind[kind, default: 0]
        let right = labelledKind - missed
        return (labelledKind, right + alarms == 0 ? 1 : Double(right) / Double(right + alarms),
                labelledKind == 0 ? 1 : Double(right) / Double(labelledKind))
    }


    public func percentile(_ p: Double) -> Double {
        guard !findMicroseconds.isEmpty else { return 0 }
        let index = min(findMicroseconds.count - 1, Int((p / 100 * Double(findMicroseconds.count)).rounded(.up)) - 1)
        return findMicroseconds[max(0, index)]
    }
}
