import SluiceCore

/// Counts an OpenAI chat prompt with a tiktoken encoding, using OpenAI's published rule
/// (openai-cookbook, "How to count tokens with tiktoken"): each message costs `perMessage` framing
/// tokens plus the tokens of its role and content, and the reply is primed with 3 more tokens.
///
/// With the defaults (3 per message) a message with a one-token role (`system`, `user`, `assistant`)
/// costs content + 4: the "+4 per message, +3 for the reply" rule of thumb. The defaults fit
/// gpt-3.5-turbo-0613 and later, gpt-4, gpt-4-turbo, gpt-4o, gpt-4o-mini and gpt-4.1 (cl100k_base
/// or o200k_base); gpt-3.5-turbo-0301 used 4 framing tokens per message.
public struct ChatPromptCounter: PromptCounter {
    public let tokenizer: any Tokenizer
    public let perMessage: Int
    public let replyPriming: Int

    public init(tokenizer: any Tokenizer, perMessage: Int = 3, replyPriming: Int = 3) {
        self.tokenizer = tokenizer
        self.perMessage = perMessage
        self.replyPriming = replyPriming
    }

    /// Images add OpenAI's estimate for each (`ImageInput.estimatedTokens`).
    public func promptTokens(_ messages: [ChatMessage]) async throws -> Int {
        messages.reduce(replyPriming + messages.imageTokens) { total, message in
            // A function call: its name and arguments, with about as much framing as a message (OpenAI publishes
            // no rule for calls; the provider's own count settles the turn).
            let calls = message.toolCalls.reduce(0) { $0 + perMessage + tokenizer.count($1.name) + tokenizer.count($1.arguments) }
            return total + perMessage + tokenizer.count(message.role.rawValue) + tokenizer.count(message.content) + calls
        }
    }

    public func textTokens(_ text: String) async throws -> Int {
        tokenizer.count(text)
    }
}

extension Encoding {
    /// The encoding an OpenAI model uses: o200k_base for the gpt-4o, gpt-4.1, gpt-5 and o-series
    /// families, cl100k_base for gpt-4 and gpt-3.5-turbo. Other models (not OpenAI's) get o200k_base as
    /// the closest public approximation; their own provider's count stays authoritative.
    public static func forModel(_ model: String) -> Encoding {
        let name = model.lowercased().split(separator: "/").last.map(String.init) ?? model.lowercased()
        let cl100kFamilies = ["gpt-4-", "gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada"]
        if name.hasPrefix("gpt-4o") || name.hasPrefix("gpt-4.1") || name.hasPrefix("gpt-4.5") { return .o200kBase }
        if cl100kFamilies.contains(where: { name == $0 || name.hasPrefix($0) }) { return .cl100kBase }
        return .o200kBase
    }
}
