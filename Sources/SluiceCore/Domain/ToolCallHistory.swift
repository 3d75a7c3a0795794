extension [ChatMessage] {
    /// The messages with every function call next to its result, as upstream APIs require: a `tool` message whose
    /// call is not in an earlier assistant message is left out, and so is a call without a result (an assistant
    /// message left with neither text nor calls goes too). Context fitting can cut between the two.
    public func pairingToolCalls() -> [ChatMessage] {
        guard contains(where: { $0.role == .tool || !$0.toolCalls.isEmpty }) else { return self }
        let answered = Set(compactMap { $0.role == .tool ? $0.toolCallID : nil })
        var called = Set<String>()
        var paired: [ChatMessage] = []
        for var message in self {
            if message.role == .tool {
                guard let id = message.toolCallID, called.contains(id) else { continue }
            } else if !message.toolCalls.isEmpty {
                message.toolCalls.removeAll { !answered.contains($0.id) }
                called.formUnion(message.toolCalls.map(\.id))
                if message.toolCalls.isEmpty, message.content.isEmpty { continue }
            }
            paired.append(message)
        }
        return paired
    }
}

extension [ChatMessage] {
    /// The messages with function calls and results written as text, for a request that offers no tools (the web
    /// app continuing an agent's conversation; a caller that stopped offering them): upstreams refuse calls and
    /// results without tool definitions (Anthropic) or cannot render them in their chat template (llama-server
    /// without `--jinja`). Results become user turns that say which call they answer.
    public func flatteningToolCalls() -> [ChatMessage] {
        guard contains(where: { $0.role == .tool || !$0.toolCalls.isEmpty }) else { return self }
        var names: [String: String] = [:]
        return map { message in
            switch message.role {
            case .assistant where !message.toolCalls.isEmpty:
                for call in message.toolCalls { names[call.id] = call.name }
                let calls = message.toolCalls.map { "[called \($0.name) with \($0.arguments)]" }.joined(separator: "\n")
                return ChatMessage(role: .assistant, content: message.content.isEmpty ? calls : message.content + "\n\n" + calls)
            case .tool:
                let name = message.toolCallID.flatMap { names[$0] } ?? "a function"
                return ChatMessage(role: .user, content: "[\(name) returned]\n" + message.content)
            default:
                return message
            }
        }
    }
}
