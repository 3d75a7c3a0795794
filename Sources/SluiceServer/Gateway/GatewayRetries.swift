import SluiceCore

/// The upstream call of a gateway API answered whole (embeddings, rerank), retried as a chat turn's upstream call is
/// (429 and 5xx with back-off, `Retry-After` honoured); the last failure as the HTTP error an OpenAI client expects,
/// and a request the upstream refuses (400, 404, 413, 422, 501) as `refused` words it for the API.
struct GatewayRetries {
    let policy: RetryPolicy
    let sleeper: any Sleeper
    let metrics: SluiceMetrics

    func run<Answer>(
        refused: (_ status: Int, _ upstreamMessage: String) -> APIError, _ attempt: () async throws -> Answer
    ) async throws -> Answer {
        var retries = 0
        var waited = Duration.zero
        while true {
            do {
                return try await attempt()
            } catch {
                if Task.isCancelled { throw CancellationError() }
                if let failure = error as? ProviderError { metrics.upstreamFailed(failure) }
                switch policy.decide(after: error, retriesSoFar: retries, waitedSoFar: waited) {
                case .retry(let wait, let reason):
                    metrics.retried(reason: reason)
                    try await sleeper.sleep(for: wait)
                    waited += wait
                    retries += 1
                case .giveUp(let failure):
                    if failure == nil, case .http(let status, let message, _)? = error as? ProviderError,
                        [400, 404, 413, 422, 501].contains(status)
                    {
                        throw refused(status, message)
                    }
                    throw OpenAIWire.apiError(failure ?? ErrorMapping.failure(for: error, partial: false, retries: retries))
                }
            }
        }
    }
}
