import Foundation
import Logging
import SluiceCore

/// What a turn costs: counting with the model's tokenizer, settling the budget hold, and adding up the usage of
/// a continued answer.
extension ChatTurn {
    /// Settles the turn's hold to what it used (releases it when nothing was generated) and stores how the answer
    /// ended, in one commit (an answer from the response cache is charged nothing and its row records what it
    /// `saved`); without a hold, only stores the answer. When the plan reports them, reads the budget
    /// and the conversation's total afterwards, for `done`.
    func settle(
        _ plan: Plan, charged: Usage?, cost: USDAmount?, saved: CacheSavings?, finishing outcome: AssistantOutcome,
        sources: [ExcerptSource], logger: Logger
    ) async -> (WireBudget?, Int?) {
        // A gateway conversation that ends with a complete answer is marked, so the caller's next call continues it.
        var thread: (conversationID: String, key: String)?
        if outcome.status == .complete, let conversationID = plan.conversationID, let key = plan.threadKey {
            thread = (conversationID, key(ChatMessage(role: .assistant, content: outcome.content, toolCalls: outcome.toolCalls)))
        }
        let answer = AnswerFinish(messageID: plan.assistantMessageID, outcome: outcome, thread: thread)
        let settlement = plan.hold.map { hold in
            AnswerEnd.Settlement(
                holdID: hold.id, inputTokens: charged?.inputTokens ?? 0, outputTokens: charged?.outputTokens ?? 0,
                cachedInputTokens: charged?.cachedInputTokens ?? 0, cost: cost ?? .zero, saved: saved, at: Date())
        }
        // Settled and stored in one commit; kept to write again when the database does not take it — and then not
        // read either (each read would wait as long for an answer).
        let stored = await unsavedEnds.store(AnswerEnd(settlement: settlement, answer: answer, sources: sources))
        guard let budgets, stored else { return (nil, nil) }
        var budget: WireBudget?
        if let hold = plan.hold, plan.reportsBudget {
            do {
                budget = WireBudget(try await budgets.budget(userID: hold.userID, now: Date()))
            } catch {
                logger.error("could not read the token budget after a turn", metadata: ["error": "\(error)"])
            }
        }
        guard plan.reportsBudget else { return (budget, nil) }
        let conversationTokens = try? await plan.conversationID.asyncMap { try await budgets.conversationTokens(conversationID: $0) }
        return (budget, conversationTokens ?? nil)
    }

    /// Runs one count with the model's counter; a failed count is logged and leaves the figure unknown.
    func count(logger: Logger, _ body: (any PromptCounter) async throws -> Int) async -> Int? {
        guard let counter else { return nil }
        do {
            return try await body(counter)
        } catch {
            logger.warning("could not count tokens", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The usage of a continued answer: earlier plus new, when both are known. When the earlier part has no
    /// usage at all (a broken stream sends none), the continuation's own usage is what the provider reported.
    static func combine(_ earlier: Usage?, _ new: Usage?) -> Usage? {
        guard let earlier, earlier != .unknown, let new else { return new ?? earlier }
        func add(_ a: Int?, _ b: Int?) -> Int? { a.flatMap { a in b.map { a + $0 } } }
        let source: UsageSource? = earlier.source == .counted || new.source == .counted ? .counted : new.source
        return Usage(
            inputTokens: add(earlier.inputTokens, new.inputTokens), outputTokens: add(earlier.outputTokens, new.outputTokens),
            totalTokens: add(earlier.totalTokens, new.totalTokens), source: source,
            countedInputTokens: add(earlier.countedInputTokens, new.countedInputTokens),
            countedOutputTokens: add(earlier.countedOutputTokens, new.countedOutputTokens),
            cachedInputTokens: addReported(earlier.cachedInputTokens, new.cachedInputTokens),
            cacheWriteTokens: addReported(earlier.cacheWriteTokens, new.cacheWriteTokens))
    }

    /// A prompt-cache figure left out by one call means none of its prompt came from (or went to) the cache.
    private static func addReported(_ a: Int?, _ b: Int?) -> Int? {
        a == nil && b == nil ? nil : (a ?? 0) + (b ?? 0)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
