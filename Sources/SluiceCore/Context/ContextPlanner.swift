import Foundation

/// How a user wants one message treated when the context is built.
public enum ContextMode: String, Sendable, Codable, CaseIterable {
    /// Sent in full while it is among the most recent messages that fit; summarised once it falls out.
    case auto
    /// Always sent in full (as long as it fits at all).
    case pinned
    /// Never sent.
    case excluded
}

/// Where a message ended up in one request.
public enum ContextState: String, Sendable, Codable {
    /// Sent in full.
    case inContext = "in_context"
    /// Folded into the conversation's running summary, which is sent instead.
    case summarised
    /// Left out by the user.
    case excluded
    /// Too old or too large for the window and not yet in the summary: not sent. The next fold picks it up.
    case outOfWindow = "out_of_window"
}

/// The rules of one model's context.
public struct ContextPolicy: Sendable, Equatable {
    public var contextWindow: Int
    /// The tokens kept free for the answer (#4's output reserve).
    public var outputReserve: Int
    /// The most of the window the input may fill (0.75: a quarter stays for the answer and the unexpected).
    public var inputShare: Double
    /// At most this many recent messages (not counting pinned ones) are sent in full.
    public var maxRecentMessages: Int

    public init(contextWindow: Int, outputReserve: Int, inputShare: Double = 0.75, maxRecentMessages: Int = 10) {
        self.contextWindow = contextWindow
        self.outputReserve = outputReserve
        self.inputShare = inputShare
        self.maxRecentMessages = maxRecentMessages
    }

    /// The input tokens one request may have: the share of the window, and never eating the output reserve.
    public var inputBudget: Int {
        max(0, min(Int(Double(contextWindow) * inputShare), contextWindow - outputReserve))
    }
}

/// A conversation's running summary of its older messages.
public struct ConversationSummary: Sendable, Equatable {
    public var text: String
    /// The messages folded into it so far.
    public var coveredMessageIDs: [String]
    public var model: String?
    public var updatedAt: Date

    public init(text: String, coveredMessageIDs: [String], model: String?, updatedAt: Date) {
        self.text = text
        self.coveredMessageIDs = coveredMessageIDs
        self.model = model
        self.updatedAt = updatedAt
    }

    /// How the summary is sent upstream: a system message after the system prompt.
    public var asMessage: ChatMessage {
        ChatMessage(role: .system, content: "Summary of the earlier conversation:\n" + text)
    }
}

/// One earlier message, with what it costs in the prompt.
public struct ContextCandidate: Sendable, Equatable {
    public var id: String
    public var message: ChatMessage
    public var mode: ContextMode
    /// Its tokens in the prompt, framing included.
    public var tokens: Int

    public init(id: String, message: ChatMessage, mode: ContextMode, tokens: Int) {
        self.id = id
        self.message = message
        self.mode = mode
        self.tokens = tokens
    }
}

/// The request a turn sends, and why each earlier message is or is not in it.
public struct ContextPlan: Sendable, Equatable {
    /// System prompt, summary, the chosen earlier messages in order, the new message(s).
    public var messages: [ChatMessage]
    public var states: [String: ContextState]
    /// The planner's count of `messages` (framing included).
    public var inputTokens: Int
    public var inputBudget: Int
    public var summaryIncluded: Bool
    /// Messages that fell out of the window without being in the summary yet, oldest first: what a fold adds.
    public var toSummarise: [ContextCandidate]

    public var inFullCount: Int { states.values.filter { $0 == .inContext }.count }
    public var summarisedCount: Int { states.values.filter { $0 == .summarised }.count }
    public var excludedCount: Int { states.values.filter { $0 == .excluded }.count }
}

/// Even the system prompt and the new message do not fit in the model's input budget.
public struct ContextOverflow: Error, Sendable, Equatable {
    public let neededTokens: Int
    public let inputBudget: Int

    public init(neededTokens: Int, inputBudget: Int) {
        self.neededTokens = neededTokens
        self.inputBudget = inputBudget
    }
}

