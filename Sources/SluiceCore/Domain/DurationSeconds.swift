extension Duration {
    /// The duration in seconds, fractions included (a cache entry's lifetime, a cooldown, a bench's elapsed time).
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
