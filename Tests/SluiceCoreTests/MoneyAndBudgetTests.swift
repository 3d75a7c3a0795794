import Foundation
import SluiceCore
import Testing

@Suite("Exact money and budget levels")
struct MoneyAndBudgetTests {
    @Test(arguments: [
        ("2.50", "2.5"), ("0.000035", "0.000035"), ("10", "10"), ("0", "0"), (".5", "0.5"), ("-1.25", "-1.25"),
        ("0.000000000001", "0.000000000001"), ("123456.789", "123456.789"),
    ])
    func decimalStringsRoundTrip(text: String, expected: String) throws {
        #expect(try #require(USDAmount(text)).decimalString == expected)
    }

    @Test(arguments: ["", "abc", "1.2.3", "0.0000000000001", "1e-6", "١٢"])
    func junkIsRejected(text: String) {
        #expect(USDAmount(text) == nil)
    }

    @Test("a price per million becomes an exact per-token price, and a million tokens cost exactly the price")
    func pricesPerMillion() throws {
        let price = try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00"))
        #expect(price.cost(inputTokens: 1_000_000, outputTokens: 0).decimalString == "2.5")
        #expect(price.cost(inputTokens: 0, outputTokens: 1_000_000).decimalString == "10")
        #expect(price.cost(inputTokens: 9, outputTokens: 24).decimalString == "0.0002625")
        // Summing many small costs stays exact (a Double would drift here).
        var total = USDAmount.zero
        for _ in 0 ..< 10_000 { total = total + price.cost(inputTokens: 1, outputTokens: 1) }
        #expect(total.decimalString == "0.125")
        #expect(ModelPrice(inputPerMillion: "0.0375", outputPerMillion: "0.15")?.inputPerToken.picodollars == 37_500)
        #expect(ModelPrice(inputPerMillion: "0.0000001", outputPerMillion: "1") == nil)
    }

    @Test("a prompt's cached part costs the cached-input rate, its cache writes the write rate, and never more tokens than the prompt")
    func promptCacheRates() throws {
        // gpt-4o: cached input at half; claude-sonnet-4-5: reads at a tenth, writes at 1.25×.
        let openAI = try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10", cachedInputPerMillion: "1.25"))
        #expect(openAI.cost(inputTokens: 2000, outputTokens: 100, cachedInputTokens: 1024).decimalString
            == "0.00472")  // 976 × 2.5 µ$ + 1024 × 1.25 µ$ + 100 × 10 µ$
        let usage = Usage(inputTokens: 2000, outputTokens: 100, totalTokens: 2100, cachedInputTokens: 1024)
        #expect(openAI.cost(of: usage) == openAI.cost(inputTokens: 2000, outputTokens: 100, cachedInputTokens: 1024))
        let anthropic = try #require(ModelPrice(
            inputPerMillion: "3", outputPerMillion: "15", cachedInputPerMillion: "0.30", cacheWritePerMillion: "3.75"))
        #expect(anthropic.cost(inputTokens: 3000, outputTokens: 0, cachedInputTokens: 1000, cacheWriteTokens: 1500).decimalString
            == "0.007425")  // 500 × 3 + 1000 × 0.3 + 1500 × 3.75 µ$
        // Without its own rates a cached token costs what any input token does.
        let plain = try #require(ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10"))
        #expect(plain.cost(inputTokens: 2000, outputTokens: 100, cachedInputTokens: 1024) == plain.cost(inputTokens: 2000, outputTokens: 100))
        // A report of more cached tokens than the prompt had charges the prompt, no less and no more.
        #expect(openAI.cost(inputTokens: 10, outputTokens: 0, cachedInputTokens: 50) == openAI.cost(inputTokens: 0, outputTokens: 0, cachedInputTokens: 0) + USDAmount(picodollars: 10 * 1_250_000))
        #expect(ModelPrice(inputPerMillion: "1", outputPerMillion: "1", cachedInputPerMillion: "half") == nil)
        #expect(ModelPrice(inputPerMillion: "-1", outputPerMillion: "1") == nil)
    }

    @Test(arguments: [
        (0, 4000, BudgetLevel.ok), (2999, 4000, .ok), (3000, 4000, .warn75), (3599, 4000, .warn75), (3600, 4000, .warn90),
        (3999, 4000, .warn90), (4000, 4000, .exceeded), (5000, 4000, .exceeded), (10, 0, .exceeded),
    ])
    func levelsAtSeventyFiveNinetyAndHundredPercent(used: Int, limit: Int, level: BudgetLevel) {
        #expect(BudgetLevel(used: used, limit: limit) == level)
    }

    @Test("an unlimited budget is never exceeded and has no percent")
    func unlimited() {
        let budget = BudgetState(plan: .unlimited, used: 1_000_000, limit: nil, resetAt: Date())
        #expect(budget.level == .ok)
        #expect(budget.percent == nil)
        #expect(budget.remaining == nil)
        #expect(Plan.free.defaultTokenLimit == 4_000)
        #expect(Plan.pro.defaultTokenLimit == 50_000)
    }
}
