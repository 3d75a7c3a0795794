import Foundation
@testable import SluiceGuard
import Testing

/// The labelled set of `sluice bench personal-data` (`Tests/guard/personal-data.jsonl`) as a test: no false alarm,
/// and the only misses are the bare numbers the finder leaves alone by design.
struct PersonalDataSetTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("guard/personal-data.jsonl").path

    @Test func theLabelledSetIsFoundWithoutFalseAlarms() throws {
        let evaluation = PersonalDataEvaluation(lines: try PersonalDataEvaluation.loadSet(path: Self.path))
        #expect(evaluation.lines > 100)
        #expect(evaluation.falseAlarms.map { "\($0.detail.kind): \($0.detail.text)" } == [])
        #expect(Set(evaluation.misses.map(\.line.category)) == ["phone-bare"])
        for kind in PersonalDataKind.allCases {
            let scores = evaluation.scores(of: kind.rawValue)
            #expect(scores.labelled > 0)
            #expect(scores.precision == 1)
        }
    }
}
