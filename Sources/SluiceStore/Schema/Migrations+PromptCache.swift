import Foundation
import SluiceCore

extension Migrations {
    /// Step 33: the part of a prompt the provider read from its prompt cache (`Usage.cachedInputTokens`), on
    /// each answer and in the ledger, and the part it wrote there (`Usage.cacheWriteTokens`, Anthropic's cache
    /// creation) on each answer. Both are counted inside `input_tokens`.
    static let promptCacheStep = Step(
        version: 33,
        statements: [
            "ALTER TABLE messages ADD COLUMN cached_input_tokens INTEGER",
            "ALTER TABLE messages ADD COLUMN cache_write_tokens INTEGER",
            "ALTER TABLE token_usage ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0",
        ])
}
