import Foundation
import NIOHTTP1
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceServer

/// The response cache (`--response-cache-seconds`): an identical gateway call is answered from the store without a call
/// upstream and charged nothing; anything that shapes the answer, another user, `Cache-Control` and failures keep it
/// honest; instances on one database share it.
@Suite("Response cache on the gateway")
struct ResponseCacheTests {
    static let tenMinutes: (ttl: Duration, shared: Bool) = (.seconds(600), false)

    /// One Chat Completions call, not streamed unless `stream`: status, headers, text (the whole body) and parsed JSON.
    static func chat(
        _ h: Harness, token: String? = nil, _ content: String = "What is a sluice?", temperature: Double = 0.7,
        stream: Bool = false, headers: [String: String] = [:]
    ) async throws -> (status: Int, headers: HTTPHeaders, text: String, json: [String: Any]?) {
        var body: [String: Any] = [
            "model": "sim", "temperature": temperature, "messages": [["role": "user", "content": content]],
        ]
        if stream { body["stream"] = true; body["stream_options"] = ["include_usage": true] }
        let reply = try await h.post("/v1/chat/completions", token: token ?? h.alice, headers: headers, json: body)
        let json = try? JSONSerialization.jsonObject(with: Data(reply.text.utf8)) as? [String: Any]
        return (reply.status, reply.headers, reply.text, json)
    }

