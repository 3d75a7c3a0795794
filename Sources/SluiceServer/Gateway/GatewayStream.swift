import NIOCore
import SluiceCore

/// Turns a turn's events into the `data:` lines of an OpenAI chat completion stream.
struct GatewayStream {
    let envelope: OpenAIWire.Envelope
    let includeUsage: Bool
    /// Whether the caller asked for `logprobs`: every chunk with text then has its tokens' entries.
    let withLogprobs: Bool
    /// The answer's index among the call's (`n`), in every chunk's choice.
    let choice: Int
    /// Whether the answer's end ends the stream too (the usage chunk, if asked for, and `[DONE]`); with several
    /// answers the stream's end is written once all have ended (`GatewayRoutes.completeMany`).
    let closes: Bool
    private(set) var ended = false
    /// Entries for the next token's chunk (they arrive just before it).
    private var logprobs: [TokenLogprob] = []
    /// The bytes around each token's text, built once per stream rather than once per token.
    private let tokenHead: [UInt8]
    private let tokenTail: [UInt8]

    init(envelope: OpenAIWire.Envelope, includeUsage: Bool, withLogprobs: Bool = false, choice: Int = 0, closes: Bool = true) {
        self.envelope = envelope
        self.includeUsage = includeUsage
        self.withLogprobs = withLogprobs
        self.choice = choice
        self.closes = closes
        tokenHead = Array(("data: " + envelope.prefix("chat.completion.chunk") + "\"choices\":[{\"index\":\(choice),\"delta\":{\"content\":").utf8)
        tokenTail = Array(("},\"finish_reason\":null}]" + (includeUsage ? ",\"usage\":null}" : "}") + "\n\n").utf8)
    }

    /// The first chunk: the role, as OpenAI sends it.
    func opening() -> String {
        OpenAIWire.event(OpenAIWire.chunk(envelope, choice: choice, content: "", role: true, usageNull: includeUsage))
    }

    /// What to write for one event, if anything; after `done` or `error` the stream has ended. A token's chunk is
    /// written straight into one buffer (head, quoted text, tail): no `String` and no intermediate array.
    mutating func bytes(for event: TurnEvent) -> ByteBuffer? {
        switch event {
        case .token(_, _, let text):
            // The same bytes as OpenAIWire.event(OpenAIWire.chunk(envelope, content: text, …)).
            var buffer = ByteBufferAllocator().buffer(capacity: tokenHead.count + text.utf8.count + 8 + tokenTail.count)
            buffer.writeBytes(tokenHead)
            if JSONText.needsEscaping(text) {
                var quoted: [UInt8] = []
                JSONText.appendQuoted(text, to: &quoted)
                buffer.writeBytes(quoted)
            } else {
                buffer.writeInteger(UInt8(ascii: "\""))
                buffer.writeString(text)
                buffer.writeInteger(UInt8(ascii: "\""))
            }
            if withLogprobs {
                // `"delta":{…},"logprobs":{…},"finish_reason":null`, as OpenAI orders a choice's fields.
                buffer.writeString("},\"logprobs\":" + TokenLogprob.choiceJSON(logprobs))
                buffer.writeBytes(tokenTail.dropFirst())
                logprobs = []
            } else {
                buffer.writeBytes(tokenTail)
            }
            return buffer
        case .logprobs(let entries):
            logprobs += entries
            return nil
        case .reasoning(let text):
            // As vLLM, DeepSeek and LiteLLM stream a reasoning model's thinking.
            return ByteBuffer(string: OpenAIWire.event(OpenAIWire.chunk(envelope, choice: choice, reasoning: text, usageNull: includeUsage)))
        case .signedThinking(let block):
            return ByteBuffer(string: OpenAIWire.event(OpenAIWire.thinkingChunk(envelope, choice: choice, block, usageNull: includeUsage)))
        case .toolCall(let call):
            return ByteBuffer(string: OpenAIWire.event(OpenAIWire.toolCallChunk(envelope, choice: choice, call, usageNull: includeUsage)))
        case .done(let done):
            ended = true
            let answered = OpenAIWire.Envelope(id: envelope.id, created: envelope.created, model: done.model)
            // A cancelled answer ends like one cut by a limit would: the caller sees why in finish_reason.
            // Entries that came after the last text (its end, redacted) go out in a chunk of their own.
            var text = ""
            if !logprobs.isEmpty {
                text = OpenAIWire.event(OpenAIWire.chunk(answered, choice: choice, content: "", logprobs: logprobs, usageNull: includeUsage))
                logprobs = []
            }
            text += OpenAIWire.event(
                OpenAIWire.chunk(answered, choice: choice, finishReason: done.finishReason ?? "stop", usageNull: includeUsage))
            guard closes else { return ByteBuffer(string: text) }
            if includeUsage { text += OpenAIWire.event(OpenAIWire.usageChunk(answered, usage: done.usage, cost: done.costUSD)) }
            return ByteBuffer(string: text + OpenAIWire.done)
        case .error(let failure):
            ended = true
            return ByteBuffer(string: OpenAIWire.event(OpenAIWire.streamError(failure)))
        case .meta, .status:
            return nil
        }
    }
}
