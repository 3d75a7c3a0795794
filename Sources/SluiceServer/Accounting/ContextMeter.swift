import Foundation
import Hummingbird
import Logging
import SluiceCore

/// Measures conversations in tokens: how much of the model's context window the next request would fill,
/// and what a message about to be sent would cost and leave of the budget.
struct ContextMeter: Sendable {
    let counter: (any PromptCounter)?
    let catalog: ModelCatalog
    let budgets: (any BudgetStore)?
    /// Builds requests as a turn would (window, summary, exclusions), so the figures match what is sent.
    let builder: ContextBuilder

    /// The conversation's figures for `GET /api/conversations/{id}`; unknown parts are `nil`.
    func figures(_ conversation: Conversation, history: [Message], logger: Logger) async -> ContextFigures {
        let built = try? await builder.build(
            conversation: conversation, history: history.filter { !$0.superseded }, tail: [], model: conversation.model,
            fold: false, logger: logger)
        var used: Int?
        if let built {
            if built.messages.isEmpty {
                used = 0
            } else if let planned = built.plan?.inputTokens {
                used = planned
            } else {
                used = try? await counter?.promptTokens(built.messages)
            }
        }
        let spent = try? await budgets?.conversationTokens(conversationID: conversation.id)
        return ContextFigures(tokensUsed: used, contextWindow: catalog.contextWindow(for: conversation.model), tokensSpent: spent)
    }

    /// What sending `content` (with its `attachments`, which count as part of the message) next would cost, part by
    /// part, and whether it fits.
    func estimate(
        _ content: String, attachments: [Attachment] = [], images: [ImageInput] = [], conversation: Conversation,
        history: [Message], user: User,
        outputReserve: Int, logger: Logger
    ) async throws -> Estimate {
        guard let counter else {
            throw APIError(.notFound, code: "not_found", message: "This server cannot count tokens for this model, so it cannot estimate.")
        }
        let prompt = Attachment.prompt(attachments, then: content)
        let tail = [ChatMessage(role: .user, content: prompt, images: images)]
        let messages: [ChatMessage]
        do {
            messages = try await builder.build(
                conversation: conversation, history: history.filter { !$0.superseded }, tail: tail, model: conversation.model,
                fold: false, logger: logger
            ).messages
        } catch is ContextOverflow {
            // Too big for the window even alone: estimate it whole, and the suggestions say why it cannot go.
            messages = (conversation.systemPrompt.map { [ChatMessage(role: .system, content: $0)] } ?? []) + tail
        }
        let total = try await counter.promptTokens(messages)
        let message = try await counter.textTokens(prompt) + tail.imageTokens
        let system = try await conversation.systemPrompt.asyncMap { try await counter.textTokens($0) } ?? 0
        let contextMessages = messages.count - 1 - (conversation.systemPrompt == nil ? 0 : 1)
        let budget = try await budgets?.budget(userID: user.id, now: Date())
        let reserve = min(outputReserve, max(1, (budget?.remaining ?? outputReserve + total) - total))
        let window = catalog.contextWindow(for: conversation.model)
        var estimate = Estimate(
            inputTokens: total, system: system, message: message, context: max(0, total - message - system),
            contextMessages: contextMessages, outputReserve: reserve, contextWindow: window,
            wouldExceedBudget: budget?.remaining.map { total + 1 > $0 } ?? false,
            budget: budget.map(WireBudget.init), suggestions: [])
        estimate.suggestions = Self.suggestions(for: estimate, budget: budget)
        return estimate
    }

    /// Concrete ways to spend fewer tokens, most useful first.
    static func suggestions(for estimate: Estimate, budget: BudgetState?) -> [String] {
        var suggestions: [String] = []
        if estimate.wouldExceedBudget, let budget, let remaining = budget.remaining {
            suggestions.append(
                "This message needs \(estimate.inputTokens) tokens with its context but only \(remaining) are left until "
                    + "\(TurnBudget.resetText(budget.resetAt, now: Date())): start a new conversation, summarise the context, "
                    + "upgrade your plan or wait for the reset.")
        }
        if let window = estimate.contextWindow, estimate.inputTokens + estimate.outputReserve > window {
            suggestions.append(
                "The conversation (\(estimate.inputTokens) tokens) leaves no room for an answer in the model's "
                    + "\(window)-token context window: summarise it or start a new conversation.")
        } else if let window = estimate.contextWindow, estimate.inputTokens * 100 / max(1, window) >= 75 {
            suggestions.append("The conversation fills \(estimate.inputTokens * 100 / window) % of the model's context window: summarise it soon.")
        }
        if estimate.message >= 1_000 {
            suggestions.append("Your message is \(estimate.message) tokens: shorten it, or send only the part that matters.")
        }
        if estimate.contextMessages >= 10 || (estimate.context >= 1_000 && estimate.context > estimate.message * 2) {
            suggestions.append(
                "The context holds \(estimate.contextMessages) earlier messages (\(estimate.context) tokens), all sent again "
                    + "with every message: summarise them or start a new conversation.")
        }
        return suggestions
    }
}

/// `POST /api/conversations/{id}/estimate`'s answer.
struct Estimate: ResponseEncodable, Sendable {
    var inputTokens: Int
    var system: Int
    var message: Int
    /// Earlier messages plus the chat format's framing.
    var context: Int
    var contextMessages: Int
    var outputReserve: Int
    var contextWindow: Int?
    var wouldExceedBudget: Bool
    var budget: WireBudget?
    var suggestions: [String]

    enum Keys: String, CodingKey {
        case inputTokens, breakdown, outputReserve, contextWindow, wouldExceedBudget, budget, suggestions
    }

    enum BreakdownKeys: String, CodingKey {
        case system, context, message, contextMessages
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(inputTokens, forKey: .inputTokens)
        var breakdown = container.nestedContainer(keyedBy: BreakdownKeys.self, forKey: .breakdown)
        try breakdown.encode(system, forKey: .system)
        try breakdown.encode(context, forKey: .context)
        try breakdown.encode(message, forKey: .message)
        try breakdown.encode(contextMessages, forKey: .contextMessages)
        try container.encode(outputReserve, forKey: .outputReserve)
        try container.encode(contextWindow, forKey: .contextWindow)
        try container.encode(wouldExceedBudget, forKey: .wouldExceedBudget)
        try container.encode(budget, forKey: .budget)
        try container.encode(suggestions, forKey: .suggestions)
    }
}
