import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore

/// The response cache (`--response-cache-seconds`) for text completions, as LiteLLM caches them: an identical call —
/// model, prompts, output limit, every option, streamed or not — gets the first call's answer as the upstream wrote it,
/// at once, charged nothing and counted as a hit. A streamed answer is kept as its events and replayed as one piece.
/// Only a whole answer of the model asked for is kept (not a failed or cut one, nor a fallback's).
struct TextCompletionCache: Sendable {
    let settings: ResponseCacheSettings
    let metrics: SluiceMetrics

    /// A lookup's terms: where the call's answer is kept and what the caller allows.
    struct Lookup: Sendable {
        let key: String
        let use: ResponseCacheUse
    }

    /// The key of a call: a SHA-256 over the model, streaming, the output limit, every field passed upstream (sorted,
    /// each value canonical) but the end user — who asked, not what — the simulator's controls, and whose cache it is.
    static func key(_ call: TextCompletionCall, scope: String?, extraHeaders: [String: String]) -> String {
        var key = CacheKeyHasher()
        key.add("completions-v1")
        key.add(scope ?? "*")
        key.add(call.model)
        key.add(call.stream ? "stream" : "whole")
        key.add("\(call.maxTokens)")
        for member in call.passedOn.sorted(by: { $0.key < $1.key }) where member.key != "user" {
            key.add(member.key)
            key.add(ResponseCacheKey.canonical(member.value))
        }
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) { key.add(name + ":" + value) }
        return key.hex
    }

    func lookup(_ call: TextCompletionCall, request: Request, userID: String, extraHeaders: [String: String]) -> Lookup {
        Lookup(
            key: Self.key(call, scope: settings.shared ? nil : userID, extraHeaders: extraHeaders),
            use: ResponseCacheUse(cacheControl: request.headers[.cacheControl], userID: userID))
    }

    /// The answer kept for the call, when it may read the cache; a lookup that fails is a miss.
    func answer(for lookup: Lookup, model: String, logger: Logger) async -> CachedResponse? {
        guard lookup.use.read else { return nil }
        let now = Date()
        do {
            let hit = try await settings.store.cachedResponse(
                key: lookup.key, now: now, writtenSince: lookup.use.maxAge.map { now.addingTimeInterval(-Double($0)) })
            metrics.responseCacheLookup(model: model, hit: hit != nil)
            return hit
        } catch {
            logger.warning("could not read the response cache", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Keeps a whole answer: the JSON body, or a stream's events (one per line).
    func keep(
        _ content: String, for lookup: Lookup, model: String, finishReason: String?, usage: (input: Int, output: Int),
        logger: Logger
    ) async {
        guard lookup.use.write else { return }
        let now = Date()
        let entry = CachedResponse(
            model: model, content: content, tokenEnds: [], finishReason: finishReason, inputTokens: usage.input,
            outputTokens: usage.output)
        do {
            try await settings.store.cacheResponse(
                entry, key: lookup.key, userID: lookup.use.userID, now: now, expiresAt: now.addingTimeInterval(settings.ttl.seconds))
        } catch {
            logger.warning("could not write the response cache", metadata: ["error": "\(error)"])
        }
    }

    /// A kept answer as the caller asked for it: the JSON body, or the stream's events — the usage chunk only when the
    /// caller asked for it — and `[DONE]`; its usage says what it cost (`cost`: nothing, for a priced model).
    static func replay(_ hit: CachedResponse, stream: Bool, includeUsage: Bool, cost: USDAmount?) -> ResponseBody {
        guard stream else { return .init(byteBuffer: ByteBuffer(bytes: UsageCostField.adding(cost, to: Array(hit.content.utf8)))) }
        var buffer = ByteBuffer()
        for event in hit.content.split(separator: "\n", omittingEmptySubsequences: true) {
            if !includeUsage, isUsageOnly(event) { continue }
            // The usage chunk says the cost, and so does llama-server's last chunk, which has its usage beside the
            // choices.
            buffer.writeString("data: ")
            buffer.writeBytes(UsageCostField.adding(cost, to: Array(event.utf8)))
            buffer.writeString("\n\n")
        }
        buffer.writeString("data: [DONE]\n\n")
        return .init(byteBuffer: buffer)
    }

    /// An event with no choices and a usage: OpenAI's last chunk of a stream asked for its usage.
    private static func isUsageOnly(_ event: Substring) -> Bool {
        guard case .object(let members)? = try? JSONValue(parsing: Array(event.utf8)) else { return false }
        let choices = members.first { $0.key == "choices" }?.value
        return choices == .array([]) && members.contains { $0.key == "usage" && $0.value != .null }
    }
}
