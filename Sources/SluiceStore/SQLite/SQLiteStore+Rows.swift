import Foundation
import SQLiteNIO
import SluiceCore

extension SQLiteRow: StoredRow {
    func string(_ column: String) -> String? {
        guard let data = self.column(column), !data.isNull else { return nil }
        return data.string
    }

    func int(_ column: String) -> Int? {
        guard let data = self.column(column), !data.isNull else { return nil }
        return data.integer
    }
}

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
