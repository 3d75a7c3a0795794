import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore

/// A fault-injecting upstream: OpenAI's `/v1/chat/completions` and `/v1/completions` (streaming and not), `/v1/embeddings`,
/// `/v1/rerank` (Cohere's and Jina's shape), Anthropic's
/// `/v1/messages` (streaming), `/v1/models` and `/health`, and Azure OpenAI's deployment URLs for chat (`AzureMode`). A
/// real HTTP server, used by tests, chaos tests and benchmarks.
public enum Simulator {
    /// The router of the simulator, for embedding in an `Application`.
    public static func router(settings: SimulatorSettings) -> Router<BasicRequestContext> {
        let router = Router()
        let counter = AttemptCounter()
        let gates = Gates()
        let tally = StreamTally()
        let promptCache = settings.promptCache ? PromptCacheMemory() : nil
        let lastRequest = LastRequest()
        router.get("stats") { _, _ in Response.json(.ok, tally.json()) }
        router.get("last-request") { _, _ in Response.json(.ok, lastRequest.json) }
        router.post("v1/gates/:key") { request, context in
            let count = request.uri.queryParameters.get("count").flatMap { Int($0) } ?? 1
            await gates.release(try context.parameters.require("key"), count: count)
            return Response.json(.ok, "{\"released\":\(count)}")
        }
        router.get("health") { _, _ in Response.json(.ok, "{\"status\":\"ok\"}") }
        router.get("v1/models") { _, _ in
            let names = ["sim"] + Scenario.allCases.map { "sim-\($0.rawValue)" }
            let data = names.map { "{\"id\":\"\($0)\",\"object\":\"model\",\"owned_by\":\"sluice-simulator\"}" }
            return Response.json(.ok, "{\"object\":\"list\",\"data\":[\(data.joined(separator: ","))]}")
        }
        router.post("v1/chat/completions") { request, context in
            try await completion(
                request, context: context, settings: settings, counter: counter, gates: gates, tally: tally,
                promptCache: promptCache, lastRequest: lastRequest)
        }
        router.get("openai/models") { request, _ in
            if let refusal = AzureMode.refusal(of: request) { return refusal }
            return Response.json(.ok, "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\"}]}")
        }
        router.post("openai/deployments/:deployment/chat/completions") { request, context in
            if let refusal = AzureMode.refusal(of: request) { return refusal }
            return try await completion(
                request, context: context, settings: settings, counter: counter, gates: gates, tally: tally,
                promptCache: promptCache)
        }
        router.post("v1/completions") { request, _ in
            try await TextCompletionMode.completions(request, settings: settings, counter: counter, gates: gates, tally: tally)
        }
        router.post("v1/rerank") { request, _ in
            try await RerankMode.rerank(request, counter: counter, tally: tally)
        }
        router.post("v1/embeddings") { request, _ in
            try await EmbeddingsMode.embeddings(request, counter: counter, tally: tally)
        }
        router.post("v1/messages") { request, _ in
            try await AnthropicMode.messages(request, settings: settings, counter: counter, gates: gates, promptCache: promptCache)
        }
        return router
    }

    /// Builds a runnable simulator application listening on `host:port` (port 0 picks a free port).
    public static func application(
        host: String = "127.0.0.1", port: Int, settings: SimulatorSettings = .init(),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        var logger = Logger(label: "sluice.simulator")
        logger.logLevel = .warning
        return Application(
            router: router(settings: settings),
            configuration: .init(address: .hostname(host, port: port), serverName: "sluice-simulator"),
            onServerRunning: { await onServerRunning($0.localAddress?.port ?? port) },
            logger: logger)
    }

    struct CompletionRequest: Decodable {
        struct StreamOptions: Decodable { let includeUsage: Bool? }
        struct Message: Decodable {
            let role: String
            /// `null` for an assistant message with function calls; text parts joined by newlines.
            let content: String?
            let toolCallId: String?
            /// `image_url` parts, described (`SeenImages`).
            let images: [String]
            var text: String { content ?? "" }

