import SluiceCore
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

extension Migrations {
    /// Step 39: a user's message's images (`Message.images`: each a data URL or a link, with its detail, type and size),
    /// as a JSON list; `NULL` without images. Kept in the row, as OpenAI's and Anthropic's APIs take them inline.
    static let imagesStep = Step(version: 39, statements: ["ALTER TABLE messages ADD COLUMN images TEXT"])
}

extension Migrations {
    /// Step 40: a user's instructions for all their conversations (`userInstructions`, ChatGPT's custom
    /// instructions), put before each web conversation's own system prompt; `NULL` without any.
    static let userInstructionsStep = Step(version: 40, statements: ["ALTER TABLE users ADD COLUMN instructions TEXT"])
}

extension Migrations {
    /// Step 41: an answer's thinking as Anthropic signed it (`Message.signedThinking`: Anthropic's `thinking` and
    /// `redacted_thinking` blocks), as a JSON list; `NULL` without any. Sent back to Anthropic in a function-calling
    /// loop with extended thinking, which the API then requires.
    static let signedThinkingStep = Step(version: 41, statements: ["ALTER TABLE messages ADD COLUMN thinking_blocks TEXT"])
}

extension StoredValues {
    /// `messages.images` (schema step 39): a JSON list, `NULL` without images.
    static func encode(_ images: [ImageInput]) -> String? { encodeList(images) }
    static func decodeImages(_ text: String?) -> [ImageInput] { decodeList(text) }

    /// `messages.thinking_blocks` (schema step 41): a JSON list, `NULL` without signed thinking.
    static func encode(_ thinking: [SignedThinking]) -> String? { encodeList(thinking) }
    static func decodeSignedThinking(_ text: String?) -> [SignedThinking] { decodeList(text) }
}
