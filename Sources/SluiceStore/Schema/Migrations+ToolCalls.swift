import Foundation

extension Migrations {
    /// Step 22: function calling through the gateway. An assistant message keeps the calls it made (`tool_calls`,
    /// a JSON list of `{"id", "name", "arguments"}`), a `tool` message the call it answers (`tool_call_id`): the
    /// conversation goes upstream again with both, and a caller's next request continues it.
    static let toolCallsStep = Step(
        version: 22,
        statements: [
            "ALTER TABLE messages ADD COLUMN tool_calls TEXT",
            "ALTER TABLE messages ADD COLUMN tool_call_id TEXT",
        ])
}