    static func content(_ json: [String: Any]?) -> String? {
        ((json?["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
    }

    static func started(_ h: Harness) async throws -> Int {
        try await h.simulatorStats { _ in true }["streams_started"] ?? -1
    }

    @Test("an identical call is answered from the cache: no upstream call, the same answer and usage, charged nothing",
          arguments: TestDatabases.backends)
    func identicalCallHits(database: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: database, responseCache: Self.tenMinutes) { h in
            let alice = try #require(try await h.store.user(named: "alice"))
            let first = try await Self.chat(h)
            #expect(first.status == 200, "\(first.text)")
            #expect(first.headers.first(name: "X-Sluice-Cache") == "miss")
            #expect(try await Self.started(h) == 1)
            let usedAfterFirst = try await h.store.budget(userID: alice.id, now: Date()).used
            #expect(usedAfterFirst > 0)

            let second = try await Self.chat(h)
            #expect(second.status == 200, "\(second.text)")
            #expect(second.headers.first(name: "X-Sluice-Cache") == "hit")
            // Server-Timing tells the cache's read from a model's time.
            let timing = try #require(second.headers.first(name: "Server-Timing"))
            #expect(timing.contains("cache;dur=") && !timing.contains("upstream;dur="), "\(timing)")
            #expect(first.headers.first(name: "Server-Timing")?.contains("cache;dur=") == false)
            #expect(Self.content(second.json) == Self.content(first.json))
            #expect(Self.content(second.json)?.isEmpty == false)
            #expect(second.json?["usage"] as? NSDictionary == first.json?["usage"] as? NSDictionary)
            #expect(try await Self.started(h) == 1, "the upstream was asked again")
            #expect(try await h.store.budget(userID: alice.id, now: Date()).used == usedAfterFirst)

            // The hit is a turn like any other: stored in a conversation of its own, complete.
            let messageID = try #require(second.headers.first(name: "X-Sluice-Message-Id"))
            let stored = try await h.settledMessage(messageID)
            #expect(stored.status == .complete && stored.content == Self.content(first.json))
            #expect(second.headers.first(name: "X-Sluice-Conversation-Id") != first.headers.first(name: "X-Sluice-Conversation-Id"))
            let metrics = try await h.text("/metrics")
            #expect(MetricsTests.sample(metrics, #"sluice_response_cache_lookups_total{model="sim",result="hit"}"#) == 1)
            #expect(MetricsTests.sample(metrics, #"sluice_response_cache_lookups_total{model="sim",result="miss"}"#) == 1)
        }
    }

    @Test("the usage history counts a hit as an answer that cost nothing and saved what the call it repeated cost",
          arguments: TestDatabases.backends)
    func usageCountsSavings(database: StoreBackend) async throws {
        var catalog = ModelCatalog()
        catalog.setPrice("sim", try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00")))
        try await Harness.run(budgets: true, database: database, catalog: catalog, responseCache: Self.tenMinutes) { h in
            let first = try await Self.chat(h)
            #expect(try await Self.chat(h).headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try await Self.chat(h).headers.first(name: "X-Sluice-Cache") == "hit")
            let usage = try #require(first.json?["usage"] as? [String: Any])
            let (input, output) = try (#require(usage["prompt_tokens"] as? Int), #require(usage["completion_tokens"] as? Int))
            let paid = try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00")).cost(inputTokens: input, outputTokens: output)
            #expect(paid > .zero)

            let reply = try await h.text("/api/usage?period=today&group=model", token: h.alice)
            let history = try #require(try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])
            let totals = try #require(history["totals"] as? [String: Any])
            #expect(totals["turns"] as? Int == 3)
            #expect(totals["total_tokens"] as? Int == input + output, "only the first call is charged")
            #expect(totals["cost_usd"] as? String == paid.decimalString)
            #expect(totals["cache_hits"] as? Int == 2)
            #expect(totals["saved_tokens"] as? Int == 2 * (input + output))
            #expect(totals["saved_cost_usd"] as? String == (paid + paid).decimalString)
            let csv = try await h.text("/api/usage?period=today&group=model&format=csv", token: h.alice)
            #expect(csv.split(separator: "\r\n").map(String.init).last == "sim,\(input),\(output),\(input + output),\(paid.decimalString),3,2,"
                + "\(2 * (input + output)),\((paid + paid).decimalString),0,0,0")
        }
    }

    @Test("a call that differs in what shapes the answer, another user's call and Cache-Control: no-cache go upstream")
    func differencesMiss() async throws {
        try await Harness.run(budgets: true, responseCache: Self.tenMinutes) { h in
            _ = try await Self.chat(h)
            #expect(try await Self.chat(h, temperature: 0.2).headers.first(name: "X-Sluice-Cache") == "miss")
            #expect(try await Self.chat(h, "What is a lock?").headers.first(name: "X-Sluice-Cache") == "miss")
            #expect(try await Self.chat(h, headers: ["X-Sluice-Tokens": "5"]).headers.first(name: "X-Sluice-Cache") == "miss")
            // Each user has a cache of their own.
            #expect(try await Self.chat(h, token: h.bob).headers.first(name: "X-Sluice-Cache") == "miss")
            #expect(try await Self.started(h) == 5)
            // `no-cache`: a fresh answer, and no header (the cache was not read).
            let fresh = try await Self.chat(h, headers: ["Cache-Control": "no-cache"])
            #expect(fresh.status == 200 && fresh.headers.first(name: "X-Sluice-Cache") == nil)
            #expect(try await Self.started(h) == 6)
            #expect(try await Self.chat(h).headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try await Self.chat(h, token: h.bob).headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try await Self.started(h) == 6)
            // `max-age`: only an answer that young; an older one is asked for again (and the new one kept).
            #expect(try await Self.chat(h, headers: ["Cache-Control": "max-age=600"]).headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try await Self.chat(h, headers: ["Cache-Control": "max-age=0"]).headers.first(name: "X-Sluice-Cache") == "miss")
            #expect(try await Self.started(h) == 7)
        }
    }

    @Test("no-store keeps an answer out; a failed or fallen-back answer is never kept")
    func onlyCompleteAnswersAreKept() async throws {
        try await Harness.run(responseCache: Self.tenMinutes) { h in
            _ = try await Self.chat(h, "Private question", headers: ["Cache-Control": "no-store"])
            #expect(try await Self.chat(h, "Private question").headers.first(name: "X-Sluice-Cache") == "miss")
            // An answer cut off mid-stream is stored as partial, and the next identical call is asked upstream again.
            for _ in 0..<2 {
                let broken = try await Self.chat(h, "Break, please", stream: true, headers: ["X-Sluice-Scenario": "reset-mid"])
                #expect(broken.headers.first(name: "X-Sluice-Cache") == "miss")
            }
            #expect(try await Self.started(h) == 4)
        }
    }

    @Test("a streamed hit comes in the original's pieces, with its usage chunk and [DONE]")
    func streamedHitKeepsPieces() async throws {
        try await Harness.run(responseCache: Self.tenMinutes) { h in
            func pieces(_ text: String) throws -> [String] {
                try text.split(separator: "\n").filter { $0.hasPrefix("data: {") }.compactMap { line in
                    let chunk = try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                    return ((chunk?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
                }.filter { !$0.isEmpty }
            }
            let first = try await Self.chat(h, stream: true)
            let second = try await Self.chat(h, stream: true)
            #expect(second.headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try pieces(first.text).count > 3)
            #expect(try pieces(second.text) == pieces(first.text))
            #expect(second.text.contains(#""usage":{"#) && second.text.hasSuffix("data: [DONE]\n\n"))
            #expect(try await Self.started(h) == 1)
        }
    }

    @Test("an answer that calls functions is replayed with its calls")
    func functionCallsAreReplayed() async throws {
        try await Harness.run(responseCache: Self.tenMinutes) { h in
            let question: [String: Any] = ["role": "user", "content": "Weather in Paris?"]
            let first = try await GatewayToolTests.call(h, messages: [question], stream: true)
            let second = try await GatewayToolTests.call(h, messages: [question], stream: true)
            #expect(first.finishReason == "tool_calls" && second.finishReason == "tool_calls")
            #expect(second.calls.count == 2)
            #expect(second.calls.map(GatewayToolTests.arguments) == first.calls.map(GatewayToolTests.arguments))
            #expect(second.calls.map(GatewayToolTests.name) == first.calls.map(GatewayToolTests.name))
            #expect(try await Self.started(h) == 1)
        }
    }

    @Test("a shared cache answers every user; Anthropic's and the Responses API's calls use it too")
    func sharedAcrossUsersAndAPIs() async throws {
        try await Harness.run(responseCache: (.seconds(600), true)) { h in
            _ = try await Self.chat(h)
            #expect(try await Self.chat(h, token: h.bob).headers.first(name: "X-Sluice-Cache") == "hit")
            let body: [String: Any] = ["model": "sim", "max_tokens": 50, "messages": [["role": "user", "content": "Hello"]]]
            let anthropic = try await AnthropicGatewayTests.call(h, token: h.alice, body: body)
            #expect(anthropic.status == 200 && anthropic.headers.first(name: "X-Sluice-Cache") == "miss")
            let again = try await AnthropicGatewayTests.call(h, token: h.bob, body: body)
            #expect(again.status == 200 && again.headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(AnthropicGatewayTests.object(again.text)?["content"] as? NSArray
                == AnthropicGatewayTests.object(anthropic.text)?["content"] as? NSArray)
            let response = try await ResponsesGatewayTests.create(h, ["model": "sim", "input": "Hi there"])
            #expect(response.status == 200)
            let repeated = try await ResponsesGatewayTests.create(h, ["model": "sim", "input": "Hi there"])
            #expect(repeated.status == 200 && repeated.headers.first(name: "X-Sluice-Cache") == "hit")
            #expect(try await Self.started(h) == 3)
        }
    }

    @Test("a second instance on the same database answers from what the first one cached", arguments: TestDatabases.backends)
    func instancesShareTheCache(database: StoreBackend) async throws {
        try await Harness.run(database: database, responseCache: Self.tenMinutes) { h in
            let answer = Self.content(try await Self.chat(h).json)
            #expect(answer?.isEmpty == false)
            try await h.peer { peer in
                let second = try await Self.chat(peer)
                #expect(second.headers.first(name: "X-Sluice-Cache") == "hit")
                #expect(Self.content(second.json) == answer)
            }
            #expect(try await Self.started(h) == 1)
        }
    }
}

@Suite("Response cache key and header")
struct ResponseCacheKeyTests {
    @Test("Cache-Control's directives: no-cache skips reading, no-store skips writing, case and spacing aside")
    func cacheControl() {
        #expect(ResponseCacheUse(cacheControl: nil, userID: "u") == .init(read: true, write: true, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "No-Cache", userID: "u") == .init(read: false, write: true, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "private, no-store", userID: "u") == .init(read: true, write: false, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "no-cache,no-store", userID: "u") == .init(read: false, write: false, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "max-age=60", userID: "u") == .init(maxAge: 60, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "s-maxage=\"5\", no-store", userID: "u") == .init(write: false, maxAge: 5, userID: "u"))
        #expect(ResponseCacheUse(cacheControl: "max-age=soon", userID: "u") == .init(userID: "u"))
    }

    @Test("the key changes with everything that shapes the answer, and with the scope, but not with the end user")
    func keyCoversTheRequest() throws {
        let base = ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "hi")], temperature: 0.5, maxTokens: 10)
        let key = ResponseCacheKey.of(base, scope: "u")
        #expect(ResponseCacheKey.of(base, scope: "u") == key)
        var variants: [ChatRequest] = []
        var other = base; other.model = "n"; variants.append(other)
        other = base; other.messages.append(ChatMessage(role: .assistant, content: "")); variants.append(other)
        other = base; other.messages[0].content = "hi!"; variants.append(other)
        other = base; other.temperature = nil; variants.append(other)
        other = base; other.maxTokens = 11; variants.append(other)
        other = base; other.sampling.stop = ["x"]; variants.append(other)
        other = base; other.sampling.responseFormat = .jsonObject; variants.append(other)
        other = base; other.tools = ToolOptions(functions: [.init(name: "f")]); variants.append(other)
        other = base; other.extraHeaders = ["X-Sluice-Scenario": "slow"]; variants.append(other)
        var keys = Set(variants.map { ResponseCacheKey.of($0, scope: "u") })
        keys.insert(ResponseCacheKey.of(base, scope: "v"))
        keys.insert(ResponseCacheKey.of(base, scope: nil))
        #expect(keys.count == variants.count + 2 && !keys.contains(key))
        other = base; other.sampling.endUser = "customer-7"
        #expect(ResponseCacheKey.of(other, scope: "u") == key)
        // A schema is the same whatever order its members were written in.
        func withSchema(_ text: String) throws -> String {
            var request = base
            request.tools = ToolOptions(functions: [.init(name: "f", parameters: try JSONValue(parsing: Array(text.utf8)))])
            return ResponseCacheKey.of(request, scope: "u")
        }
        #expect(try withSchema(#"{"type":"object","properties":{"a":{"type":"string"},"b":{}}}"#)
            == withSchema(#"{"properties":{"b":{},"a":{"type":"string"}},"type":"object"}"#))
        #expect(try withSchema(#"{"type":"object"}"#) != withSchema(#"{"type":"array"}"#))
    }
}
