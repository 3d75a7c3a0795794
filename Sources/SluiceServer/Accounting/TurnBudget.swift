import Foundation
import SluiceCore

/// Enforces token budgets before any tokens are spent: counts a turn's input exactly, holds input plus an
/// output allowance in one atomic store step, caps the request's `max_tokens` at that allowance, and refuses
/// with `429 budget_exceeded` when not even the input fits.
struct TurnBudget: Sendable {
    let budgets: (any BudgetStore)?
    let counter: (any PromptCounter)?
    /// Prices, for holding the most a turn may cost against daily dollar budgets.
    let catalog: ModelCatalog
    /// The output to hold when no `max_tokens` is configured.
    let defaultOutputReserve: Int

    /// What `hold` gives the turn: the request to send (its `max_tokens` capped by the hold), the hold, which the
    /// turn settles, and the request's input tokens (counted once per turn: the turn's own usage check reuses it).
    struct Held: Sendable {
        var request: ChatRequest
        var hold: BudgetHold?
        var inputTokens: Int?
        /// Whether the hold stored the answer's row with it (`HoldRequest.answer`).
        var answerStored = false
        /// Whether the hold stored the prelude (`HoldRequest.prelude`).
        var preludeStored = false
    }

    /// Holds the turn's tokens. `inputTokens` is the request's exact count when the caller already has it (the
    /// context builder counts what it sends); otherwise it is counted here. `answer`, when given, is stored with a
    /// granted hold in one commit (`answerStored`); `prelude` in that commit granted or refused (`preludeStored`;
    /// a refusal throws after it). Without a budget store the caller stores both.
    func hold(
        _ request: ChatRequest, inputTokens known: Int?, user: User, conversationID: String, messageID: String,
        answer: Message? = nil, prelude: HoldPrelude? = nil
    ) async throws -> Held {
        guard let budgets, let counter else { return Held(request: request, hold: nil, inputTokens: known) }
        let input: Int
        do {
            if let known { input = known } else { input = try await counter.promptTokens(request.messages) }
        } catch {
            throw APIError(
                .badGateway, code: "upstream_unreachable",
                message: "Sluice could not count this message's tokens because the model's tokenizer did not answer, "
                    + "so it did not send it. Your message is saved; try again in a moment.")
        }
        let wantedOutput = request.maxTokens ?? defaultOutputReserve
        let price = catalog.price(for: request.model) ?? .free
        let now = Date()
        var holdRequest = HoldRequest(
            userID: user.id, conversationID: conversationID, messageID: messageID, model: request.model,
            inputTokens: input, wantedOutput: wantedOutput, price: price, answer: answer)
        holdRequest.prelude = prelude
        guard let hold = try await budgets.hold(holdRequest, now: now) else {
            throw Self.exceeded(
                try await budgets.budget(userID: user.id, now: now), needed: input + 1,
                cost: price.cost(inputTokens: input, outputTokens: 1), now: now)
        }
        var capped = request
        if let allowance = hold.outputAllowance { capped.maxTokens = min(request.maxTokens ?? allowance, allowance) }
        return Held(request: capped, hold: hold, inputTokens: input, answerStored: answer != nil, preludeStored: prelude != nil)
    }

    /// The refusal: which budget is spent, what is left, what the message needs, when it resets, what to do.
    static func exceeded(_ budget: BudgetState, needed: Int, cost: USDAmount, now: Date) -> APIError {
        let message: String
        if let remaining = budget.remaining, remaining < needed {
            message = "You have \(remaining) of your \(budget.limit ?? 0) tokens left until \(Self.resetText(budget.resetAt, now: now)), "
                + "and this message needs at least \(needed) with its conversation. Start a new conversation, "
                + "clear or summarise the context, shorten the message, upgrade your plan (\(budget.plan.rawValue) now), "
                + "or wait until the reset."
        } else if let dollars = budget.dailyDollars, dollars.remaining < cost {
            message = "You have spent $\(dollars.spent.decimalString) of your daily $\(dollars.limit.decimalString) "
                + "(this message would cost at least $\(cost.decimalString)). The limit resets at "
                + "\(Self.resetText(dollars.resetAt, now: now)). Start a new conversation or clear the context to send fewer "
                + "tokens, ask for a higher limit, or wait until the reset."
        } else {
            let dollars = budget.globalDailyDollars
            message = "The service has reached its daily spending limit"
                + (dollars.map { " ($\($0.limit.decimalString))" } ?? "")
                + ", so no more messages can be sent today. It resets at "
                + "\(Self.resetText(dollars?.resetAt ?? budget.resetAt, now: now)); the operator has been told."
        }
        var error = APIError(.tooManyRequests, code: "budget_exceeded", message: message)
        error.details = "\"budget\":" + WireBudget(budget).json
        return error
    }

    static func resetText(_ date: Date, now: Date) -> String {
        let minutes = max(1, Int(date.timeIntervalSince(now) / 60))
        let formatter = ISO8601DateFormatter()
        let wait = minutes >= 60 ? "\(minutes / 60) h \(minutes % 60) min" : "\(minutes) min"
        return "\(formatter.string(from: date)) (in \(wait))"
    }
}

