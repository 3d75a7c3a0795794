import Crypto
import Foundation
import HTTPTypes
import Logging
import SluiceCore

/// The response cache as the server runs it (`--response-cache-seconds`; off without it), LiteLLM's exact-match cache:
/// a gateway call identical to an earlier one — same model, messages, tools and options — gets the earlier answer at
/// once, without a call upstream, charged nothing. Kept in the database (`ResponseCacheStore`), so instances on one
/// PostgreSQL share it. The web app's turns never use it: regenerating there asks for a new answer.
public struct ResponseCacheSettings: Sendable {
    public var store: any ResponseCacheStore
    /// How long an answer is served after it was written.
    public var ttl: Duration
    /// One cache for all users (LiteLLM's default) rather than one per user (Sluice's): shared, a user's identical
    /// call gets what another user's call was answered, and can tell from the answer's speed that someone asked it.
    public var shared: Bool

    public init(store: any ResponseCacheStore, ttl: Duration, shared: Bool = false) {
        self.store = store
        self.ttl = ttl
        self.shared = shared
    }
}

/// What one gateway call lets the cache do, from its `Cache-Control` header: `no-cache` asks for a fresh answer (which
/// is still kept for later calls), `no-store` keeps this answer out of the cache, both together bypass it, and
/// `max-age=N` (or LiteLLM's `s-maxage=N`) takes only an answer written in the last N seconds.
struct ResponseCacheUse: Sendable, Equatable {
    var read = true
    var write = true
    /// The oldest answer the caller takes, in seconds; `nil`: any that has not expired.
    var maxAge: Int? = nil
    /// Whose cache: the caller's user id (unless the cache is shared).
    var userID: String

    init(read: Bool = true, write: Bool = true, maxAge: Int? = nil, userID: String) {
        self.read = read
        self.write = write
        self.maxAge = maxAge
        self.userID = userID
    }

    init(cacheControl: String?, userID: String) {
        var directives: [String: String] = [:]
        for directive in (cacheControl ?? "").lowercased().split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if let name = parts.first { directives[name] = parts.count > 1 ? parts[1].trimmingCharacters(in: ["\""]) : "" }
        }
        // A malformed age is ignored, as HTTP caches ignore a directive they cannot read.
        let maxAge = (directives["max-age"] ?? directives["s-maxage"]).flatMap { Int($0) }.map { max(0, $0) }
        self.init(
            read: directives["no-cache"] == nil, write: directives["no-store"] == nil, maxAge: maxAge, userID: userID)
    }

    /// The header that says whether a call was answered from the cache (`hit`) or upstream (`miss`); none when the
    /// call did not read the cache.
    static let header = HTTPField.Name("X-Sluice-Cache")!
}

/// A SHA-256 over parts, each ended by a NUL byte (so that "ab" + "c" and "a" + "bc" differ): the response cache's keys.
struct CacheKeyHasher {
    private var hasher = SHA256()

    mutating func add(_ text: String) { add(Data(text.utf8)) }

    mutating func add(_ data: Data) {
        hasher.update(data: data)
        hasher.update(data: Data([0]))
    }

    /// The digest in lowercase hex.
    var hex: String { HexDigits.lowercase(hasher.finalize()) }
}

