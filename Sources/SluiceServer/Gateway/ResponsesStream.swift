import Foundation
import SluiceCore

/// A turn's events as the Responses API streams them: `response.created` and `response.in_progress`; for the text an
/// assistant `message` item (`output_item.added`, `content_part.added`, `output_text.delta` per token, then the
/// `.done` events); for each function call a `function_call` item with its `function_call_arguments.delta`s; and
/// `response.completed`, `response.incomplete` or `response.failed` with the whole response. Every event carries its
/// `sequence_number`.
struct ResponsesStream: WireEventStream {
    let responseID: String
    /// The assistant message's id: the items' ids are made from it.
    let messageID: String
    var echo: ResponsesWire.Echo
    private var sequence = 0
    /// The finished items, in output order.
    private var output: [String] = []
    private var open: Open?
    /// Entries for the next text delta (they arrive just before it), and those of the open text so far.
    private var logprobs: [TokenLogprob] = []
    private var textLogprobs: [TokenLogprob] = []
    /// Whether the stream has ended (after this, no event is written).
    private(set) var ended = false

    private enum Open {
        case reasoning(index: Int, id: String, text: String, signed: [SignedThinking])
        case text(index: Int, id: String, text: String)
        case call(index: Int, id: String, piece: Int, call: ToolCall)
    }

    init(responseID: String, messageID: String, echo: ResponsesWire.Echo) {
        self.responseID = responseID
        self.messageID = messageID
        self.echo = echo
    }

    /// `response.created` and `response.in_progress`.
    mutating func opening() -> String {
        let response = ResponsesWire.response(id: responseID, echo: echo, ending: .inProgress, output: [])
        return event("response.created", "\"response\":\(response)") + event("response.in_progress", "\"response\":\(response)")
    }

    /// The events for one turn event; `nil` when it has none (progress that is not text).
    mutating func text(for event: TurnEvent) -> String? {
        guard !ended else { return nil }
        switch event {
        case .token(_, _, let piece):
            var out = ""
            if case .text = open {} else { out += close() + openText() }
            guard case .text(let index, let id, let text)? = open else { return out }
            open = .text(index: index, id: id, text: text + piece)
            let entries = logprobs
            logprobs = []
            textLogprobs += entries
            return out + self.event(
                "response.output_text.delta",
                "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\"content_index\":0,\"delta\":\(JSONText.quote(piece)),"
                    + "\"logprobs\":\(ResponsesWire.entries(entries))")
        case .logprobs(let entries):
            logprobs += entries
            return nil
        case .toolCall(let delta):
            var out = ""
            if case .call(_, _, let piece, _)? = open, piece == delta.index {} else { out += close() + openCall(delta) }
            guard case .call(let index, let id, let piece, var call)? = open else { return out }
            if let name = delta.name, !name.isEmpty, call.name.isEmpty { call.name = name }
            call.arguments += delta.arguments
            open = .call(index: index, id: id, piece: piece, call: call)
            guard !delta.arguments.isEmpty else { return out }
            return out + self.event(
                "response.function_call_arguments.delta",
                "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\"delta\":\(JSONText.quote(delta.arguments))")
        case .done(let done):
            ended = true
            // Entries after the last text (its end, redacted) belong to the text.
            if case .text = open { textLogprobs += logprobs }
            echo.model = done.model
            let ending = ResponsesWire.ending(finishReason: done.finishReason, usage: done.usage, cost: done.costUSD)
            let name = if case .incomplete = ending { "response.incomplete" } else { "response.completed" }
            let closing = close(status: name == "response.completed" ? "completed" : "incomplete")
            return closing + self.event(name, "\"response\":" + ResponsesWire.response(id: responseID, echo: echo, ending: ending, output: output))
        case .error(let failure):
            ended = true
            let closing = close(status: "incomplete")
            let response = ResponsesWire.response(
                id: responseID, echo: echo, ending: .failed(code: failure.code, message: failure.message), output: output)
            return closing + self.event("response.failed", "\"response\":" + response)
        case .reasoning(let piece):
            var out = ""
            if case .reasoning = open {} else { out += close() + openReasoning() }
            guard case .reasoning(let index, let id, let text, let signed)? = open else { return out }
            open = .reasoning(index: index, id: id, text: text + piece, signed: signed)
            // As a summary's text when the caller asked for summaries (what Codex CLI shows), else as the reasoning's.
            let (name, part) = echo.summarizesReasoning
                ? ("response.reasoning_summary_text.delta", "\"summary_index\":0")
                : ("response.reasoning_text.delta", "\"content_index\":0")
            return out + self.event(
                name, "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\(part),\"delta\":\(JSONText.quote(piece))")
        case .signedThinking(let block):
            // The block has ended: its reasoning item ends with it, carrying it when the caller included
            // `reasoning.encrypted_content` (a redacted block, which has no text, gets an item of its own).
            guard echo.encryptedReasoning else { return nil }
            var out = ""
            if case .reasoning = open {} else { out += close() + openReasoning() }
            guard case .reasoning(let index, let id, let text, let signed)? = open else { return out }
            open = .reasoning(index: index, id: id, text: text, signed: signed + [block])
            return out + close()
        case .meta, .status:
            return nil
        }
    }

