import AsyncHTTPClient
import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import Testing

@Suite("Stopping a generation")
struct CancelTests {
    @Test("cancel mid-stream: the stream ends with done (cancelled), the text so far is stored as cancelled")
    func cancel() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 200, delay: .milliseconds(20))) { h in
            let conversation = try await h.newConversation(h.alice)
            let (turn, cancelStatus) = try await h.sendCancelling(conversation, token: h.alice, atToken: 3)
            #expect(cancelStatus == 202)
            #expect(turn.last?.event == "done")
            #expect(turn.final?["finish_reason"] as? String == "cancelled")
            let received = turn.tokens.count
            #expect(received >= 3)
            #expect(received < 200)
            let stored = try await h.answer(turn)
            #expect(stored.status == .cancelled)
            #expect(stored.content == turn.text)
            #expect(stored.content == SimulatedText.answer(tokens: received))
            let again = try await h.request(.POST, "/api/messages/\(stored.id)/cancel", token: h.alice)
            #expect(again.status == 409)
            #expect(again.errorCode == "not_running")
            // The upstream saw its connection close: the simulator's stream ended at a failed write.
            let stats = try await h.simulatorStats(until: { $0["streams_abandoned"] == 1 })
            #expect(stats["streams_abandoned"] == 1 && stats["streams_completed"] == 0)
        }
    }

    @Test("with stop-on-disconnect, a client that leaves stops the upstream and the partial answer is stored")
    func clientDisconnectStops() async throws {
        try await Harness.run(
            simulator: SimulatorSettings(tokens: 500, delay: .milliseconds(10)),
            turn: TurnSettings(stopOnDisconnect: true)
        ) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice) { _, count in count < 6 }  // hang up after 5 tokens
            let assistantID = try #require(turn.assistantID)
            let stored = try await h.settledMessage(assistantID)
            #expect(stored.status == .partial)
            #expect(stored.content.hasPrefix(turn.text))
            #expect(stored.content.count < SimulatedText.answer(tokens: 500).count)
            #expect(stored.error?.contains("disconnected") == true)
            #expect(stored.errorCode == "client_disconnected")
        }
    }
}

/// Collects what the cancel callback saw, across its calls.
actor CancelReply {
    private(set) var id: String?
    private(set) var status: Int?
    func remember(_ id: String) { self.id = id }
    func set(_ status: Int) { self.status = status }
}

extension Harness {
    /// Sends a message and cancels its answer when token `seq` arrives; returns the turn and the cancel's status.
    /// The simulator sends each token only when the client releases it (`X-Sluice-Gate`), and nothing past token
    /// `seq` is released until the cancel has been answered: however slow the machine, the answer cannot finish
    /// before the cancel reaches it. Then the gate opens, so the upstream writes again and sees its connection closed.
    func sendCancelling(_ conversationID: String, token: String, atToken seq: Int) async throws -> (turn: Turn, cancelStatus: Int?) {
        let reply = CancelReply()
        let gate = UUID().uuidString
        let turn = try await send(conversationID, token: token, headers: ["X-Sluice-Gate": gate]) { event, _ in
            if event.event == "meta", let id = Turn.object(event)?["assistant_message_id"] as? String {
                await reply.remember(id)
                try await self.releaseGate(gate)
            }
            guard event.event == "token", let number = event.id?.split(separator: ":").last.flatMap({ Int($0) }) else {
                return true
            }
            if number < seq {
                try await self.releaseGate(gate)
            } else if number == seq, let id = await reply.id {
                await reply.set(try await self.request(.POST, "/api/messages/\(id)/cancel", token: token).status)
                try await self.releaseGate(gate, count: 10_000)
            }
            return true
        }
        return (turn, await reply.status)
    }
}

extension Harness {
    /// The simulator's `GET /stats`, read again (every 20 ms, for up to 5 s) until `condition` holds: the
    /// simulator only learns that a connection closed at its next write.
    func simulatorStats(until condition: ([String: Int]) -> Bool) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + .seconds(15)
        while true {
            let response = try await Harness.client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(simulatorPort)/stats"), timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 16)
            let stats = (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Int]) ?? [:]
            if condition(stats) || ContinuousClock.now >= deadline { return stats }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