/// The cache key of a request: a SHA-256 over everything that shapes its answer — the model, every message (tool
/// calls and results included), the tools, temperature, output limit and sampling options, the simulator's controls —
/// and whose cache it is. The end user a service names (`user`) is not part of it, as in LiteLLM: it says who asked,
/// not what.
enum ResponseCacheKey {
    static func of(_ request: ChatRequest, scope: String?) -> String {
        var key = CacheKeyHasher()
        func add(_ text: String) { key.add(text) }
        add("v1")
        add(scope ?? "*")
        add(request.model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        key.add((try? encoder.encode(request.messages)) ?? Data(String(reflecting: request.messages).utf8))
        // Images are not in the messages' JSON (their text-only shape): each is part of the key, in its message.
        for (index, message) in request.messages.enumerated() {
            for image in message.images { add("image \(index) \(image.detail?.rawValue ?? "-") " + image.url) }
        }
        add(request.temperature.map { "\($0)" } ?? "-")
        add(request.maxTokens.map(String.init) ?? "-")
        let sampling = request.sampling
        add([sampling.topP.map { "\($0)" }, sampling.seed.map(String.init), sampling.presencePenalty.map { "\($0)" },
             sampling.frequencyPenalty.map { "\($0)" }].map { $0 ?? "-" }.joined(separator: ","))
        for stop in sampling.stop { add(stop) }
        // A different effort is a different answer (and a different thinking).
        add("reasoning " + (sampling.reasoning?.label ?? "-"))
        switch sampling.responseFormat {
        case nil: add("text")
        case .jsonObject: add("json_object")
        case .jsonSchema(let format):
            add(format.name)
            add(format.description ?? "-")
            add(format.schema.map(canonical) ?? "-")
            add(format.strict.map { "\($0)" } ?? "-")
        }
        if let tools = request.tools {
            for function in tools.functions {
                add(function.name)
                add(function.description ?? "-")
                add(function.parameters.map(canonical) ?? "-")
                add(function.strict.map { "\($0)" } ?? "-")
            }
            add(tools.choice.map { String(reflecting: $0) } ?? "-")
            add(tools.parallelCalls.map { "\($0)" } ?? "-")
        } else {
            add("no tools")
        }
        for (name, value) in request.extraHeaders.sorted(by: { $0.key < $1.key }) { add(name + ":" + value) }
        return key.hex
    }

    /// JSON text with every object's members sorted by key: the same schema written with its members in another order
    /// (as a client that builds it from a hash map may) is the same key.
    static func canonical(_ value: JSONValue) -> String {
        func sorted(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(members.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, sorted($0.value)) })
            case .array(let items): return .array(items.map(sorted))
            default: return value
            }
        }
        return sorted(value).text
    }
}

/// The cache key of an embeddings call (`EmbeddingsRoute`): a SHA-256 over the model, the inputs, the dimensions and
/// the encoding, the simulator's controls, and whose cache it is; kept apart from chat keys by its own prefix.
enum EmbeddingsCacheKey {
    static func of(_ request: EmbeddingRequest, scope: String?) -> String {
        var key = CacheKeyHasher()
        func add(_ text: String) { key.add(text) }
        add("embeddings-v1")
        add(scope ?? "*")
        add(request.model)
        switch request.input {
        case .texts(let texts):
            add("texts \(texts.count)")
            for text in texts { add(text) }
        case .tokens(let inputs):
            add("tokens \(inputs.count)")
            for tokens in inputs { add(tokens.map(String.init).joined(separator: ",")) }
        }
        add(request.dimensions.map(String.init) ?? "-")
        add(request.encodingFormat ?? "float")
        for (name, value) in request.extraHeaders.sorted(by: { $0.key < $1.key }) { add(name + ":" + value) }
        return key.hex
    }
}

/// The cache key of a rerank call (`RerankRoute`): a SHA-256 over the model, the caller's other fields (query,
/// documents, `top_n`, …, their objects' members in sorted order), the simulator's controls, and whose cache it is.
enum RerankCacheKey {
    static func of(_ call: RerankCall, extraHeaders: [String: String], scope: String?) -> String {
        var key = CacheKeyHasher()
        key.add("rerank-v1")
        key.add(scope ?? "*")
        key.add(call.model)
        key.add(ResponseCacheKey.canonical(.object(call.passedOn)))
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) { key.add(name + ":" + value) }
        return key.hex
    }
}

