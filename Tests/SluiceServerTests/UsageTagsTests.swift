import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// A gateway call's tags (`metadata.tags`, `x-sluice-tags`, LiteLLM's `x-litellm-tags`) on its ledger row, and usage
/// per tag.
@Suite("Usage per tag")
struct UsageTagsTests {
    static func chat(_ h: Harness, _ token: String, metadata: String? = nil, headers: [String: String] = [:]) async throws -> Harness.Reply {
        let extra = metadata.map { #","metadata":"# + $0 } ?? ""
        return try await h.request(
            .POST, "/v1/chat/completions", token: token,
            body: #"{"model":"sim","messages":[{"role":"user","content":"hi"}]"# + extra + "}", headers: headers)
    }

    /// `GET /api/usage?group=tag` as "tag turns" (the empty tag as "-"), largest first.
    static func byTag(_ h: Harness, _ token: String, scope: String = "mine") async throws -> [String] {
        let reply = try await h.request(.GET, "/api/usage?period=today&group=tag&scope=\(scope)", token: token)
        let series = try #require(reply.json?["series"] as? [[String: Any]])
        return series.map { "\(($0["key"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "-") \($0["turns"] as? Int ?? 0)" }
    }

    @Test("tags from the body (a list, or OpenAI's text) and the headers count each turn under each of its tags",
          arguments: TestDatabases.backends)
    func perTag(_ backend: StoreBackend) async throws {
        try await Harness.run(budgets: true, database: backend) { h in
            #expect(try await Self.chat(h, h.alice, metadata: #"{"tags":["checkout","prod"],"trace":"t-1"}"#).status == 200)
            #expect(try await Self.chat(h, h.alice, metadata: #"{"tags":"checkout, search"}"#).status == 200)
            #expect(try await Self.chat(h, h.alice, headers: ["x-sluice-tags": "prod"]).status == 200)
            // LiteLLM's header, a body's tag again (kept once) and one more.
            #expect(try await Self.chat(
                h, h.alice, metadata: #"{"tags":["search"]}"#, headers: ["x-litellm-tags": "search,nightly"]).status == 200)
            #expect(try await Self.chat(h, h.alice).status == 200)
            #expect(try await Self.chat(h, h.bob, metadata: #"{"tags":["bobs"]}"#).status == 200)
            // The Responses API's metadata (strings by key, echoed back) carries them as text.
            let responded = try await h.post(
                "/v1/responses", token: h.alice, json: ["model": "sim", "input": "hi", "metadata": ["tags": "search", "run": "7"]])
            #expect(responded.status == 200 && responded.text.contains(#""tags":"search""#), "\(responded.text)")
            // An embeddings call takes the header's.
            let embedded = try await h.post(
                "/v1/embeddings", token: h.alice, headers: ["x-sluice-tags": "nightly"], json: ["model": "sim", "input": "a fox"])
            #expect(embedded.status == 200, "\(embedded.text)")

            // Each turn under each of its tags; the untagged one under none. Bob's are his.
            let mine = try await Self.byTag(h, h.alice)
            #expect(Set(mine) == ["checkout 2", "prod 2", "search 3", "nightly 2", "- 1"])
            #expect(try await Self.byTag(h, h.bob) == ["bobs 1"])
            // The totals are the whole: each of the seven turns once, though the rows count ten.
            let totals = try await h.request(.GET, "/api/usage?period=today&group=tag", token: h.alice).json?["totals"] as? [String: Any]
            #expect(totals?["turns"] as? Int == 7)
            // An administrator's view of everyone's.
            #expect(Set(try await Self.byTag(h, h.alice, scope: "all")) == Set(mine + ["bobs 1"]))
            #expect(try await h.request(.GET, "/api/usage?period=today&group=tag&scope=all", token: h.bob).status == 403)
            let csv = try await h.text("/api/usage?period=today&group=tag&format=csv", token: h.alice)
            #expect(csv.hasPrefix("tag,input_tokens,") && csv.contains("\r\ncheckout,"))
        }
    }

    @Test("a tag that breaks the rule is a 400 naming where it came from, and nothing is held")
    func refused() async throws {
        try await Harness.run(budgets: true) { h in
            let long = String(repeating: "t", count: 65)
            let tooLong = try await Self.chat(h, h.alice, metadata: #"{"tags":[""# + long + #""]}"#)
            #expect(tooLong.status == 400 && (tooLong.json?["error"] as? [String: Any])?["param"] as? String == "metadata.tags")
            let many = (1...21).map { "\"t\($0)\"" }.joined(separator: ",")
            #expect(try await Self.chat(h, h.alice, metadata: "{\"tags\":[\(many)]}").status == 400)
            #expect(try await Self.chat(h, h.alice, metadata: #"{"tags":["a\nb"]}"#).status == 400)
            // OpenAI's `metadata` is an object: anything else is named.
            let notObject = try await Self.chat(h, h.alice, metadata: #""checkout""#)
            #expect(notObject.status == 400 && (notObject.json?["error"] as? [String: Any])?["param"] as? String == "metadata")
            #expect(try await Self.chat(h, h.alice, metadata: "null").status == 200)
            let badResponses = try await h.post("/v1/responses", token: h.alice, json: ["model": "sim", "input": "hi", "metadata": ["tags": 5]])
            #expect(badResponses.status == 400 && badResponses.text.contains("metadata.tags"))
            let header = try await Self.chat(h, h.alice, headers: ["x-sluice-tags": long])
            #expect(header.status == 400)
            #expect(((header.json?["error"] as? [String: Any])?["message"] as? String)?.contains("x-sluice-tags") == true)
            #expect(try await Self.byTag(h, h.alice) == ["- 1"])
        }
    }

    @Test("tags are checked: trimmed, each once, in order; too many, too long, a comma or a control character is refused")
    func rule() {
        #expect(UsageTags.checked([" prod ", "", "checkout", "prod"]) == ["prod", "checkout"])
        #expect(UsageTags.checked(UsageTags.split("a, b,,c")) == ["a", "b", "c"])
        #expect(UsageTags.checked([String(repeating: "x", count: 64)]) != nil)
        #expect(UsageTags.checked([String(repeating: "x", count: 65)]) == nil)
        #expect(UsageTags.checked(["a,b"]) == nil && UsageTags.checked(["a\u{7}"]) == nil)
        #expect(UsageTags.checked((1...20).map(String.init))?.count == 20)
        #expect(UsageTags.checked((1...21).map(String.init)) == nil)
    }
}
