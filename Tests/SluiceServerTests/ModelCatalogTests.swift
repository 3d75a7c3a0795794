import Foundation
import SluiceCore
import SluiceServer
import Testing

@Suite("Prices and context windows from litellm's public list", .enabled(if: ProcessInfo.processInfo.environment["SLUICE_PRICE_TABLE"] != nil))
struct ModelCatalogTests {
    @Test("gpt-4o costs $2.50 in and $10.00 out per million tokens, exactly; provider prefixes are understood")
    func seededFromLitellm() throws {
        let table = try ModelCatalog.litellm(contentsOf: URL(fileURLWithPath: ProcessInfo.processInfo.environment["SLUICE_PRICE_TABLE"]!))
        #expect(table.count > 100)
        let price = try #require(table.price(for: "gpt-4o"))
        #expect(price == ModelPrice(inputPerMillion: "2.50", outputPerMillion: "10.00", cachedInputPerMillion: "1.25"))
        #expect(table.price(for: "openai/gpt-4o") == price)
        #expect(table.price(for: "no-such-model") == nil)
        #expect(table.contextWindow(for: "gpt-4o") == 128_000)
        // Anthropic's prompt cache: reads at a tenth of input, writes at 1.25×.
        #expect(table.price(for: "claude-sonnet-4-5") == ModelPrice(
            inputPerMillion: "3", outputPerMillion: "15", cachedInputPerMillion: "0.30", cacheWritePerMillion: "3.75"))
    }
}