extension ChatTurn {
    /// The cached answer to the plan's request, when the plan may read the cache and there is one; a lookup that fails
    /// is logged and counts as a miss (the upstream answers).
    func cachedAnswer(_ plan: Plan, logger: Logger) async -> CachedResponse? {
        guard let cache = responseCache, let use = plan.cache, use.read, plan.prior == nil else { return nil }
        do {
            let now = Date()
            let hit = try await cache.store.cachedResponse(
                key: cacheKey(plan, use: use, in: cache), now: now,
                writtenSince: use.maxAge.map { now.addingTimeInterval(-Double($0)) })
            metrics.responseCacheLookup(model: plan.request.model, hit: hit != nil)
            return hit
        } catch {
            logger.warning("could not read the response cache", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Streams a cached answer as the original streamed (its pieces, then its function calls) and records it as the
    /// turn's complete answer.
    func replay(_ hit: CachedResponse, plan: Plan, progress: ProgressBox, emit: @Sendable (TurnEvent) -> Void) {
        let now = ContinuousClock.now
        plan.timings?.mark(.cacheRead, at: now)
        plan.timings?.mark(.firstToken, at: now)
        emit(.status(.init(state: "cached")))
        var start = hit.content.utf8.startIndex
        var seq = 0
        for end in hit.tokenEnds where end <= hit.content.utf8.count {
            let stop = hit.content.utf8.index(hit.content.utf8.startIndex, offsetBy: end)
            guard stop > start else { continue }
            seq += 1
            emit(.token(messageID: plan.assistantMessageID, seq: seq, text: String(decoding: hit.content.utf8[start..<stop], as: UTF8.self)))
            start = stop
        }
        // Text after the last recorded end (none in an entry Sluice wrote) is not dropped: it is one more piece.
        var tokenEnds = hit.tokenEnds.filter { $0 <= hit.content.utf8.count }
        if start < hit.content.utf8.endIndex {
            seq += 1
            emit(.token(messageID: plan.assistantMessageID, seq: seq, text: String(decoding: hit.content.utf8[start...], as: UTF8.self)))
            tokenEnds.append(hit.content.utf8.count)
        }
        for (index, call) in hit.toolCalls.enumerated() {
            emit(.toolCall(ToolCallDelta(index: index, id: call.id, name: call.name, arguments: call.arguments)))
        }
        progress.withLock { state in
            state.content = hit.content
            state.tokenEnds = tokenEnds
            state.seq = seq
            state.toolCalls = hit.toolCalls
            state.finishReason = hit.finishReason
            state.firstTokenAt = now
            state.completed = true
            state.fromResponseCache = true
            state.usage = Usage(
                inputTokens: hit.inputTokens, outputTokens: hit.outputTokens,
                totalTokens: hit.inputTokens.flatMap { input in hit.outputTokens.map { input + $0 } }, source: .provider)
        }
    }

    /// Keeps a complete answer of the requested model for later identical calls, when the plan may write the cache.
    /// Awaited before the answer's end reaches the client, whose next identical call may follow at once.
    func keepInCache(_ plan: Plan, answer: Progress, charged: Usage?, logger: Logger) async {
        guard let cache = responseCache, let use = plan.cache, use.write, plan.prior == nil, answer.completed,
            !answer.fromResponseCache, answer.model == plan.request.model,
            !answer.content.isEmpty || !answer.toolCalls.isEmpty
        else { return }
        let entry = CachedResponse(
            model: answer.model, content: answer.content, tokenEnds: answer.tokenEnds, toolCalls: answer.toolCalls,
            finishReason: answer.finishReason, inputTokens: charged?.inputTokens, outputTokens: charged?.outputTokens)
        let now = Date()
        let seconds = cache.ttl.seconds
        do {
            try await cache.store.cacheResponse(
                entry, key: cacheKey(plan, use: use, in: cache), userID: use.userID, now: now, expiresAt: now.addingTimeInterval(seconds))
        } catch {
            logger.warning("could not write the response cache", metadata: ["error": "\(error)"])
        }
    }

    private func cacheKey(_ plan: Plan, use: ResponseCacheUse, in cache: ResponseCacheSettings) -> String {
        ResponseCacheKey.of(plan.request, scope: cache.shared ? nil : use.userID)
    }
}
