extension Optional {
    /// `map` for an async transform: `nil` stays `nil`, a value is transformed and awaited.
    public func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
