import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// OpenAI's `POST /v1/completions`, simulated: the prompt continued with the simulator's text (`max_tokens` of it,
/// 16 by default as OpenAI's), once per prompt and per `n`, streamed or whole; `usage.prompt_tokens` counts a token per
/// word of the prompts. The `echo` scenario writes back the prompt, `suffix` and `user` it was sent; the failing
/// scenarios answer as chat calls do.
enum TextCompletionMode {
    struct Body: Decodable {
        struct StreamOptions: Decodable { let includeUsage: Bool? }
        let model: String?
        /// Each of its items is one prompt (a text, or token ids read as their numbers).
        let prompt: EmbeddingsMode.Input
        let suffix: String?
        let maxTokens: Int?
        let n: Int?
        let stream: Bool?
        let streamOptions: StreamOptions?
        let user: String?
    }

    static func completions(
        _ request: Request, settings: SimulatorSettings, counter: AttemptCounter, gates: Gates, tally: StreamTally
    ) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 << 20)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let body = try? decoder.decode(Body.self, from: Data(buffer.readableBytesView)) else {
            return .openAIError(.badRequest, "The request body is not a valid completions request.", type: "invalid_request_error")
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        let prompts = body.prompt.items.map(\.text)
        guard let scenario = await Scenario.resolve(
            header: header("X-Sluice-Scenario"), model: body.model, messages: prompts.map { ("user", $0) }, counter: counter)
        else {
            return .openAIError(.badRequest, "Unknown simulator scenario.", type: "invalid_request_error")
        }
        let wanted = header("X-Sluice-Tokens").flatMap(Int.init) ?? settings.tokens
        let limit = body.maxTokens ?? 16
        var plan = StreamPlan(
            scenario: scenario, model: body.model ?? "sim", tokens: min(wanted, limit),
            delay: header("X-Sluice-Delay-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.delay,
            stall: header("X-Sluice-Stall-Ms").flatMap(Int.init).map { Duration.milliseconds($0) } ?? settings.stall,
            promptTokens: prompts.reduce(0) { $0 + $1.split(whereSeparator: \.isWhitespace).count },
            includeUsage: body.streamOptions?.includeUsage ?? false,
            gate: header("X-Sluice-Gate").map { (gates, $0) })
        plan.finishReason = limit < wanted ? "length" : "stop"
        plan.textChoices = prompts.count * max(1, body.n ?? 1)
        if scenario == .echo {
            let said = "prompt: \(prompts.joined(separator: " | "))\n" + (body.suffix.map { "suffix: \($0)\n" } ?? "")
                + (body.user.map { "end user: \($0)\n" } ?? "")
            plan.script = StreamPlan.pieces(said, size: 4)
        } else if let failure = Simulator.failure(for: scenario, header: header) {
            return failure
        }
        let finalPlan = plan
        if body.stream != true {
            // A whole answer that is slow to come: the stall before it, as a stream's before its first token.
            if scenario == .stallBeforeFirstToken { try await Task.sleep(for: finalPlan.stall) }
            return .json(.ok, finalPlan.textCompletionJSON())
        }
        return finalPlan.eventStream(tally: tally)
    }
}
