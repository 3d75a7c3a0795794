import Foundation

/// An answer kept for requests identical to the one it answered (the response cache, `--response-cache-seconds`): what a
/// later gateway call with the same key gets instead of a call upstream.
public struct CachedResponse: Sendable, Equatable, Codable {
    /// The model that wrote it: the one the request asked for (answers of a fallback model are not kept).
    public var model: String
    public var content: String
    /// Where each streamed piece of `content` ended (UTF-8 offsets), so that a hit streams in the original's pieces.
    public var tokenEnds: [Int]
    public var toolCalls: [ToolCall]
    public var finishReason: String?
    /// The tokens the original answer used: reported with a hit, not charged again.
    public var inputTokens: Int?
    public var outputTokens: Int?

    public init(
        model: String, content: String, tokenEnds: [Int], toolCalls: [ToolCall] = [], finishReason: String?,
        inputTokens: Int?, outputTokens: Int?
    ) {
        self.model = model
        self.content = content
        self.tokenEnds = tokenEnds
        self.toolCalls = toolCalls
        self.finishReason = finishReason
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// Where cached responses are kept: in the database, so that every instance on one PostgreSQL shares them (as
/// LiteLLM's Redis cache is shared).
public protocol ResponseCacheStore: Sendable {
    /// The response kept under `key`, unless it expired by `now` or was written before `writtenSince` (a caller's
    /// `Cache-Control: max-age`).
    func cachedResponse(key: String, now: Date, writtenSince: Date?) async throws -> CachedResponse?
    /// Keeps `response` under `key` until `expiresAt` (replacing what was there), and drops entries expired by `now`.
    /// `userID` is the user whose call it answered: the entry goes when that user does, as their conversations do.
    func cacheResponse(_ response: CachedResponse, key: String, userID: String, now: Date, expiresAt: Date) async throws
    /// Drops every kept response, or only those of `model` (after its weights or its prompt changed); returns how many.
    func clearCachedResponses(model: String?) async throws -> Int
}

extension ResponseCacheStore {
    /// The response kept under `key`, unless it expired by `now`, however old.
    public func cachedResponse(key: String, now: Date) async throws -> CachedResponse? {
        try await cachedResponse(key: key, now: now, writtenSince: nil)
    }
}
