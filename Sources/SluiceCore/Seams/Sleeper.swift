/// Waits for a while. Retry back-off goes through this seam so that tests can record the waits instead of
/// sleeping for real.
public protocol Sleeper: Sendable {
    func sleep(for duration: Duration) async throws
}

/// Sleeps on the continuous clock; cancellation ends the wait with `CancellationError`.
public struct ContinuousSleeper: Sleeper {
    public init() {}
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
