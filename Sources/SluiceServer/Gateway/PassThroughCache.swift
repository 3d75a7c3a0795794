import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore

/// The response cache (`--response-cache-seconds`) of one whole-answer pass-through call — embeddings, rerank: an
/// identical call (its key) is answered with the body kept from the first, charged nothing, as LiteLLM caches them.
/// `Cache-Control` works as for chat calls (`ResponseCacheUse`); a lookup or write that fails is logged and is a miss.
struct PassThroughCache: Sendable {
    let settings: ResponseCacheSettings
    let metrics: SluiceMetrics
    let use: ResponseCacheUse
    let key: String

    /// `nil` without a cache. `key` makes the call's key for a scope: the user's id, or `nil` for a shared cache.
    init?(
        _ settings: ResponseCacheSettings?, metrics: SluiceMetrics, request: Request, userID: String,
        key: (_ scope: String?) -> String
    ) {
        guard let settings else { return nil }
        self.settings = settings
        self.metrics = metrics
        use = ResponseCacheUse(cacheControl: request.headers[.cacheControl], userID: userID)
        self.key = key(settings.shared ? nil : userID)
    }

    /// Says in `headers` that the call read the cache and missed (a hit overwrites it).
    func markMiss(_ headers: inout HTTPFields) {
        if use.read { headers[ResponseCacheUse.header] = "miss" }
    }

    /// The answer kept for an identical call, when this call may read the cache.
    func answer(model: String, logger: Logger) async -> CachedResponse? {
        guard use.read else { return nil }
        let now = Date()
        do {
            let hit = try await settings.store.cachedResponse(
                key: key, now: now, writtenSince: use.maxAge.map { now.addingTimeInterval(-Double($0)) })
            metrics.responseCacheLookup(model: model, hit: hit != nil)
            return hit
        } catch {
            logger.warning("could not read the response cache", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The answer to a call the cache answered: charged nothing, what the first call used counted as saved.
    func response(to hit: CachedResponse, settling settlement: PassThroughSettlement, headers: HTTPFields) async throws -> Response {
        let cost = await settlement.cacheAnswered(savedTokens: hit.inputTokens ?? 0)
        var headers = headers
        headers[ResponseCacheUse.header] = "hit"
        GatewayRoutes.tell(cost, in: &headers)
        return Response(
            status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: UsageCostField.adding(cost, to: Array(hit.content.utf8)))))
    }

    /// Keeps the upstream's answer for later calls, unless this call said `no-store`.
    func keep(_ body: [UInt8], model: String, inputTokens: Int, logger: Logger) async {
        guard use.write else { return }
        let entry = CachedResponse(
            model: model, content: String(decoding: body, as: UTF8.self), tokenEnds: [], finishReason: nil,
            inputTokens: inputTokens, outputTokens: 0)
        let now = Date()
        do {
            try await settings.store.cacheResponse(
                entry, key: key, userID: use.userID, now: now, expiresAt: now.addingTimeInterval(settings.ttl.seconds))
        } catch {
            logger.warning("could not write the response cache", metadata: ["error": "\(error)"])
        }
    }
}
