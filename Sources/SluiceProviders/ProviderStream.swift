import SluiceCore

extension AsyncThrowingStream where Element == ProviderEvent, Failure == any Error {
    /// The stream of one provider call, fed by a task running `body`: it ends when `body` returns, fails with
    /// what `body` throws, and a consumer that stops listening cancels the task (and with it the upstream call).
    static func provider(
        _ body: @escaping @Sendable (AsyncThrowingStream<ProviderEvent, any Error>.Continuation) async throws -> Void
    ) -> AsyncThrowingStream<ProviderEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProviderEvent, any Error>.makeStream()
        let task = Task {
            do {
                try await body(continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
