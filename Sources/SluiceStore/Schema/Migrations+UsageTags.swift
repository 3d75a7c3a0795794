import Foundation
import SluiceCore

extension Migrations {
    /// Step 65: the tags a gateway caller gave a call (`UsageTags`, LiteLLM's request tags), on its ledger row as a
    /// JSON array (`NULL` without any), for usage per tag (`UsageGrouping.tag`). Written with the hold, in its
    /// transaction on SQLite and right after it on PostgreSQL; an untagged call writes nothing more.
    static let usageTagsStep = Step(
        version: 65,
        statements: ["ALTER TABLE token_usage ADD COLUMN tags TEXT"])
}

extension StoredValues {
    /// A call's tags as stored: a JSON array of strings, `nil` for none.
    static func tagsJSON(_ tags: [String]) -> String? {
        guard !tags.isEmpty, let json = try? JSONEncoder().encode(tags) else { return nil }
        return String(decoding: json, as: UTF8.self)
    }
}
