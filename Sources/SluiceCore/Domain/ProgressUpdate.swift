/// The text so far of an answer that is still being written, saved while it streams so that a crash loses at
/// most the last moments of it.
public struct ProgressUpdate: Sendable, Equatable {
    public let messageID: String
    public let content: String
    /// UTF-8 offsets where each token ends (`Message.tokenEnds`).
    public let tokenEnds: [Int]
    /// A reasoning model's thinking so far (a continued answer's earlier thinking included) and how long it has
    /// taken; `nil` leaves what is stored.
    public let reasoning: String?
    public let reasoningMs: Int?

    public init(messageID: String, content: String, tokenEnds: [Int], reasoning: String? = nil, reasoningMs: Int? = nil) {
        self.messageID = messageID
        self.content = content
        self.tokenEnds = tokenEnds
        self.reasoning = reasoning
        self.reasoningMs = reasoningMs
    }
}
