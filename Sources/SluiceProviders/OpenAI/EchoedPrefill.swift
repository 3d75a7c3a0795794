/// Takes the start of a prefilled answer off the text an OpenAI-compatible upstream streams, when it repeats it:
/// llama-server answers a request that ends with an assistant message with that message's text first and the
/// model's continuation after it (in one content, or its first chunk holding both), where Anthropic and vLLM's
/// `continue_final_message` give the continuation alone. Sluice's turn wants the continuation: it stores the start
/// itself.
///
/// Text is held back only while it is still a beginning of the start; once it is the whole start (and more) that
/// start is dropped, and once it differs nothing is dropped — a model that merely continues is left as it is.
struct EchoedPrefill: Sendable {
    private let start: [UInt8]
    private var held: [UInt8] = []
    private(set) var settled = false

    init(_ start: String) {
        self.start = Array(start.utf8)
        settled = self.start.isEmpty
    }

    /// The text of `piece` to pass on now (empty while it may still be the repeated start).
    mutating func take(_ piece: String) -> String {
        guard !settled else { return piece }
        held += piece.utf8
        if held.count >= start.count {
            settled = true
            let repeated = held.starts(with: start)
            let rest = repeated ? held[start.count...] : held[...]
            held = []
            return String(decoding: rest, as: UTF8.self)
        }
        if start.starts(with: held) { return "" }
        settled = true
        defer { held = [] }
        return String(decoding: held, as: UTF8.self)
    }

    /// What is still held when the text ends before it settled (a continuation shorter than the start's length that
    /// began as the start does): it was the model's, and is passed on.
    mutating func finish() -> String {
        guard !settled else { return "" }
        settled = true
        defer { held = [] }
        return String(decoding: held, as: UTF8.self)
    }
}
