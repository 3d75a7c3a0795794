import Logging
import SluiceCore

extension ChatTurn {
    /// What one turn generates and where it is stored.
    struct Plan: Sendable {
        let assistantMessageID: String
        let request: ChatRequest
        /// For a continued answer: the text and token boundaries it already has, and its earlier usage.
        var prior: Prior? = nil
        /// The logger of the request that started the turn, so every line of a turn carries its request id.
        var logger: Logger? = nil
        /// The tokens held for this turn before the call (`TurnBudget`); settled when it ends.
        var hold: BudgetHold? = nil
        /// The request's input tokens as counted before the call (`TurnBudget.Held`); counted by the turn if `nil`.
        var countedInputTokens: Int? = nil
        /// The conversation, for its running token total in `done`.
        var conversationID: String? = nil
        /// The conversation's system prompt, redacted if the answer quotes it.
        var systemPrompt: String? = nil
        /// The request for a fallback model (its own context window); `nil` sends the same messages to it.
        var rebuild: (@Sendable (String) async -> Fallback?)? = nil
        /// Whether `done` carries the budget and the conversation's total afterwards (two reads): the web app
        /// shows them; the OpenAI wire format has no place for them.
        var reportsBudget = true
        /// The thread key of the conversation once it ends with this answer (the gateway's `ThreadKey`), stored
        /// with a complete answer, before `done` reaches the client.
        var threadKey: (@Sendable (_ answer: ChatMessage) -> String)? = nil
        /// Where the upstream call and the first token are marked, for the response's `Server-Timing`.
        var timings: TurnTimings? = nil
        /// What the turn may do with the response cache; `nil` (the web app's turns) leaves it alone.
        var cache: ResponseCacheUse? = nil
        /// Set for a turn that is not kept (`GatewayCall.keep`): deletes what it stored, once it is settled and
        /// before its end is told; the answer is then kept nowhere, not even in the fallback's `AnswerCache`.
        var discard: (@Sendable () async -> Void)? = nil
        /// The parts of the project's files sent as excerpts: stored with the answer and named in `done` (a fallback's
        /// own, `Fallback.sources`, when one answers).
        var sources: [ExcerptSource] = []
    }

    /// What a fallback model is asked (`Plan.rebuild`), and the excerpts of the project's files it is sent.
    struct Fallback: Sendable {
        var request: ChatRequest
        var sources: [ExcerptSource]
    }

    /// What a continued answer starts from; new tokens are appended and numbered after it.
    struct Prior: Sendable {
        let content: String
        let tokenEnds: [Int]
        let usage: Usage?
        /// Its thinking, and how long that took: this call's thinking is stored after it.
        var reasoning: String? = nil
        var reasoningMs: Int? = nil
    }
}
