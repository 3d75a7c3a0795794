import Foundation
import HTTPTypes
import SluiceCore

/// Enforces token budgets before any tokens are spent: counts a turn's input exactly, holds input plus an
/// output allowance in one atomic store step, caps the request's `max_tokens` at that allowance, and refuses
/// with `429 budget_exceeded` when not even the input fits (`429 rate_limit_exceeded` over a limit per minute).
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
    // Out of line, as `prepare`, its caller, is: see `holdRequest`.
    @inline(never)
    func hold(
        _ request: ChatRequest, inputTokens known: Int?, user: User, conversationID: String, endUser: String? = nil,
        messageID: String, answer: Message? = nil, prelude: HoldPrelude? = nil, apiKey: KeyUse? = nil,
        extraAnswer: Bool = false, tags: [String] = [], wording: RefusalWording = .message
    ) async throws -> Held {
        guard let budgets, let counter else { return Held(request: request, hold: nil, inputTokens: known) }
        let input: Int
        if let known { input = known } else { input = try await count(request, with: counter) }
        let now = Date()
        guard let hold = try await budgets.hold(
            holdRequest(request, inputTokens: input, userID: user.id, conversationID: conversationID, endUser: endUser,
                        messageID: messageID, answer: answer, prelude: prelude, apiKey: apiKey, extraAnswer: extraAnswer,
                        tags: tags),
            now: now)
        else {
            throw try await refusal(
                budgets, request: request, inputTokens: input, userID: user.id, endUser: endUser, apiKey: apiKey,
                tags: UsageTags.merged(key: apiKey?.tags ?? [], call: tags), now: now, wording: wording)
        }
        var capped = request
        if let allowance = hold.outputAllowance { capped.maxTokens = min(request.maxTokens ?? allowance, allowance) }
        return Held(request: capped, hold: hold, inputTokens: input, answerStored: answer != nil, preludeStored: prelude != nil)
    }

    /// The request's input tokens, when the caller did not count them.
    @inline(never)
    private func count(_ request: ChatRequest, with counter: any PromptCounter) async throws -> Int {
        do {
            return try await counter.requestTokens(request)
        } catch {
            throw APIError(
                .badGateway, code: "upstream_unreachable",
                message: "Sluice could not count this message's tokens because the model's tokenizer did not answer, "
                    + "so it did not send it. Your message is saved; try again in a moment.")
        }
    }

    /// What the store is asked to hold. Built out of line, like `refusal`: an async function's frame keeps a slot
    /// for every value any of its paths makes, and the connection's task keeps its largest frame for as long as
    /// the connection lives (`docs/benchmarks.md`, "Memory per stream").
    @inline(never)
    private func holdRequest(
        _ request: ChatRequest, inputTokens: Int, userID: String, conversationID: String, endUser: String?, messageID: String,
        answer: Message?, prelude: HoldPrelude?, apiKey: KeyUse?, extraAnswer: Bool, tags: [String]
    ) -> HoldRequest {
        var holdRequest = HoldRequest(
            userID: userID, conversationID: conversationID, messageID: messageID, model: request.model,
            inputTokens: inputTokens, wantedOutput: request.maxTokens ?? Self.defaultOutput(request, reserve: defaultOutputReserve),
            price: catalog.price(for: request.model) ?? .free, answer: answer)
        holdRequest.prelude = prelude
        holdRequest.apiKeyID = apiKey?.id
        holdRequest.apiKeyDailyLimit = apiKey?.dailyDollarLimit
        holdRequest.apiKeyRateCaps = apiKey?.rateCaps ?? .none
        holdRequest.extraAnswer = extraAnswer
        // The key's own tags go with every call made with it (LiteLLM's key tags), the web app's turns too.
        holdRequest.tags = UsageTags.merged(key: apiKey?.tags ?? [], call: tags)
        // A conversation's end user is read from it, in the hold's own statement; only a call without one names it.
        if conversationID.isEmpty { holdRequest.endUser = endUser }
        return holdRequest
    }

    /// What a turn without an output limit is held for: the default reserve, and when it asks a reasoning model to
    /// think, the thinking too (the budget Anthropic is asked for; an OpenAI-compatible model's reasoning tokens
    /// count as output as well). A user with a budget gets that as the answer's limit (`outputAllowance`), so the
    /// thinking has room beside the answer instead of eating it.
    static func defaultOutput(_ request: ChatRequest, reserve: Int) -> Int {
        reserve + (request.sampling.reasoning?.anthropicBudget ?? 0)
    }

    /// The 429 for a refused hold, with the budget as it stands (and the end user's, for a conversation with one).
    @inline(never)
    private func refusal(
        _ budgets: any BudgetStore, request: ChatRequest, inputTokens: Int, userID: String, endUser: String?, apiKey: KeyUse?,
        tags: [String], now: Date, wording: RefusalWording
    ) async throws -> APIError {
        let price = catalog.price(for: request.model) ?? .free
        let budget = try await budgets.budget(userID: userID, now: now)
        var endUserBudget: (name: String, dollars: DollarBudget)?
        if let endUser, budget.endUserDailyLimit != nil,
            let dollars = try await budgets.endUserBudget(userID: userID, endUser: endUser, now: now)
        {
            endUserBudget = (endUser, dollars)
        }
        var keyBudget: (label: String, dollars: DollarBudget)?
        if let apiKey, let limit = apiKey.dailyDollarLimit {
            let spent = try await budgets.apiKeySpentToday(userID: userID, apiKeyID: apiKey.id, now: now)
            // The next UTC midnight, as the ledger's days run.
            let tomorrow = UsagePeriod.today.start(now: now).addingTimeInterval(86_400)
            keyBudget = (apiKey.label, DollarBudget(limit: limit, spent: spent, resetAt: tomorrow))
        }
        var keyRates: (label: String, limits: RateLimits)?
        if let apiKey,
            let limits = try await budgets.apiKeyRateLimits(userID: userID, apiKeyID: apiKey.id, caps: apiKey.rateCaps, now: now)
        {
            keyRates = (apiKey.label, limits)
        }
        // The call's tags that have a budget (LiteLLM's tag budgets), in the call's order.
        let budgeted = tags.isEmpty ? [] : try await budgets.tagBudgets(now: now)
        let tagBudgets = tags.compactMap { tag in budgeted.first { $0.budget.tag == tag } }
        return Self.exceeded(
            budget, endUser: endUserBudget, key: keyBudget, keyRates: keyRates, tags: tagBudgets, needed: inputTokens + 1,
            cost: price.mostCost(inputTokens: inputTokens, outputTokens: 1), now: now, wording: wording)
    }

    /// The refusal: which budget is spent, what is left, what the message needs, when it resets, what to do.
    static func exceeded(
        _ budget: BudgetState, endUser: (name: String, dollars: DollarBudget)? = nil,
        key: (label: String, dollars: DollarBudget)? = nil, keyRates: (label: String, limits: RateLimits)? = nil,
        tags: [TagBudgetSummary] = [], needed: Int, cost: USDAmount, now: Date, wording: RefusalWording = .message
    ) -> APIError {
        let message: String
        // When the budget that refused the turn resets: the answer's `Retry-After`.
        let resetAt: Date
        if let remaining = budget.remaining, remaining < needed {
            resetAt = budget.resetAt
            message = "You have \(remaining) of your \(budget.limit ?? 0) tokens left until \(Self.resetText(budget.resetAt, now: now)), "
                + "and \(wording.subject) needs at least \(needed)\(wording.context). \(wording.needFewer), "
                + "upgrade your plan (\(budget.plan.rawValue) now), or wait until the reset."
        } else if let dollars = budget.dailyDollars, dollars.remaining < cost {
            resetAt = dollars.resetAt
            message = "You have spent $\(dollars.spent.decimalString) of your daily $\(dollars.limit.decimalString) "
                + "(\(wording.subject) would cost at least $\(cost.decimalString)). The limit resets at "
                + "\(Self.resetText(dollars.resetAt, now: now)). \(wording.fewerTokens), ask for a higher limit, or wait until the reset."
        } else if let team = budget.team, let dollars = team.dailyDollars, dollars.remaining < cost {
            resetAt = dollars.resetAt
            message = Self.daySpent(
                "Your team '\(team.name)'", dollars, allowance: "its members may spend together a day", cost: cost,
                remedy: Self.teamRemedy, now: now, wording: wording)
        } else if let team = budget.team, let dollars = team.monthlyDollars, dollars.remaining < cost {
            resetAt = dollars.resetAt
            message = Self.daySpent(
                "Your team '\(team.name)'", dollars, allowance: "its members may spend together a month", cost: cost,
                remedy: Self.teamRemedy, now: now, wording: wording)
        } else if let (tag, dollars, period) = Self.spentTag(tags, cost: cost) {
            resetAt = dollars.resetAt
            message = Self.daySpent(
                "The tag '\(tag)'", dollars, allowance: "calls tagged with it may spend together a \(period)", cost: cost,
                remedy: "ask an administrator to raise the tag's limit (Tag budgets on the Users page, or sluice tag set)",
                now: now, wording: wording)
        } else if let endUser, endUser.dollars.remaining < cost {
            resetAt = endUser.dollars.resetAt
            message = Self.daySpent(
                "The end user '\(endUser.name)'", endUser.dollars, allowance: "a day each end user of this account may spend",
                cost: cost, remedy: "raise the limit per end user (sluice user set-plan … --end-user-daily-usd)", now: now,
                wording: wording)
        } else if let key, key.dollars.remaining < cost {
            resetAt = key.dollars.resetAt
            message = Self.daySpent(
                "The API key '\(key.label)'", key.dollars, allowance: "it may spend a day", cost: cost,
                remedy: "raise the key's limit (Edit on the API keys page)", now: now, wording: wording)
        } else if let rates = budget.rateLimits, let kind = rates.exceeded(needing: needed) {
            return rateLimited(rates, kind: kind, needed: needed, now: now, wording: wording)
        } else if let keyRates, let kind = keyRates.limits.exceeded(needing: needed) {
            return rateLimited(keyRates.limits, kind: kind, needed: needed, now: now, part: .key(keyRates.label), wording: wording)
        } else if let team = budget.team, let rates = team.rateLimits, let kind = rates.exceeded(needing: needed) {
            return rateLimited(rates, kind: kind, needed: needed, now: now, part: .team(team.name), wording: wording)
        } else {
            let dollars = budget.globalDailyDollars
            resetAt = dollars?.resetAt ?? budget.resetAt
            message = "The service has reached its daily spending limit"
                + (dollars.map { " ($\($0.limit.decimalString))" } ?? "")
                + ", so no more messages can be sent today. It resets at "
                + "\(Self.resetText(resetAt, now: now)); the operator has been told."
        }
        var error = APIError(.tooManyRequests, code: "budget_exceeded", message: message)
        // A spent budget does not come back in seconds: OpenAI's SDKs, which retry a 429 twice by default, obey
        // `x-should-retry: false` (and give up on a `Retry-After` over a minute); each retry would store the
        // caller's message again for nothing.
        error.headers[HTTPField.Name("Retry-After")!] = String(max(1, Int(resetAt.timeIntervalSince(now).rounded(.up))))
        error.headers[HTTPField.Name("x-should-retry")!] = "false"
        error.details = "\"budget\":" + WireBudget(budget).json
        // The end user's day, when a conversation names one under a limit per end user: `{"name", …WireDollars}`.
        if let endUser { error.details! += ",\"end_user_daily_usd\":" + WireDollars(endUser.dollars).json(named: endUser.name) }
        // The key's day, for a key with a daily limit: `{"name": label, …WireDollars}`.
        if let key { error.details! += ",\"key_daily_usd\":" + WireDollars(key.dollars).json(named: key.label) }
        // The tag that refused it: `{"name": tag, "period": "day" | "month", …WireDollars}`.
        if let (tag, dollars, period) = Self.spentTag(tags, cost: cost) {
            error.details! += ",\"tag_usd\":" + WireDollars(dollars).json(named: tag, period: period)
        }
        return error
    }

    /// The first of the call's budgeted tags whose day or month cannot pay `cost`: its name, the limit, and "day" or "month".
    private static func spentTag(_ tags: [TagBudgetSummary], cost: USDAmount) -> (String, DollarBudget, String)? {
        for summary in tags {
            if let day = summary.dailyDollars, day.remaining < cost { return (summary.budget.tag, day, "day") }
            if let month = summary.monthlyDollars, month.remaining < cost { return (summary.budget.tag, month, "month") }
        }
        return nil
    }

    /// What a member whose team's limit is spent may do besides sending less or waiting.
    private static let teamRemedy = "ask an administrator to raise the team's limit (Teams on the Users page, or sluice team set)"

    /// "<who> has spent $S of the $L <allowance> (this message would cost at least $C). The limit resets at …": a
    /// daily dollar limit of one part of the account (an end user, a key) that the turn does not fit.
    private static func daySpent(
        _ who: String, _ dollars: DollarBudget, allowance: String, cost: USDAmount, remedy: String, now: Date,
        wording: RefusalWording
    ) -> String {
        "\(who) has spent $\(dollars.spent.decimalString) of the $\(dollars.limit.decimalString) \(allowance) (\(wording.subject) "
            + "would cost at least $\(cost.decimalString)). The limit resets at \(Self.resetText(dollars.resetAt, now: now)). "
            + "\(wording.sendLessSentence), \(remedy), or wait until the reset."
    }

    /// The refusal of a turn over a rate limit: `429 rate_limit_exceeded`, as OpenAI words it, with OpenAI's
    /// `x-ratelimit-*` headers and a `Retry-After` for when the window's oldest request leaves it (a second, for
    /// answers at once: turns end at any moment). Unlike a spent budget this comes back soon, so the SDKs' own
    /// retries (which honour `Retry-After`) are welcome.
    /// With `part`, the limit is a labelled key's own (`APIKey.rateCaps`) or the user's team's (`Team.rateCaps`), and
    /// the message says so.
    static func rateLimited(
        _ rates: RateLimits, kind: RateLimits.Kind, needed: Int, now: Date, part: LimitedPart? = nil,
        wording: RefusalWording = .message
    ) -> APIError {
        let wait = kind == .parallel ? 1 : rates.secondsUntilWindowFrees(now: now)
        let limit = rates.limit(kind) ?? 0
        let message = if let part {
            partRateLimited(rates, kind: kind, part: part, limit: limit, needed: needed, wait: wait, wording: wording)
        } else {
            switch kind {
        case .parallel:
            "You have \(Self.count(rates.running, "answer")) running at once, the most your account may have (\(limit)). Try again when "
                + "one has finished, or ask the operator for a higher limit (sluice user set-plan … --max-parallel-requests)."

        case .requests:
            "You have sent \(Self.count(rates.requests, "request")) in the last minute, the most your account may send "
                + "(\(limit) a minute). Try again in \(wait) s, or ask the operator for a higher limit "
                + "(sluice user set-plan … --requests-per-minute)."
        case .tokens:
            "Your account has used \(rates.tokens) of its \(limit) tokens a minute, and \(wording.subject) needs at least "
                + "\(needed)\(wording.context). Try again in \(wait) s, \(wording.sendLess), or ask the operator "
                + "for a higher limit (sluice user set-plan … --tokens-per-minute)."
            }
        }
        var error = APIError(.tooManyRequests, code: "rate_limit_exceeded", message: message)
        error.headers[HTTPField.Name("Retry-After")!] = String(wait)
        rates.addHeaders(to: &error.headers, now: now)
        let number = { (value: Int?) in value.map(String.init) ?? "null" }
        error.details = "\"rate_limit\":{\"limit\":\"\(kind.rawValue)\",\"max_parallel_requests\":\(number(rates.maxParallel)),"
            + "\"running\":\(rates.running),\"requests_per_minute\":\(number(rates.requestsPerMinute)),\"requests\":\(rates.requests),"
            + "\"tokens_per_minute\":\(number(rates.tokensPerMinute)),\"tokens\":\(rates.tokens),\"retry_after_seconds\":\(wait)"
            + (part.map { ",\"\($0.field)\":" + JSONText.quote($0.name) } ?? "") + "}"
        return error
    }

    /// A part of an account with rate limits of its own: a labelled API key, or the team the user is in.
    enum LimitedPart {
        case key(String)
        case team(String)

        /// The refusal's `rate_limit` field that names it.
        var field: String {
            switch self {
            case .key: "key"
            case .team: "team"
            }
        }

        var name: String {
            switch self {
            case .key(let name), .team(let name): name
            }
        }
    }

    /// The message of a refusal over a key's or a team's own rate limit: the part is named, and the remedy is a
    /// higher limit for it (a key's user may set it in place; a team's is an administrator's to raise).
    private static func partRateLimited(
        _ rates: RateLimits, kind: RateLimits.Kind, part: LimitedPart, limit: Int, needed: Int, wait: Int,
        wording: RefusalWording
    ) -> String {
        let (who, remedy) = switch part {
        case .key(let label):
            ("The API key '\(label)'", "or raise the key's limit (Edit on the API keys page, or sluice user key set …).")
        case .team(let name):
            ("Your team '\(name)'", "or ask an administrator to raise the team's limit (Teams on the Users page, or sluice team set …).")
        }
        return switch kind {
        case .parallel:
            "\(who) has \(Self.count(rates.running, "answer")) running at once, the most it may have (\(limit)). Try again when "
                + "one has finished, \(remedy)"
        case .requests:
            "\(who) has sent \(Self.count(rates.requests, "request")) in the last minute, the most it may send (\(limit) a "
                + "minute). Try again in \(wait) s, \(remedy)"
        case .tokens:
            "\(who) has used \(rates.tokens) of its \(limit) tokens a minute, and \(wording.subject) needs at least \(needed)"
                + "\(wording.context). Try again in \(wait) s, \(wording.sendLess), \(remedy)"
        }
    }

    /// "1 request", "2 requests".
    private static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    static func resetText(_ date: Date, now: Date) -> String {
        let minutes = max(1, Int(date.timeIntervalSince(now) / 60))
        let formatter = ISO8601DateFormatter()
        let wait = minutes >= 60 ? "\(minutes / 60) h \(minutes % 60) min" : "\(minutes) min"
        return "\(formatter.string(from: date)) (in \(wait))"
    }
}

