import Foundation

extension Migrations {
    /// Step 20: a user may be allowed only some of the models Sluice serves (LiteLLM's `models` on a key, Open
    /// WebUI's model access): a team keeps its expensive model for the people who need it. One name per line;
    /// `NULL`, every model. Read with the user (the token cache keeps it), so checking it costs a turn nothing.
    static let modelAccessStep = Step(
        version: 20,
        statements: ["ALTER TABLE users ADD COLUMN allowed_models TEXT"])
}
