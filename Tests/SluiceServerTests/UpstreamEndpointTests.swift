import Foundation
import SluiceCore
import SluiceProviders
import SluiceSimulator
import Testing

/// What every request to an upstream carries besides the call: the key in the header that upstream reads (Azure
/// OpenAI's `api-key`), the base URL's query on every path (Azure's `api-version`), and an operator's headers
/// (OpenRouter's `X-Title`, Anthropic's `anthropic-beta`) — against the simulator, which refuses an Azure call
/// without them in Azure's words and echoes the headers it was sent.
@Suite("Upstream endpoints: key headers, queries and operators' headers")
struct UpstreamEndpointTests {
    static func text(_ events: [ProviderEvent]) -> String {
        events.compactMap { if case .delta(let text) = $0 { text } else { nil } }.joined()
    }

    @Test("a base URL's query stays on every path; the key goes in its header, or as a bearer token")
    func urls() {
        let azure = UpstreamEndpoint(baseURL: "https://res.openai.azure.com/openai/deployments/gpt-4o/?api-version=2024-10-21", apiKey: "k")
        #expect(azure.base == "https://res.openai.azure.com/openai/deployments/gpt-4o")
        #expect(azure.url("chat/completions") == "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
        #expect(azure.modelsURL == "https://res.openai.azure.com/openai/models?api-version=2024-10-21")
        let plain = UpstreamEndpoint(baseURL: "http://127.0.0.1:8081/v1/", apiKey: nil)
        #expect(plain.url("models") == "http://127.0.0.1:8081/v1/models" && plain.query == nil)
        #expect(UpstreamEndpoint(baseURL: "http://h/v1?", apiKey: nil).url("embeddings") == "http://h/v1/embeddings")
    }

    @Test("Azure OpenAI's deployment URL: answered with the key in api-key and the api-version kept; refused, in Azure's words, without either")
    func azure() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 6, delay: .zero)).test(.live) { client in
            let port = try #require(client.port)
            let deployment = "http://127.0.0.1:\(port)/openai/deployments/gpt-4o"
            let request = ChatRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: "Hi")])
            let provider = OpenAICompatibleProvider(
                baseURL: deployment + "?api-version=2024-10-21", apiKey: "azure-key", httpClient: Harness.client, keyHeader: "api-key",
                headers: [UpstreamEndpoint.Header(name: "X-Title", value: "Sluice tests")])
            let (events, error) = await AnthropicTests.collect(provider.streamChat(request))
            #expect(error == nil && Self.text(events) == SimulatedText.answer(tokens: 6))
            let (echoed, _) = await AnthropicTests.collect(provider.streamChat(
                ChatRequest(model: "gpt-4o", messages: [ChatMessage(role: .user, content: "Hi")], extraHeaders: ["X-Sluice-Scenario": "echo"])))
            #expect(Self.text(echoed) == "user: Hi\nheader X-Title: Sluice tests\n")
            // Ready: the resource's model list answers for the deployment.
            try await provider.checkReady()

            // As a bearer token (the default), Azure does not read the key.
            let bearer = OpenAICompatibleProvider(baseURL: deployment + "?api-version=2024-10-21", apiKey: "azure-key", httpClient: Harness.client)
            let (_, refused) = await AnthropicTests.collect(bearer.streamChat(request))
            guard case .http(401, let message, _)? = refused as? ProviderError else {
                Issue.record("expected a 401, got \(String(describing: refused))")
                return
            }
            #expect(message.contains("Access denied"))
            // Without the api-version, Azure finds no such resource.
            let unversioned = OpenAICompatibleProvider(baseURL: deployment, apiKey: "azure-key", httpClient: Harness.client, keyHeader: "api-key")
            let (_, missing) = await AnthropicTests.collect(unversioned.streamChat(request))
            #expect((missing as? ProviderError) == .http(status: 404, message: "Resource not found", retryAfter: nil))
        }
    }

    @Test("an operator's headers reach an Anthropic upstream too")
    func anthropicHeaders() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 6, delay: .zero)).test(.live) { client in
            let provider = AnthropicProvider(
                baseURL: "http://127.0.0.1:\(try #require(client.port))/v1", apiKey: "k", httpClient: Harness.client,
                headers: [UpstreamEndpoint.Header(name: "anthropic-beta", value: "interleaved-thinking-2025-05-14")])
            let (events, error) = await AnthropicTests.collect(provider.streamChat(
                ChatRequest(model: "sim-echo", messages: [ChatMessage(role: .user, content: "Hi")])))
            #expect(error == nil)
            #expect(Self.text(events) == "user: Hi\nheader anthropic-beta: interleaved-thinking-2025-05-14\n")
            try await provider.checkReady()
        }
    }
    @Test("vLLM's continue_final_message goes with a request that ends with an assistant message, only when the model is set to send it")
    func continueFinalMessage() async throws {
        try await Simulator.application(port: 0, settings: SimulatorSettings(tokens: 6, delay: .zero)).test(.live) { client in
            let base = "http://127.0.0.1:\(try #require(client.port))/v1"
            let prefilled = ChatRequest(
                model: "m", messages: [ChatMessage(role: .user, content: "Hi"), ChatMessage(role: .assistant, content: "Well,")],
                extraHeaders: ["X-Sluice-Scenario": "echo"])
            let asked = OpenAICompatibleProvider(baseURL: base, apiKey: nil, httpClient: Harness.client, continueFinalMessage: true)
            let (events, error) = await AnthropicTests.collect(asked.streamChat(prefilled))
            #expect(error == nil)
            // Continued without being said again (the simulator, as vLLM so asked).
            #expect(Self.text(events) == "user: Hi\nassistant: Well,\ncontinue final message\n")
            // Not with a request that ends with the user's words, nor from a model not set to send it (the
            // simulator then says the start again, as llama-server does, and the provider takes it off).
            let plain = ChatRequest(model: "m", messages: [ChatMessage(role: .user, content: "Hi")], extraHeaders: ["X-Sluice-Scenario": "echo"])
            #expect(Self.text(await AnthropicTests.collect(asked.streamChat(plain)).0) == "user: Hi\n")
            let unset = OpenAICompatibleProvider(baseURL: base, apiKey: nil, httpClient: Harness.client)
            #expect(Self.text(await AnthropicTests.collect(unset.streamChat(prefilled)).0) == "user: Hi\nassistant: Well,\n")
        }
    }
}
