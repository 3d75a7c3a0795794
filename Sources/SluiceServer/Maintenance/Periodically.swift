import ServiceLifecycle

/// Runs `body` every `interval` until the service group shuts down gracefully (or the task is cancelled): the loop of
/// Sluice's maintenance services. The first run is one interval after the start.
func periodically(every interval: Duration, _ body: () async -> Void) async {
    while !Task.isCancelled {
        do {
            try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        } catch {
            return
        }
        await body()
    }
}