    private mutating func openText() -> String {
        openItem(
            prefix: "msg_", part: ResponsesWire.outputText(""),
            item: { "{\"id\":\(JSONText.quote($0)),\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}" },
            opening: { .text(index: $0, id: $1, text: "") })
    }

    private mutating func openReasoning() -> String {
        let summarized = echo.summarizesReasoning
        return openItem(
            prefix: "rs_", part: summarized ? ResponsesWire.summaryText("") : ResponsesWire.reasoningText(""),
            partEvent: summarized ? ("response.reasoning_summary_part.added", "summary_index") : nil,
            item: {
                "{\"id\":\(JSONText.quote($0)),\"type\":\"reasoning\",\"status\":\"in_progress\",\"summary\":[]"
                    + (summarized ? "}" : ",\"content\":[]}")
            },
            opening: { .reasoning(index: $0, id: $1, text: "", signed: []) })
    }

    /// Opens the next output item with one (empty) part: `output_item.added`, then `content_part.added` (or the
    /// event `partEvent` names, with its index field: a reasoning summary's part).
    private mutating func openItem(
        prefix: String, part: String, partEvent: (name: String, index: String)? = nil, item: (_ id: String) -> String,
        opening: (_ index: Int, _ id: String) -> Open
    ) -> String {
        let index = output.count
        let id = prefix + messageID + (index == 0 ? "" : "_\(index)")
        open = opening(index, id)
        let (name, indexField) = partEvent ?? ("response.content_part.added", "content_index")
        return event("response.output_item.added", "\"output_index\":\(index),\"item\":\(item(id))")
            + event(name, "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\"\(indexField)\":0,\"part\":\(part)")
    }

    private mutating func openCall(_ delta: ToolCallDelta) -> String {
        let index = output.count
        let id = "fc_\(messageID)_\(delta.index)"
        let call = ToolCall(id: delta.id ?? "", name: delta.name ?? "", arguments: "")
        open = .call(index: index, id: id, piece: delta.index, call: call)
        return event(
            "response.output_item.added",
            "\"output_index\":\(index),\"item\":\(ResponsesWire.functionCall(id: id, call: call, status: "in_progress"))")
    }

    /// The `.done` events of the open item, which joins the output.
    private mutating func close(status: String = "completed") -> String {
        defer { open = nil }
        switch open {
        case nil:
            return ""
        case .reasoning(let index, let id, let text, let signed)?:
            let summarized = echo.summarizesReasoning
            let item = ResponsesWire.reasoningItem(
                id: id, text: text, status: status, encrypted: echo.encryptedReasoning ? signed : nil, summarized: summarized)
            output.append(item)
            let at = "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index)," + (summarized ? "\"summary_index\":0" : "\"content_index\":0")
            let done = summarized
                ? event("response.reasoning_summary_text.done", at + ",\"text\":\(JSONText.quote(text))")
                    + event("response.reasoning_summary_part.done", at + ",\"part\":\(ResponsesWire.summaryText(text))")
                : event("response.reasoning_text.done", at + ",\"text\":\(JSONText.quote(text))")
                    + event("response.content_part.done", at + ",\"part\":\(ResponsesWire.reasoningText(text))")
            return done + event("response.output_item.done", "\"output_index\":\(index),\"item\":\(item)")
        case .text(let index, let id, let text)?:
            let entries = textLogprobs
            textLogprobs = []
            let item = ResponsesWire.message(id: id, text: text, logprobs: entries, status: status)
            output.append(item)
            let at = "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\"content_index\":0"
            return event("response.output_text.done", at + ",\"text\":\(JSONText.quote(text)),\"logprobs\":\(ResponsesWire.entries(entries))")
                + event("response.content_part.done", at + ",\"part\":\(ResponsesWire.outputText(text, logprobs: entries))")
                + event("response.output_item.done", "\"output_index\":\(index),\"item\":\(item)")
        case .call(let index, let id, _, let call)?:
            let item = ResponsesWire.functionCall(id: id, call: call, status: status)
            output.append(item)
            return event(
                "response.function_call_arguments.done",
                "\"item_id\":\(JSONText.quote(id)),\"output_index\":\(index),\"name\":\(JSONText.quote(call.name)),"
                    + "\"arguments\":\(JSONText.quote(call.arguments))")
                + event("response.output_item.done", "\"output_index\":\(index),\"item\":\(item)")
        }
    }

    /// One event: its name, and its data with `type` and `sequence_number` first.
    private mutating func event(_ type: String, _ fields: String) -> String {
        defer { sequence += 1 }
        return "event: \(type)\ndata: {\"type\":\"\(type)\",\"sequence_number\":\(sequence),\(fields)}\n\n"
    }
}
