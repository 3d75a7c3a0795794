/// The text so far of an answer that is still being written, saved while it streams so that a crash loses at
/// most the last moments of it.
public struct ProgressUpdate: Sendable, Equatable {
    public let messageID: String
    public let content: String
    /// UTF-8 offsets where each token ends (`Message.tokenEnds`).
    public let tokenEnds: [Int]

    public init(messageID: String, content: String, tokenEnds: [Int]) {
        self.messageID = messageID
        self.content = content
        self.tokenEnds = tokenEnds
    }
}
