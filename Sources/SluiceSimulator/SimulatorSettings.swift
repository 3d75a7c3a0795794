/// Defaults of the simulator; a request may override them with `X-Sluice-Tokens`, `X-Sluice-Delay-Ms` and
/// `X-Sluice-Stall-Ms`.
public struct SimulatorSettings: Sendable {
    /// Tokens in an answer (capped by the request's `max_tokens`).
    public var tokens: Int
    /// Pause before each token.
    public var delay: Duration
    /// How long the stall scenarios stay silent.
    public var stall: Duration

    public init(tokens: Int = 24, delay: Duration = .milliseconds(20), stall: Duration = .seconds(30)) {
        self.tokens = tokens
        self.delay = delay
        self.stall = stall
    }
}
