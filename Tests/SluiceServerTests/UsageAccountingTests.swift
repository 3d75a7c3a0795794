import Foundation
import SluiceCore
import SluiceServer
import SluiceSimulator
import SluiceTokenizer
import Synchronization
import Testing

@Suite("Usage: the provider's figures, or Sluice's own count")
struct UsageAccountingTests {
    @Test("without a usage chunk, Sluice counts input and output with the model's tokenizer and says so")
    func countedWhenTheProviderIsSilent() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, body: "{\"content\":\"count these four words\"}", scenario: "no-usage")
            let usage = try #require(turn.final?["usage"] as? [String: Any])
            #expect(usage["source"] as? String == "counted")
            #expect(usage["input_tokens"] as? Int == 3 + 3 + 1 + 4)  // priming, framing, role, words
            #expect(usage["output_tokens"] as? Int == turn.tokens.count)
            #expect(usage["total_tokens"] as? Int == 11 + turn.tokens.count)
            let stored = try await h.answer(turn)
            #expect(stored.usage?.source == .counted)
            #expect(stored.usage?.inputTokens == 11)
            #expect(stored.usage?.countedOutputTokens == turn.tokens.count)
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_usage_counted_total{model=\"sim\"} 1"))
        }
    }

    @Test("when Sluice's count and the provider's disagree, the provider's figure stands, both are kept, a metric counts it")
    func mismatchIsKeptAndCounted() async throws {
        // One framing token more per message than the simulator's rule.
        try await Harness.run(counter: ChatPromptCounter(tokenizer: WordTokenizer(), perMessage: 4)) { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice)
            let usage = try #require(turn.final?["usage"] as? [String: Any])
            #expect(usage["source"] as? String == "provider")
            #expect(usage["input_tokens"] as? Int == 9)
            let stored = try await h.answer(turn)
            #expect(stored.usage?.inputTokens == 9)
            #expect(stored.usage?.countedInputTokens == 10)
            #expect(stored.usage?.countedOutputTokens == stored.usage?.outputTokens)
            let metrics = try await h.text("/metrics")
            #expect(metrics.contains("sluice_usage_count_mismatch_total{kind=\"input\",model=\"sim\"} 1")
                || metrics.contains("sluice_usage_count_mismatch_total{model=\"sim\",kind=\"input\"} 1"))
            #expect(!metrics.contains("kind=\"output\""))
            // The API shows Sluice's count beside the provider's when they differ.
            let shown = try await h.request(.GET, "/api/conversations/\(conversation)", token: h.alice)
            let answer = try #require((shown.json?["messages"] as? [[String: Any]])?.last)
            #expect((answer["counted_usage"] as? [String: Any])?["input_tokens"] as? Int == 10)
            #expect((answer["usage"] as? [String: Any])?["input_tokens"] as? Int == 9)
        }
    }

    @Test("a cancelled answer is charged for the tokens it generated")
    func cancelledAnswerIsCharged() async throws {
        try await Harness.run(simulator: SimulatorSettings(tokens: 200, delay: .milliseconds(20))) { h in
            let conversation = try await h.newConversation(h.alice)
            let (turn, _) = try await h.sendCancelling(conversation, token: h.alice, atToken: 5)
            #expect(turn.final?["finish_reason"] as? String == "cancelled")
            let stored = try await h.answer(turn)
            #expect(stored.status == .cancelled)
            #expect(stored.usage?.source == .counted)
            #expect(stored.usage?.outputTokens == turn.tokens.count)
            #expect((stored.usage?.outputTokens ?? 0) >= 5)
            #expect((stored.usage?.inputTokens ?? 0) > 0)
        }
    }

    @Test("an answer refused before any text is not charged")
    func refusedTurnCostsNothing() async throws {
        try await Harness.run { h in
            let conversation = try await h.newConversation(h.alice)
            let turn = try await h.send(conversation, token: h.alice, scenario: "400")
            #expect(turn.last?.event == "error")
            let stored = try await h.answer(turn)
            #expect(stored.status == .error)
            #expect(stored.usage?.inputTokens == nil)
            #expect(stored.usage?.outputTokens == nil)
        }
    }

    @Test("a turn's whole prompt is counted once: the context builder's exact count serves the budget hold and the usage check",
          arguments: [false, true])
    func promptCountedOnce(knownWindow: Bool) async throws {
        let counter = RecordingCounter(ChatPromptCounter(tokenizer: WordTokenizer()))
        try await Harness.run(counter: counter, budgets: true, catalog: knownWindow ? ContextTests.smallWindow : ModelCatalog()) { h in
            let conversation = try await h.newConversation(h.alice)
            _ = try await h.send(conversation, token: h.alice, body: #"{"content":"first question here"}"#)
            counter.reset()
            let turn = try await h.send(conversation, token: h.alice, body: #"{"content":"count this prompt once"}"#, scenario: "no-usage")
            #expect(turn.final?["finish_reason"] as? String == "stop")
            // The request sent upstream: the earlier question and answer, then the new message.
            let wholePrompts = counter.promptCalls.filter { $0.count == 3 }
            #expect(wholePrompts.count == 1)
            let stored = try await h.answer(turn)
            #expect(stored.usage?.source == .counted)
            #expect(stored.usage?.inputTokens == (try await ChatPromptCounter(tokenizer: WordTokenizer()).promptTokens(try #require(wholePrompts.first))))
        }
    }
}

/// Passes counts through to a real counter and records the messages of every prompt count.
final class RecordingCounter: PromptCounter {
    private let inner: any PromptCounter
    private let calls = Mutex<[[ChatMessage]]>([])
    init(_ inner: any PromptCounter) { self.inner = inner }

    var promptCalls: [[ChatMessage]] { calls.withLock { $0 } }
    func reset() { calls.withLock { $0.removeAll() } }

    func promptTokens(_ messages: [ChatMessage]) async throws -> Int {
        calls.withLock { $0.append(messages) }
        return try await inner.promptTokens(messages)
    }

    func textTokens(_ text: String) async throws -> Int { try await inner.textTokens(text) }
}
