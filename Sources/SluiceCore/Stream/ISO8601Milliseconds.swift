import Foundation

/// Dates as the HTTP API writes them — `2026-12-05T13:38:18.123Z`, UTC, milliseconds — in the format of
/// `Date.ISO8601FormatStyle(includingFractionalSeconds: true)`, written with integer arithmetic: the FormatStyle took
/// most of the time of a 5 000-conversation list (three dates each). A date the stores keep (whole milliseconds) is
/// written as exactly that millisecond, which the FormatStyle, computing the fraction of a second in floating point,
/// sometimes writes one millisecond early (`…19.945` as `…19.944`); other dates are rounded down to the millisecond.
public enum ISO8601Milliseconds {
    public static func string(_ date: Date) -> String {
        let scaled = date.timeIntervalSince1970 * 1000
        // Within a microsecond of a whole millisecond is that millisecond (the double of `ms / 1000` times 1000).
        let milliseconds = Int64(abs(scaled - scaled.rounded()) < 0.001 ? scaled.rounded() : scaled.rounded(.down))
        let days = milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
        let ofDay = milliseconds - days * 86_400_000
        // The civil date of a day number (Howard Hinnant's `civil_from_days`).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let fields: [(Int64, Int)] = [
            (year, 4), (month, 2), (day, 2), (ofDay / 3_600_000, 2), (ofDay / 60_000 % 60, 2), (ofDay / 1000 % 60, 2),
            (ofDay % 1000, 3),
        ]
        let separators: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-"), UInt8(ascii: "T"), UInt8(ascii: ":"), UInt8(ascii: ":"), UInt8(ascii: "."), UInt8(ascii: "Z")]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            for (position, (value, width)) in fields.enumerated() {
                var rest = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                index += width
                buffer[index] = separators[position]
                index += 1
            }
            return index
        }
    }
}