/// Chooses what of a conversation goes into the next request so that it never exceeds the model's input
/// budget: the system prompt and the new message always; then the summary of older messages; then pinned
/// messages (newest first); then the most recent messages, newest first, while they fit and are at most
/// `maxRecentMessages`. Everything older falls out (and is summarised by the caller). Order is kept.
public struct ContextPlanner: Sendable {
    public let policy: ContextPolicy
    /// Tokens a prompt costs beyond its messages (the reply priming of the chat format).
    public let promptOverhead: Int

    public init(policy: ContextPolicy, promptOverhead: Int = 3) {
        self.policy = policy
        self.promptOverhead = promptOverhead
    }

    /// - Parameters:
    ///   - system: the system prompt and its tokens, if the conversation has one.
    ///   - history: earlier messages, oldest first (those never sent, such as rejected ones, left out already).
    ///   - summary: the running summary and its tokens as a message.
    ///   - newMessages: what this turn adds at the end, always sent (the new message; for a continued answer also
    ///     the partial answer and the instruction to go on), and their tokens; empty to plan the context as it stands.
    ///   - maxRecent: overrides the policy's number of recent messages (the caller tightens it when the
    ///     exact count of a non-additive chat template comes out higher than planned).
    public func plan(
        system: (message: ChatMessage, tokens: Int)?, history: [ContextCandidate],
        summary: (summary: ConversationSummary, tokens: Int)?, newMessages: (messages: [ChatMessage], tokens: Int),
        maxRecent: Int? = nil
    ) throws(ContextOverflow) -> ContextPlan {
        let budget = policy.inputBudget
        let fixed = promptOverhead + (system?.tokens ?? 0) + newMessages.tokens
        guard fixed <= budget else { throw ContextOverflow(neededTokens: fixed, inputBudget: budget) }
        var remaining = budget - fixed
        var states: [String: ContextState] = [:]
        var selected = Set<String>()
        let covered = Set(summary?.summary.coveredMessageIDs ?? [])

        for candidate in history where candidate.mode == .excluded { states[candidate.id] = .excluded }
        // The summary stands for every covered message that is not pinned; it is sent when it fits.
        let summarisedIDs = history.filter { $0.mode == .auto && covered.contains($0.id) }.map(\.id)
        var summaryIncluded = false
        if let summary, !summarisedIDs.isEmpty, summary.tokens <= remaining {
            remaining -= summary.tokens
            summaryIncluded = true
        }
        for id in summarisedIDs { states[id] = summaryIncluded ? .summarised : .outOfWindow }

        for candidate in history.reversed() where candidate.mode == .pinned {
            if candidate.tokens <= remaining {
                remaining -= candidate.tokens
                selected.insert(candidate.id)
                states[candidate.id] = .inContext
            } else {
                states[candidate.id] = .outOfWindow
            }
        }

        // The most recent unsummarised messages, newest first, as one unbroken run: the first that does not
        // fit ends it, so the model never sees a gap in the recent conversation.
        var toSummarise: [ContextCandidate] = []
        var recent = 0
        var runOpen = true
        let limit = maxRecent ?? policy.maxRecentMessages
        for candidate in history.reversed() where candidate.mode == .auto && !covered.contains(candidate.id) {
            if runOpen, recent < limit, candidate.tokens <= remaining {
                remaining -= candidate.tokens
                recent += 1
                selected.insert(candidate.id)
                states[candidate.id] = .inContext
            } else {
                runOpen = false
                states[candidate.id] = .outOfWindow
                toSummarise.append(candidate)
            }
        }

        var messages: [ChatMessage] = []
        if let system { messages.append(system.message) }
        if summaryIncluded, let summary { messages.append(summary.summary.asMessage) }
        messages += history.filter { selected.contains($0.id) }.map(\.message)
        messages += newMessages.messages
        return ContextPlan(
            messages: messages, states: states, inputTokens: budget - remaining, inputBudget: budget,
            summaryIncluded: summaryIncluded, toSummarise: toSummarise.reversed())
    }
}
