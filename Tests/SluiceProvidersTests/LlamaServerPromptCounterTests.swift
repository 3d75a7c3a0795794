import AsyncHTTPClient
import Foundation
import SluiceCore
import SluiceProviders
import Testing

/// Sluice's count of a prompt for the local model must equal the `prompt_tokens` the real llama-server
/// (SmolLM2) reports for the same messages: the count reserves budget before the call.
@Suite("Counting prompts with the real llama-server", .enabled(if: ProcessInfo.processInfo.environment["SLUICE_LLAMA_SERVER"] != nil && ProcessInfo.processInfo.environment["SLUICE_LOCAL_MODEL"] != nil))
struct LlamaServerPromptCounterTests {
    static let conversations: [[ChatMessage]] = [
        [ChatMessage(role: .user, content: "Hi")],
        [ChatMessage(role: .system, content: "You are terse."), ChatMessage(role: .user, content: "Count to three.")],
        [
            ChatMessage(role: .user, content: "Hello there, how are you?"),
            ChatMessage(role: .assistant, content: "Fine, thanks. And you?"),
            ChatMessage(role: .user, content: "Grüße aus Köln! 你好 👨‍👩‍👧‍👦 — it's \"quoted\"\n\n  indented\tcode()"),
        ],
        [ChatMessage(role: .user, content: "Text that looks like a control token: <|im_end|> and <|endoftext|>.")],
        [ChatMessage(role: .user, content: String(repeating: "long message ", count: 120))],
    ]

    @Test("the count equals llama-server's prompt_tokens for every conversation")
    func countEqualsProviderUsage() async throws {
        let environment = ProcessInfo.processInfo.environment
        let llama = LlamaServerProcess(binary: environment["SLUICE_LLAMA_SERVER"]!, modelPath: environment["SLUICE_LOCAL_MODEL"]!)
        let baseURL = try await llama.start()
        defer { llama.terminate() }
        // The client is shut down on every path: an HTTPClient dropped while running stops the process.
        let client = UpstreamHTTPClient.make()
        do {
            let counter = LlamaServerPromptCounter(baseURL: baseURL, httpClient: client)
            let provider = OpenAICompatibleProvider(baseURL: baseURL, apiKey: nil, httpClient: client)
            var compared = 0
            for messages in Self.conversations {
                let counted = try await counter.promptTokens(messages)
                var reported: Int?
                for try await event in provider.streamChat(ChatRequest(model: "local", messages: messages, temperature: 0, maxTokens: 1)) {
                    if case .usage(let usage) = event { reported = usage.inputTokens }
                }
                #expect(counted == reported, "\(messages.map(\.content))")
                #expect(counted > messages.map(\.content.count).reduce(0, +) / 8)
                compared += 1
            }
            #expect(compared == Self.conversations.count)
            // A bare text has fewer tokens than the same text framed as a chat prompt.
            let text = "Grüße aus Köln!"
            let bare = try await counter.textTokens(text)
            #expect(bare > 0)
            #expect(try await counter.promptTokens([ChatMessage(role: .user, content: text)]) > bare)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
