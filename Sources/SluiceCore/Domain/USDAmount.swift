import Foundation

/// An exact amount of US dollars, in whole pico-dollars (10⁻¹² USD). Never a floating-point number:
/// a price of $0.0375 per million tokens is 37 500 pico-dollars per token, and sums stay exact.
public struct USDAmount: Sendable, Equatable, Hashable, Comparable, Codable {
    public var picodollars: Int64

    public init(picodollars: Int64) { self.picodollars = picodollars }

    public static let zero = USDAmount(picodollars: 0)

    /// Parses a decimal string such as `"2.50"` or `"0.000035"` exactly; `nil` for more than 12 decimals or junk.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let negative = trimmed.hasPrefix("-")
        let digits = negative ? trimmed.dropFirst() : Substring(trimmed)
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty || parts.count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              parts.count == 1 || parts[1].count <= 12
        else { return nil }
        let whole = Int64(parts[0].isEmpty ? "0" : parts[0]) ?? -1
        let fraction = parts.count == 2 ? String(parts[1]).padding(toLength: 12, withPad: "0", startingAt: 0) : "0"
        guard whole >= 0, let fractional = Int64(fraction) else { return nil }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1_000_000_000_000)
        guard !overflow else { return nil }
        picodollars = (scaled + fractional) * (negative ? -1 : 1)
    }

    /// The amount as a plain decimal string with no trailing zeros: `"0.0002625"`, `"3"`, `"0"`.
    public var decimalString: String {
        let sign = picodollars < 0 ? "-" : ""
        let magnitude = picodollars.magnitude
        let whole = magnitude / 1_000_000_000_000
        var fraction = String(magnitude % 1_000_000_000_000)
        fraction = String(repeating: "0", count: 12 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(whole) + (fraction.isEmpty ? "" : "." + fraction)
    }

    public static func + (lhs: USDAmount, rhs: USDAmount) -> USDAmount { USDAmount(picodollars: lhs.picodollars + rhs.picodollars) }
    public static func < (lhs: USDAmount, rhs: USDAmount) -> Bool { lhs.picodollars < rhs.picodollars }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimalString)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let amount = USDAmount(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a decimal amount: \(text)"))
        }
        self = amount
    }
}

/// What a model costs, in exact per-token amounts. Prompt tokens read from or written to a provider's prompt
/// cache have their own rates when the provider prices them differently (OpenAI bills cached input at a
/// fraction, Anthropic bills cache reads at a tenth and cache writes at 1.25×); without one they cost as input.
public struct ModelPrice: Sendable, Equatable {
    public var inputPerToken: USDAmount
    public var outputPerToken: USDAmount
    public var cachedInputPerToken: USDAmount?
    public var cacheWritePerToken: USDAmount?

    /// From prices in USD per million tokens, as decimal strings (`"2.50"`, `"10.00"`).
    public init?(
        inputPerMillion: String, outputPerMillion: String, cachedInputPerMillion: String? = nil,
        cacheWritePerMillion: String? = nil
    ) {
        guard let input = Self.perToken(inputPerMillion), let output = Self.perToken(outputPerMillion) else { return nil }
        inputPerToken = input
        outputPerToken = output
        if let cachedInputPerMillion {
            guard let cached = Self.perToken(cachedInputPerMillion) else { return nil }
            cachedInputPerToken = cached
        }
        if let cacheWritePerMillion {
            guard let write = Self.perToken(cacheWritePerMillion) else { return nil }
            cacheWritePerToken = write
        }
    }

    public init(
        inputPerToken: USDAmount, outputPerToken: USDAmount, cachedInputPerToken: USDAmount? = nil,
        cacheWritePerToken: USDAmount? = nil
    ) {
        self.inputPerToken = inputPerToken
        self.outputPerToken = outputPerToken
        self.cachedInputPerToken = cachedInputPerToken
        self.cacheWritePerToken = cacheWritePerToken
    }

    public static let free = ModelPrice(inputPerToken: .zero, outputPerToken: .zero)

    /// A price per million with up to 6 decimals is a whole number of pico-dollars per token; `nil` otherwise.
    private static func perToken(_ perMillion: String) -> USDAmount? {
        guard let amount = USDAmount(perMillion), amount.picodollars >= 0, amount.picodollars % 1_000_000 == 0 else { return nil }
        return USDAmount(picodollars: amount.picodollars / 1_000_000)
    }

    /// `inputTokens` is the whole prompt; `cachedInputTokens` and `cacheWriteTokens` are parts of it priced at
    /// their own rates (each clamped to what is left of the prompt, so a provider's odd report never charges
    /// more tokens than it counted).
    public func cost(inputTokens: Int, outputTokens: Int, cachedInputTokens: Int = 0, cacheWriteTokens: Int = 0) -> USDAmount {
        let cached = min(max(cachedInputTokens, 0), max(inputTokens, 0))
        let written = min(max(cacheWriteTokens, 0), max(inputTokens - cached, 0))
        let plain = inputTokens - cached - written
        let picodollars = Int64(plain) * inputPerToken.picodollars
            + Int64(cached) * (cachedInputPerToken ?? inputPerToken).picodollars
            + Int64(written) * (cacheWritePerToken ?? inputPerToken).picodollars
            + Int64(outputTokens) * outputPerToken.picodollars
        return USDAmount(picodollars: picodollars)
    }

    /// The most one prompt token can cost: the input rate, or the cache-write rate when that is higher (Anthropic
    /// writes at 1.25×). A budget hold reserves the prompt at this rate, so a turn that writes its prompt to the
    /// cache can never cost more than was held for it.
    public var mostPerInputToken: USDAmount {
        Swift.max(inputPerToken, cacheWritePerToken ?? inputPerToken)
    }

    /// The most a call of this many tokens can cost (its prompt at `mostPerInputToken`): what a hold reserves.
    public func mostCost(inputTokens: Int, outputTokens: Int) -> USDAmount {
        USDAmount(picodollars: Int64(inputTokens) * mostPerInputToken.picodollars + Int64(outputTokens) * outputPerToken.picodollars)
    }

    /// What `usage` costs at this price (unknown counts cost nothing).
    public func cost(of usage: Usage) -> USDAmount {
        cost(
            inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0,
            cachedInputTokens: usage.cachedInputTokens ?? 0, cacheWriteTokens: usage.cacheWriteTokens ?? 0)
    }
}