/// How a budget or rate-limit refusal names what was to be held and what to do about it: a chat turn's message with
/// its conversation (`message`), or an embeddings call's texts (`texts`).
struct RefusalWording: Sendable {
    /// What needs the tokens or would cost the money: "this message".
    let subject: String
    /// After the tokens it needs: " with its conversation" (nothing for texts).
    let context: String
    /// What to do to need fewer tokens, opening a sentence.
    let needFewer: String
    /// The same, before a dollar limit's other remedies.
    let fewerTokens: String
    /// Sending less, inside a sentence: "send a shorter conversation".
    let sendLess: String

    /// `sendLess` opening a sentence.
    var sendLessSentence: String { sendLess.prefix(1).uppercased() + sendLess.dropFirst() }

    static let message = RefusalWording(
        subject: "this message", context: " with its conversation",
        needFewer: "Start a new conversation, clear or summarise the context, shorten the message",
        fewerTokens: "Start a new conversation or clear the context to send fewer tokens", sendLess: "send a shorter conversation")
    static let prompt = RefusalWording(
        subject: "this completion", context: "", needFewer: "Send a shorter prompt or ask for fewer tokens (max_tokens)",
        fewerTokens: "Send a shorter prompt or lower max_tokens", sendLess: "send a shorter prompt or lower max_tokens")
    static let documents = RefusalWording(
        subject: "this rerank call", context: "", needFewer: "Send fewer or shorter documents",
        fewerTokens: "Send fewer or shorter documents", sendLess: "send fewer or shorter documents")
    static let texts = RefusalWording(
        subject: "this embeddings call", context: "", needFewer: "Send fewer or shorter texts",
        fewerTokens: "Send fewer or shorter texts", sendLess: "send fewer or shorter texts")
}
