import SluiceCore

extension ProviderStream {
    /// Every event of the stream, and the error it ended with (`nil` when it ended cleanly): what a test compares.
    public func collected() async -> (events: [ProviderEvent], error: (any Error)?) {
        var events: [ProviderEvent] = []
        do {
            for try await event in self { events.append(event) }
            return (events, nil)
        } catch {
            return (events, error)
        }
    }
}
