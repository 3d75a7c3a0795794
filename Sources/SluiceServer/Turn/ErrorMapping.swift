import SluiceCore

/// Maps upstream failures to the `error` event a person reads: what happened and what to do next.
enum ErrorMapping {
    static func failure(for error: any Error, partial: Bool, retries: Int) -> TurnEvent.Failure {
        var failure = failure(for: error, partial: partial)
        if retries > 0 {
            failure.message += " (Sluice tried \(retries + 1) times.)"
        }
        return failure
    }

    static func failure(for error: any Error, partial: Bool) -> TurnEvent.Failure {
        let kept = partial ? " The partial answer is saved; you can continue or retry." : ""
        if error is ShutdownDrain.GraceOver {
            return .init(
                code: ShutdownDrain.GraceOver.code,
                message: "Sluice was stopped (or restarted) before the model finished, and its time to let calls finish ran out. Try again in a moment.\(kept)",
                retryable: true, partial: partial)
        }
        guard let error = error as? ProviderError else {
            return .init(
                code: "internal_error",
                message: "Sluice failed unexpectedly while talking to the model. Try again; if it persists, check the server log.\(kept)",
                retryable: true, partial: partial)
        }
        switch error {
        case .http(_, let message, _) where error.refusesImages:
            return .init(
                code: "images_unsupported",
                message: "The model does not see images, its service says (\(message.prefix(200))). Ask a model that does (one with vision), or send text only.",
                retryable: false, partial: partial)
        case .http(let status, let message, _):
            return httpFailure(status: status, upstreamMessage: message, partial: partial)
        case .connection:
            if partial {
                return .init(
                    code: "upstream_disconnected",
                    message: "The connection to the model service broke during the answer.\(kept)",
                    retryable: true, partial: true)
            }
            return .init(
                code: "upstream_unreachable",
                message: "Sluice could not reach the model service. Check that it is running, then try again.",
                retryable: true, partial: false)
        case .upstreamError(let rawMessage):
            let message = rawMessage.hasSuffix(".") ? String(rawMessage.dropLast()) : rawMessage
            return .init(
                code: "upstream_error",
                message: "The model service reported an error: \(message).\(kept.isEmpty ? " Try again in a moment." : kept)",
                retryable: true, partial: partial)
        case .circuitOpen(_, let seconds):
            return .init(
                code: "upstream_unavailable",
                message: "The model service failed several times in a row, so Sluice is giving it \(seconds) s to recover before calling it again. Try again shortly.\(kept)",
                retryable: true, partial: partial)
        case .firstTokenTimeout:
            return timeout(firstToken: true, partial: false)
        case .malformed:
            return .init(
                code: "upstream_protocol",
                message: "The model service sent a reply Sluice could not read.\(kept.isEmpty ? " Try again; if it persists, the operator should check the upstream." : kept)",
                retryable: true, partial: partial)
        }
    }

    static func httpFailure(status: Int, upstreamMessage: String, partial: Bool) -> TurnEvent.Failure {
        let detail = upstreamMessage.isEmpty ? "" : " (\(upstreamMessage.prefix(300)))"
        switch status {
        case 429:
            return .init(
                code: "rate_limited",
                message: "The model service is busy (rate limited). Wait a moment, then try again.",
                retryable: true, partial: partial)
        case 401, 403:
            return .init(
                code: "upstream_auth",
                message: "The model service refused Sluice's credentials. The service is misconfigured; the operator has to fix its key.",
                retryable: false, partial: partial)
        case 400, 404, 413, 422:
            return .init(
                code: "upstream_rejected",
                message: "The model service could not process this request\(detail). Shorten or rephrase the message, or pick another model.",
                retryable: false, partial: partial)
        case 503, 529:
            return .init(
                code: "upstream_unavailable",
                message: "The model service is temporarily unavailable. Try again in a minute.",
                retryable: true, partial: partial)
        default:
            return .init(
                code: "upstream_error",
                message: "The model service failed (HTTP \(status)). Try again in a moment.",
                retryable: true, partial: partial)
        }
    }

    static func timeout(firstToken: Bool, partial: Bool) -> TurnEvent.Failure {
        if firstToken {
            return .init(
                code: "upstream_timeout",
                message: "The model did not start answering in time. It may be overloaded; try again.",
                retryable: true, partial: false)
        }
        return .init(
            code: "upstream_timeout",
            message: "The model stopped sending text mid-answer. The partial answer is saved; you can continue or retry.",
            retryable: true, partial: partial)
    }

    static func totalTimeout(_ limit: Duration, partial: Bool) -> TurnEvent.Failure {
        let seconds = limit.components.seconds
        let kept = partial ? " The partial answer is saved; you can continue it." : " Try a shorter question or another model."
        return .init(
            code: "upstream_timeout",
            message: "The answer took longer than the \(seconds > 0 ? "\(seconds) s" : "time") Sluice allows for one answer, so it was cut.\(kept)",
            retryable: true, partial: partial)
    }
}
