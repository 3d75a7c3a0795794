/// Defaults of the simulator; a request may override them with `X-Sluice-Tokens`, `X-Sluice-Delay-Ms` and
/// `X-Sluice-Stall-Ms`.
public struct SimulatorSettings: Sendable {
    /// Tokens in an answer (capped by the request's `max_tokens`).
    public var tokens: Int
    /// Pause before each token.
    public var delay: Duration
    /// How long the stall scenarios stay silent.
    public var stall: Duration
    /// Reports prompt caching (`PromptCacheMemory`): the part of a prompt that repeats an earlier request's
    /// whole prompt as OpenAI's `prompt_tokens_details.cached_tokens`, or Anthropic's `cache_read_input_tokens`
    /// (as if the caller had marked its prompts for caching). Off, as a server without a prompt cache.
    public var promptCache: Bool

    public init(
        tokens: Int = 24, delay: Duration = .milliseconds(20), stall: Duration = .seconds(30), promptCache: Bool = false
    ) {
        self.promptCache = promptCache
        self.tokens = tokens
        self.delay = delay
        self.stall = stall
    }
}
