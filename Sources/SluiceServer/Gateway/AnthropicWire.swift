import Foundation
import NIOCore
import SluiceCore

/// The JSON of Anthropic's Messages API responses: the events of a streamed message, a whole message, and a stop
/// reason for each way an answer ends.
enum AnthropicWire {
    /// One named event of the stream.
    static func event(_ name: String, _ json: String) -> String { "event: \(name)\ndata: \(json)\n\n" }

    /// `end_turn`, `max_tokens` or `stop_sequence`, from the answer's finish reason.
    static func stopReason(_ finishReason: String?) -> String {
        switch finishReason {
        case "length": "max_tokens"
        case "stop_sequence": "stop_sequence"
        default: "end_turn"
        }
    }

    static func usage(_ usage: WireUsage) -> String {
        "{\"input_tokens\":\(usage.inputTokens ?? 0),\"output_tokens\":\(usage.outputTokens ?? 0)}"
    }

    /// `message_start` (with the input as Sluice counted it; the provider's figure follows in `message_delta`), the
    /// text block's start and a ping: what Anthropic sends before the first text.
    static func opening(id: String, model: String, inputTokens: Int?) -> String {
        event("message_start", "{\"type\":\"message_start\",\"message\":{\"id\":\(JSONText.quote(id)),\"type\":\"message\","
            + "\"role\":\"assistant\",\"model\":\(JSONText.quote(model)),\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            + "\"usage\":{\"input_tokens\":\(inputTokens ?? 0),\"output_tokens\":0}}}")
            + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}")
            + event("ping", "{\"type\":\"ping\"}")
    }

    static func textDelta(_ text: String) -> String {
        event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\(JSONText.quote(text))}}")
    }

    /// The block's end, the stop reason with the usage (the input too: the provider's figure, known at the end),
    /// and `message_stop`.
    static func closing(_ done: TurnEvent.Done) -> String {
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}")
            + event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stopReason(done.finishReason))\","
                + "\"stop_sequence\":null},\"usage\":\(usage(done.usage))}")
            + event("message_stop", "{\"type\":\"message_stop\"}")
    }

    /// An error after text was sent: Anthropic's `error` event (the SDKs raise it).
    static func streamError(_ failure: TurnEvent.Failure) -> String {
        let error = OpenAIWire.apiError(failure)
        return event("error", "{\"type\":\"error\",\"error\":{\"type\":\"\(errorType(error.status.code))\",\"message\":\(JSONText.quote(failure.message))}}")
    }

    /// Anthropic's error `type` for an HTTP status (`overloaded_error` for 503 and 529).
    static func errorType(_ status: Int) -> String {
        switch status {
        case 400, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        default: "api_error"
        }
    }

    /// A whole (non-streamed) message.
    static func message(id: String, model: String, text: String, done: TurnEvent.Done) -> String {
        "{\"id\":\(JSONText.quote(id)),\"type\":\"message\",\"role\":\"assistant\",\"model\":\(JSONText.quote(done.model)),"
            + "\"content\":[{\"type\":\"text\",\"text\":\(JSONText.quote(text))}],\"stop_reason\":\"\(stopReason(done.finishReason))\","
            + "\"stop_sequence\":null,\"usage\":\(usage(done.usage))}"
    }
}
