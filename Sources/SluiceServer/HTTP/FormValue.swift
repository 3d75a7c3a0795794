import Foundation
import Hummingbird

extension Request {
    /// The query's `field` decoded as a form's value, `+` a space and `%2B` a plus — as browsers' `URLSearchParams`,
    /// Python's `urlencode` and `curl --data-urlencode` write one, and as `encodeURIComponent` (which writes no bare `+`)
    /// reads the same. Hummingbird's `queryParameters` keep a `+`, which would turn a search for two words, or a
    /// team's name with a space, into one word with a plus in it. `nil` when the query has no such field.
    func formValue(_ field: String) -> String? {
        for pair in (uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == field else { continue }
            return parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
