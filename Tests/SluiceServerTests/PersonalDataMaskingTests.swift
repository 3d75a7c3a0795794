import Foundation
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

@Suite("Personal data masking: details go upstream as placeholders and come back in the answer")
struct PersonalDataMaskingTests {
    static let message = "Please email ann.lee@example.com that card 4111 1111 1111 1111 was charged; her phone is +44 20 7946 0958."

    static func body(_ content: String) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: ["content": content]), as: UTF8.self)
    }

    @Test("a chat turn sends placeholders, shows and stores the details, and says what it masked", arguments: TestDatabases.backends)
    func chatTurn(database: StoreBackend) async throws {
        try await Harness.run(database: database, maskPersonalData: true) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: try Self.body(Self.message), scenario: "echo")
            #expect(turn.last?.event == "done")

            // What went upstream: placeholders, never the details.
            let sent = try await h.simulatorLastRequest()
            #expect(sent.contains("Please email [EMAIL_1] that card [CARD_1] was charged; her phone is [PHONE_1]."))
            for detail in ["ann.lee@example.com", "4111 1111 1111 1111", "7946 0958"] { #expect(!sent.contains(detail)) }

            // What the user reads and what is stored: the details, as the model had seen them.
            #expect(turn.text.contains("user: \(Self.message)"))
            #expect(!turn.text.contains("[EMAIL_1]"))
            #expect(turn.final?["personal_data_masked"] as? [String: Int] == ["email": 1, "card": 1, "phone": 1])
            let messages = try await h.store.messages(conversationID: conversation)
            #expect(messages.first { $0.role == .user }?.content == Self.message)
            #expect(messages.last?.content.contains("user: \(Self.message)") == true)
            // Kept with the answer, for its details after a reload.
            let stored = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice).messages.last
            #expect(stored?["personal_data_masked"] as? [String: Int] == ["email": 1, "card": 1, "phone": 1])

            let metrics = try await h.text("/metrics")
            #expect(MetricsTests.sample(metrics, #"sluice_personal_data_masked_total{model="sim",kind="email"}"#) == 1)
            #expect(MetricsTests.sample(metrics, #"sluice_personal_data_masked_total{model="sim",kind="card"}"#) == 1)
        }
    }

    @Test func withoutMaskingTheUpstreamGetsTheDetailsAndNothingIsReported() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: try Self.body(Self.message), scenario: "echo")
            #expect(try await h.simulatorLastRequest().contains("ann.lee@example.com"))
            #expect(turn.final?["personal_data_masked"] == nil)
            #expect(turn.final?["model"] as? String == "sim")
        }
    }

    @Test("a gateway call gets its details back, in a whole answer and a streamed one")
    func gateway() async throws {
        try await Harness.run(maskPersonalData: true) { h in
            let messages: [[String: Any]] = [
                ["role": "system", "content": "The customer is bo@example.org."],
                ["role": "user", "content": "Refund IBAN DE89 3704 0044 0532 0130 00 for bo@example.org"],
            ]
            for stream in [false, true] {
                let data = try JSONSerialization.data(withJSONObject: ["model": "sim-echo", "messages": messages, "stream": stream])
                let reply = try await h.request(.POST, "/v1/chat/completions", token: h.alice, body: String(decoding: data, as: UTF8.self))
                #expect(reply.status == 200)
                let sent = try await h.simulatorLastRequest()
                #expect(sent.contains("The customer is [EMAIL_1]."))
                #expect(sent.contains("Refund IBAN [IBAN_1] for [EMAIL_1]"))
                #expect(!sent.contains("bo@example.org"))
                let answer = try await h.text("/api/conversations/\(try #require(reply.headers.first(name: "X-Sluice-Conversation-Id")))", token: h.alice)
                #expect(answer.contains("user: Refund IBAN DE89 3704 0044 0532 0130 00 for bo@example.org"))
                #expect(!answer.contains("[IBAN_1]"))
            }
        }
    }

    @Test func theModelListSaysWhichModelsMask() async throws {
        var catalog = ModelCatalog()
        catalog.setMasksPersonalData("sim", true)
        try await Harness.run(catalog: catalog, listedModels: ["sim-echo"]) { h in
            let models = try await h.request(.GET, "/api/models", token: h.alice).json?["models"] as? [[String: Any]] ?? []
            #expect(models.first { $0["id"] as? String == "sim" }?["masks_personal_data"] as? Bool == true)
            #expect(models.first { $0["id"] as? String == "sim-echo" }?["masks_personal_data"] == nil)
        }
    }
}
