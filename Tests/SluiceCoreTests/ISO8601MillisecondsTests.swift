import Foundation
import SluiceCore
import Testing

@Suite("ISO 8601 dates with milliseconds")
struct ISO8601MillisecondsTests {
    static let reference = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    @Test("Foundation's ISO8601FormatStyle's text, or one millisecond later where it writes a whole millisecond early; read back, the date to the millisecond")
    func asFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400), // 2000-02-29
            Date(timeIntervalSince1970: 1_767_225_599.999), Date(timeIntervalSince1970: 4_102_444_800), // 2100-01-01
            Date(timeIntervalSince1970: 1_764_941_898.1239), Date(timeIntervalSince1970: 1_764_941_898.9994),
        ]
        for _ in 0..<5_000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator)))
            dates.append(Date(timeIntervalSince1970: Double(Int.random(in: 0..<4_102_444_800_000, using: &generator)) / 1000))
        }
        var early = 0
        for (index, date) in dates.enumerated() {
            let mine = ISO8601Milliseconds.string(date)
            let theirs = date.formatted(Self.reference)
            let read = try Date(mine, strategy: Self.reference)
            #expect(abs(read.timeIntervalSince1970 * 1000 - (date.timeIntervalSince1970 * 1000).rounded(.down)) < 1.001, "\(mine)")
            if mine != theirs {
                // Whole milliseconds (every other random date) Foundation writes one early about half the time.
                if index % 2 == 0 { early += 1 }
                #expect(abs(read.timeIntervalSince(try Date(theirs, strategy: Self.reference)) - 0.001) < 0.0001, "\(mine) \(theirs)")
            }
        }
        #expect(early < dates.count / 200, "dates between milliseconds: the same text but for \(early) of \(dates.count / 2)")
    }

    @Test("a date the stores keep (whole milliseconds) is written as exactly that millisecond")
    func wholeMilliseconds() {
        #expect(ISO8601Milliseconds.string(Date(timeIntervalSince1970: 2_082_231_181_384 / 1000)) == "2035-12-25T21:33:01.384Z")
        #expect(ISO8601Milliseconds.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Milliseconds.string(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(ISO8601Milliseconds.string(Date(timeIntervalSince1970: 1_767_225_599.999)) == "2025-12-31T23:59:59.999Z")
        #expect(ISO8601Milliseconds.string(Date(timeIntervalSince1970: 1_764_941_898.1239)) == "2025-12-05T13:38:18.123Z")
    }
}
