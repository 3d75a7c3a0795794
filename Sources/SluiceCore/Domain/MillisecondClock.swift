import Foundation

extension Date {
    /// Now, to the millisecond (rounded down), as the stores keep times: a value written reads back equal.
    public static var nowToTheMillisecond: Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
