import SluiceCore
import Synchronization

/// The events of one running generation, kept in memory so that any number of clients can follow it and a
/// client that reconnects can catch up from the last event id it saw. Published by `ChatTurn`, read by
/// `TurnStreamResponse`.
final class LiveGeneration: Sendable {
    let messageID: String
    let control: TurnControl

    private struct State {
        var tokens: [String] = []
        /// The thinking so far: a follower that has seen no token yet gets it in one piece.
        var reasoning = ""
        /// The function calls so far, each merged from its pieces: a late follower gets them whole.
        var toolCalls: [ToolCall] = []
        var terminal: TurnEvent?
        var subscribers: [Int: EventFeed] = [:]
        var nextSubscriber = 0
    }
    private let state = Mutex(State())

    init(messageID: String, control: TurnControl = TurnControl()) {
        self.messageID = messageID
        self.control = control
    }

    /// Records an event and hands it to every follower; a `done` or `error` ends every follower's stream.
    func publish(_ event: TurnEvent) {
        // Almost always one follower: it is taken without building an array on every token.
        let (only, others) = state.withLock { state -> (EventFeed?, [EventFeed]) in
            switch event {
            case .token(_, _, let text): state.tokens.append(text)
            case .toolCall(let piece): state.toolCalls.apply(piece)
            case .done, .error: state.terminal = event
            // Not kept for a late follower: it asks for where the answer is, not how it got there.
            case .reasoning(let text): state.reasoning += text
            case .meta, .status, .logprobs, .signedThinking: break
            }
            let followers: (EventFeed?, [EventFeed]) =
                state.subscribers.count == 1 ? (state.subscribers.first?.value, []) : (nil, Array(state.subscribers.values))
            if state.terminal != nil { state.subscribers.removeAll() }
            return followers
        }
        let isTerminal = { if case .done = event { return true }; if case .error = event { return true }; return false }()
        let deliver = { (follower: EventFeed) in
            follower.yield(event)
            if isTerminal { follower.finish() }
        }
        if let only { deliver(only) }
        for follower in others { deliver(follower) }
    }

    /// Atomically: the thinking (from the start only), the tokens after `seq`, the function calls so far (each whole,
    /// in one piece, as `StoredReplay` gives them) and the end, if the generation has ended, plus a stream of what comes
    /// next. No event is missed or repeated between the two.
    func follow(after seq: Int) -> EventFeed {
        let feed = EventFeed()
        state.withLock { state in
            // Thinking comes before the answer's text: a follower past the first token has seen it.
            if seq <= 0, !state.reasoning.isEmpty { feed.yield(.reasoning(state.reasoning)) }
            for index in max(seq, 0)..<state.tokens.count {
                feed.yield(.token(messageID: messageID, seq: index + 1, text: state.tokens[index]))
            }
            for (index, call) in state.toolCalls.enumerated() {
                feed.yield(.toolCall(ToolCallDelta(index: index, id: call.id, name: call.name, arguments: call.arguments)))
            }
            if let terminal = state.terminal {
                feed.yield(terminal)
                feed.finish()
                return
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = feed
            feed.onAbandon { [weak self] in
                self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
            }
        }
        return feed
    }

    var followerCount: Int { state.withLock { $0.subscribers.count } }
}
