import Foundation
import SluiceCore
import SluiceTokenizer
import Testing
import SluiceTestSupport

/// Random conversations (random lengths, scripts, windows, pins, exclusions and summaries) planned for a
/// turn: the request is never over the input budget (so never over the window), always keeps the system
/// prompt first and the new message last, keeps the earlier messages in their order, and a refusal happens
/// only when the system prompt and the new message alone do not fit. Counted exactly with o200k_base when
/// the vocabulary is present (the test command sets it up), else one token per Unicode scalar.
struct ContextPlannerPropertyTests {
    /// One token per Unicode scalar: a stand-in when the BPE vocabulary is not installed.
    struct ScalarTokenizer: Tokenizer {
        func encode(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) } }
        func count(_ text: String) -> Int { text.unicodeScalars.count }
    }

    static let samples = [
        "The quick brown fox jumps over the lazy dog.", "Résumé of the café meeting: naïve but fine.",
        "Съешь же ещё этих мягких французских булок.", "日本語のテキストも正しく数える必要があります。",
        "مرحبا بالعالم، هذه رسالة قصيرة.", "🙂🚀 emoji and 中文 mixed with English words",
        "func plan() -> Int { return 42 }", "Ελληνικά γράμματα και αριθμοί 12345.",
        "   spaces   and\n\nnew lines\t\ttabs   ", "a",
    ]

    static func randomText(_ generator: inout SeededGenerator) -> String {
        let parts = Int.random(in: 0...12, using: &generator)
        return (0..<parts).map { _ in samples.randomElement(using: &generator)! }.joined(separator: " ")
    }

    @Test func plansNeverExceedTheWindowAndKeepSystemNewestAndOrder() async throws {
        let tokenizer: any Tokenizer =
            ReferenceCorpus.isAvailable
            ? try BPETokenizer(encoding: .o200kBase, vocabularyDirectory: ReferenceCorpus.vocabularyDirectory)
            : ScalarTokenizer()
        let counter = ChatPromptCounter(tokenizer: tokenizer)
        let seed = UInt64.random(in: 0...UInt64.max)
        var generator = SeededGenerator(seed: seed)
        var planned = 0
        var refused = 0
        var summarisedSeen = 0
        for round in 0..<300 {
            let policy = ContextPolicy(
                contextWindow: Int.random(in: 40...3000, using: &generator),
                outputReserve: Int.random(in: 0...600, using: &generator),
                inputShare: [0.5, 0.75, 0.9, 1.0].randomElement(using: &generator)!,
                maxRecentMessages: Int.random(in: 1...12, using: &generator))
            let planner = ContextPlanner(policy: policy, promptOverhead: 3)
            func cost(_ message: ChatMessage) async throws -> Int { try await counter.promptTokens([message]) - 3 }

            var history: [ContextCandidate] = []
            for index in 0..<Int.random(in: 0...30, using: &generator) {
                let message = ChatMessage(role: index % 2 == 0 ? .user : .assistant, content: Self.randomText(&generator))
                let mode: ContextMode = [.auto, .auto, .auto, .auto, .pinned, .excluded].randomElement(using: &generator)!
                history.append(ContextCandidate(id: "m\(index)", message: message, mode: mode, tokens: try await cost(message)))
            }
            let coveredCount = history.isEmpty ? 0 : Int.random(in: 0...history.count, using: &generator)
            let summary = ConversationSummary(
                text: Self.randomText(&generator), coveredMessageIDs: history.prefix(coveredCount).map(\.id), model: nil,
                updatedAt: Date())
            let system: ChatMessage? = Bool.random(using: &generator) ? ChatMessage(role: .system, content: Self.randomText(&generator)) : nil
            let newMessage = ChatMessage(role: .user, content: Self.randomText(&generator) + "?")
            let systemTokens = try await system.asyncMap { try await cost($0) }
            let newTokens = try await cost(newMessage)
            let context = "seed \(seed), round \(round)"

            let plan: ContextPlan
            do {
                plan = try planner.plan(
                    system: system.map { ($0, systemTokens!) }, history: history,
                    summary: coveredCount > 0 ? (summary, try await cost(summary.asMessage)) : nil,
                    newMessages: ([newMessage], newTokens))
            } catch {
                // Refused only when the fixed part alone is over the budget.
                #expect(3 + (systemTokens ?? 0) + newTokens > policy.inputBudget, "\(context)")
                refused += 1
                continue
            }
            planned += 1
            let exact = try await counter.promptTokens(plan.messages)
            #expect(exact == plan.inputTokens, "\(context)")
            #expect(exact <= policy.inputBudget, "\(context)")
            #expect(exact + policy.outputReserve <= policy.contextWindow || policy.inputBudget == 0, "\(context)")
            if let system { #expect(plan.messages.first == system, "\(context)") }
            #expect(plan.messages.last == newMessage, "\(context)")
            // Earlier messages keep their order: their positions in the history only grow.
            let sent = history.filter { plan.states[$0.id] == .inContext }
            let sentMessages = plan.messages.filter { $0 != system && $0 != newMessage && $0 != summary.asMessage }
            #expect(sentMessages == sent.map(\.message), "\(context)")
            // Excluded messages are never sent; every message has a state.
            #expect(history.allSatisfy { plan.states[$0.id] != nil }, "\(context)")
            #expect(!history.contains { $0.mode == .excluded && plan.states[$0.id] != .excluded }, "\(context)")
            #expect(history.filter { $0.mode == .auto && plan.states[$0.id] == .inContext }.count <= policy.maxRecentMessages, "\(context)")
            summarisedSeen += plan.summarisedCount
        }
        // The generator reaches every branch: plans, refusals and summaries all happen.
        #expect(planned > 200 && refused > 0 && summarisedSeen > 0, "planned \(planned), refused \(refused), summarised \(summarisedSeen)")
    }

    @Test func theMostRecentRunHasNoGapAndOlderMessagesAreHandedToTheSummariser() throws {
        let planner = ContextPlanner(policy: ContextPolicy(contextWindow: 200, outputReserve: 50, maxRecentMessages: 3))
        let history = (0..<6).map {
            ContextCandidate(id: "m\($0)", message: ChatMessage(role: .user, content: "message \($0)"), mode: .auto, tokens: $0 == 4 ? 500 : 10)
        }
        let plan = try planner.plan(
            system: nil, history: history, summary: nil, newMessages: ([ChatMessage(role: .user, content: "now")], 5))
        // m5 fits; m4 (500 tokens) does not, so the run ends there even though m3 would fit.
        #expect(plan.states["m5"] == .inContext)
        #expect(plan.states["m4"] == .outOfWindow && plan.states["m3"] == .outOfWindow)
        #expect(plan.toSummarise.map(\.id) == ["m0", "m1", "m2", "m3", "m4"])
        #expect(plan.inputTokens == 3 + 10 + 5)
    }
}
