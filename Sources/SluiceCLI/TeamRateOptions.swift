import ArgumentParser
import SluiceCore

/// `sluice team create|set`'s limits per minute and at once, for all the members together (the names of
/// `sluice user set-plan`'s own).
struct TeamRateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Requests the members may send together a minute, or 'none'.", valueName: "n"))
    var requestsPerMinute: String?
    @Option(help: ArgumentHelp("Tokens the members' requests may use together a minute, or 'none'.", valueName: "n"))
    var tokensPerMinute: String?
    @Option(help: ArgumentHelp("Answers the members may have running at once together, or 'none'.", valueName: "n"))
    var maxParallelRequests: String?

    /// The limits given, each checked (`nil` inside for `none`).
    func limits() throws -> [(RateLimits.Kind, Int?)] {
        try [
            requestsPerMinute.map { (.requests, try UserCommand.SetPlan.rateLimit($0, option: "--requests-per-minute")) },
            tokensPerMinute.map { (.tokens, try UserCommand.SetPlan.rateLimit($0, option: "--tokens-per-minute")) },
            maxParallelRequests.map { (.parallel, try UserCommand.SetPlan.rateLimit($0, option: "--max-parallel-requests")) },
        ].compactMap { $0 }
    }

    /// `caps` with `limits` applied.
    static func applying(_ limits: [(RateLimits.Kind, Int?)], to caps: RateCaps) -> RateCaps {
        var caps = caps
        for (kind, limit) in limits {
            switch kind {
            case .requests: caps.requestsPerMinute = limit
            case .tokens: caps.tokensPerMinute = limit
            case .parallel: caps.maxParallel = limit
            }
        }
        return caps
    }

    /// "60 requests and 5000 tokens a minute, 4 answers at once", or "no rate limits".
    static func text(_ caps: RateCaps) -> String {
        let parts = UserCommand.SetPlan.rateParts(caps.limit)
        return parts.isEmpty ? "no rate limits" : parts.joined(separator: ", ")
    }
}