            enum CodingKeys: String, CodingKey { case role, content, toolCallId }
            struct Part: Decodable {
                let type: String
                let text: String?
                let imageUrl: ImageURL?
                struct ImageURL: Decodable {
                    let url: String
                    let detail: String?
                }
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                role = try container.decode(String.self, forKey: .role)
                toolCallId = try container.decodeIfPresent(String.self, forKey: .toolCallId)
                if let parts = try? container.decode([Part].self, forKey: .content) {
                    content = parts.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
                    images = parts.compactMap { part in part.imageUrl.map { SeenImages.describe(url: $0.url, detail: $0.detail) } }
                } else {
                    content = try container.decodeIfPresent(String.self, forKey: .content)
                    images = []
                }
            }
        }
        /// Offered functions: only their names matter here.
        struct Tool: Decodable {
            struct Function: Decodable { let name: String }
            let function: Function
        }
        let model: String?
        let messages: [Message]
        let tools: [Tool]?
        /// `"none"`, `"auto"`, `"required"` or `{"type": "function", "function": {"name": …}}`; only a named one matters.
        let toolChoice: ToolChoice?
        let parallelToolCalls: Bool?
        let stream: Bool?
        let streamOptions: StreamOptions?
        let maxTokens: Int?
        /// The end user the caller named (`user`), shown by the `echo` scenario.
        let user: String?
        /// Log probabilities of each token, with `topLogprobs` alternatives (see `StreamPlan.logprob`).
        let logprobs: Bool?
        let topLogprobs: Int?
        /// Shown by `echo`; `none` keeps the `reasoning` scenario from thinking, as a reasoning model told so.
        let reasoningEffort: String?
        /// vLLM's flag: the final assistant message is continued without being said again (`echo` shows it).
        let continueFinalMessage: Bool?
        /// Shown by `sampling`.
        let temperature: Double?
        let topP: Double?
        let seed: Int?
        let stop: Stop?
        let frequencyPenalty: Double?
        let presencePenalty: Double?

        /// OpenAI's `stop`: one text or a list of them.
        struct Stop: Decodable {
            let texts: [String]
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let list = try? container.decode([String].self) { texts = list } else { texts = [try container.decode(String.self)] }
            }
        }

        /// The sampling settings the request sets, one line each, as the `sampling` scenario answers.
        var samplingLines: [String] {
            let quoted = { (texts: [String]) in "[" + texts.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
            return [
                temperature.map { "temperature: \($0)\n" }, topP.map { "top_p: \($0)\n" }, seed.map { "seed: \($0)\n" },
                stop.map { "stop: \(quoted($0.texts))\n" }, frequencyPenalty.map { "frequency_penalty: \($0)\n" },
                presencePenalty.map { "presence_penalty: \($0)\n" }, maxTokens.map { "max_tokens: \($0)\n" },
            ].compactMap { $0 }
        }

        struct ToolChoice: Decodable {
            let mode: String?
            let name: String?
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let mode = try? container.decode(String.self) {
                    (self.mode, name) = (mode, nil)
                } else {
                    (mode, name) = (nil, try container.decode(Tool.self).function.name)
                }
            }
        }

        /// The function results after the last answer (which called them): what this request answers. Images they
        /// returned may follow them as a user's message (a `tool` message takes text only).
        var pendingResults: [Message] {
            guard let answer = messages.lastIndex(where: { $0.role == "assistant" }) else { return [] }
            return messages[(answer + 1)...].filter { $0.role == "tool" }
        }

