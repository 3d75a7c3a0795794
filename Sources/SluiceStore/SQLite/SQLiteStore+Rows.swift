import Foundation
import SluiceCore

/// Binding values for `SQLiteStore`'s statements.
extension SQLiteStore {
    static func optional(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }
    static func optional(_ value: Int?) -> SQLiteData { value.map { .integer($0) } ?? .null }
    static func milliseconds(_ date: Date) -> Int { StoredValues.milliseconds(date) }

    /// A message's columns plus its cost from the usage ledger.
    static let messageColumns = """
        m.*, (SELECT SUM(u.cost_picousd) FROM token_usage u WHERE u.message_id = m.id AND u.state = 'settled') AS cost_picousd
        """
}
