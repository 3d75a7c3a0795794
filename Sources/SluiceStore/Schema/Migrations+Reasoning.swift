import Foundation

extension Migrations {
    /// Step 38: a reasoning model's thinking (`reasoning_content`), kept with its answer (redacted as the answer is)
    /// so that the web app shows it again, and how long the model thought (`reasoning_ms`); `NULL` for an answer
    /// without thinking. It is never sent upstream again.
    static let reasoningStep = Step(
        version: 38,
        statements: [
            "ALTER TABLE messages ADD COLUMN reasoning TEXT",
            "ALTER TABLE messages ADD COLUMN reasoning_ms INTEGER",
        ])
}