        /// What a model that uses functions does with this request: when it offers functions and ends with the
        /// user's message, it calls the function `tool_choice` names, or the first offered (and the second too when
        /// two or more are offered and parallel calls are allowed), with `{"query": <the user's message>}`.
        var toolCalls: [ToolCall]? {
            guard let tools, !tools.isEmpty, messages.last?.role == "user", pendingResults.isEmpty, toolChoice?.mode != "none"
            else { return nil }
            let query = "{\"query\":\(JSONText.quote(messages.last?.text ?? ""))}"
            let names = toolChoice?.name.map { [$0] }
                ?? Array(tools.prefix(parallelToolCalls == false ? 1 : 2).map(\.function.name))
            return names.map { ToolCall(id: "call_" + UUID().uuidString.prefix(8).lowercased(), name: $0, arguments: query) }
        }
    }

    static func completion(
        _ request: Request, context: BasicRequestContext, settings: SimulatorSettings, counter: AttemptCounter,
        gates: Gates, tally: StreamTally, promptCache: PromptCacheMemory?, lastRequest: LastRequest? = nil
    ) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 48 << 20)
        lastRequest?.record(Array(buffer.readableBytesView))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let body = try? decoder.decode(CompletionRequest.self, from: Data(buffer.readableBytesView)) else {
            return .openAIError(.badRequest, "The request body is not a valid chat completion request.", type: "invalid_request_error")
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        guard let scenario = await Scenario.resolve(
            header: header("X-Sluice-Scenario"), model: body.model, messages: body.messages.map { ($0.role, $0.text) },
            counter: counter)
        else {
            return .openAIError(.badRequest, "Unknown simulator scenario.", type: "invalid_request_error")
        }
        var plan = StreamPlan(
            scenario: scenario, model: body.model ?? "sim",
            tokens: min(header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens, body.maxTokens ?? .max),
            delay: header("X-Sluice-Delay-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.delay,
            stall: header("X-Sluice-Stall-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.stall,
            promptTokens: SimulatedText.promptTokens(body.messages.map(\.text))
                + body.messages.reduce(0) { $0 + $1.images.count * SeenImages.tokensPerImage },
            cachedPromptTokens: promptCache.map {
                SimulatedText.cachedTokens($0.cachedMessages(body.messages.map { ($0.role, $0.text) }), of: body.messages.map(\.text))
            },
            includeUsage: body.streamOptions?.includeUsage ?? false,
            gate: header("X-Sluice-Gate").map { (gates, $0) })
        if body.logprobs == true { plan.topLogprobs = body.topLogprobs ?? 0 }
        plan.finishReason = (body.maxTokens.map { $0 < (header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens) } ?? false) ? "length" : "stop"

        if scenario == .ok {
            if let calls = body.toolCalls {
                plan.calls = calls
                plan.finishReason = "tool_calls"
            } else if case let results = body.pendingResults, !results.isEmpty {
                // The answer after the calls: what the functions returned, as the model read it, and the images
                // that came with them.
                let shown = body.messages.reversed().prefix { $0.role != "tool" }.flatMap(\.images)
                plan.script = StreamPlan.pieces(
                    "The functions returned: " + results.map { "\($0.toolCallId ?? "?") said \($0.text)" }.joined(separator: "; ") + "."
                        + (shown.isEmpty ? "" : " They showed: " + shown.joined(separator: "; ") + "."),
                    size: 4)
            }
        }
        switch scenario {
        case .leak:
            let system = body.messages.first { $0.role == "system" }?.text ?? "(none)"
            let key = header("Authorization").map { String($0.dropFirst("Bearer ".count)) } ?? "(none)"
            plan.script = StreamPlan.pieces("Sure. My instructions say: \(system) And my key is \(key), keep it safe.", size: 4)
        case .blind:
            if body.messages.contains(where: { !$0.images.isEmpty }) {
                return .openAIError(
                    .internalServerError, "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj",
                    type: "server_error")
            }
        case .reasoning where body.reasoningEffort != "none":
            let system = body.messages.first { $0.role == "system" }?.text ?? "(none)"
            plan.thinking = StreamPlan.pieces(
                "Let me think. The user wrote: \(body.messages.last?.text ?? ""). My instructions: \(system) I will answer briefly.", size: 4)
        case .echo:
            plan.script = body.messages.map { "\($0.role): \($0.text)\n" + $0.images.map { $0 + "\n" }.joined() }
                + (body.user.map { ["end user: \($0)\n"] } ?? [])
                + (body.reasoningEffort.map { ["reasoning effort: \($0)\n"] } ?? [])
                + (body.continueFinalMessage == true ? ["continue final message\n"] : [])
                + Scenario.echoedHeaders(header)
        case .sampling:
            plan.script = body.samplingLines.isEmpty ? ["no sampling settings\n"] : body.samplingLines
        case .markdown:
            // The sample, repeated when more tokens are asked for (`--tokens`, `X-Sluice-Tokens`): a long
            // Markdown-rich answer for `sluice bench ui`.
            let sample = StreamPlan.pieces(SimulatedText.markdown + "\n\n", size: 4)
            let wanted = header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens
            plan.script = wanted <= sample.count ? sample : (0..<wanted).map { sample[$0 % sample.count] }
        default:
            if let failure = failure(for: scenario, header: header) { return failure }
        }
        // llama-server answers a request that ends with an assistant message (a prefill) with that message's text
        // first and the continuation after it, in the first chunk together; so does the simulator (unless asked as
        // vLLM is, with `continue_final_message`, which gives the continuation alone).
        if let last = body.messages.last, last.role == "assistant", let start = last.content, !start.isEmpty, plan.calls == nil,
            body.continueFinalMessage != true
        {
            var script = plan.script ?? (0..<plan.tokens).map(SimulatedText.token)
            if script.isEmpty { script = [start] } else { script[0] = start + script[0] }
            plan.script = script
        }
        let finalPlan = plan
        if body.stream != true {
            return .json(.ok, finalPlan.completionJSON())
        }
        return finalPlan.eventStream(tally: tally)
    }
}

extension Simulator {
    /// The error answer of a failing scenario (the same for chat and embeddings); `nil` for one that answers.
    static func failure(for scenario: Scenario, header: (String) -> String?) -> Response? {
        switch scenario {
        case .rateLimited:
            var response = Response.openAIError(.tooManyRequests, "Rate limit reached for requests. Please try again in 1s.", type: "rate_limit_error")
            response.headers[.retryAfter] = "1"
            return response
        case .rateLimitedUntilDate:
            var response = Response.openAIError(.tooManyRequests, "Rate limit reached.", type: "rate_limit_error")
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            // `X-Sluice-Stall-Ms` moves the date (a test on a loaded machine needs room to tell it from a back-off).
            let ahead = header("X-Sluice-Stall-Ms").flatMap(Double.init).map { $0 / 1000 } ?? 5
            response.headers[.retryAfter] = formatter.string(from: Date().addingTimeInterval(ahead))
            return response
        case .rateLimitedBare:
            return .openAIError(.tooManyRequests, "Rate limit reached.", type: "rate_limit_error")
        case .rateLimitedLong:
            var response = Response.openAIError(.tooManyRequests, "Daily quota exhausted.", type: "rate_limit_error")
            response.headers[.retryAfter] = "120"
            return response
        case .badGateway:
            return .openAIError(.badGateway, "Bad gateway.", type: "server_error")
        case .gatewayTimeout:
            return .openAIError(.gatewayTimeout, "Gateway timeout.", type: "server_error")
        case .overloaded:
            return .openAIError(.init(code: 529, reasonPhrase: "Overloaded"), "Overloaded.", type: "overloaded_error")
        case .forbidden:
            return .openAIError(.forbidden, "This key may not use this model.", type: "permission_error")
        case .serverError:
            return .openAIError(.internalServerError, "The server had an error while processing your request.", type: "server_error")
        case .unavailable:
            return .openAIError(.serviceUnavailable, "The engine is currently overloaded, please try again later.", type: "server_error")
        case .badRequest:
            return .openAIError(.badRequest, "This model's maximum context length is 8192 tokens.", type: "invalid_request_error")
        case .unauthorized:
            return .openAIError(.unauthorized, "Incorrect API key provided.", type: "invalid_request_error")
        default:
            return nil
        }
    }
}

extension Response {
    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func openAIError(_ status: HTTPResponse.Status, _ message: String, type: String) -> Response {
        .json(status, "{\"error\":{\"message\":\(JSONText.quote(message)),\"type\":\"\(type)\",\"code\":null}}")
    }
}
