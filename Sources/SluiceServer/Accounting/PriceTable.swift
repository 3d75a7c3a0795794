import Foundation
import SluiceCore

/// What each model costs per token, in exact amounts. Seeded from litellm's public price list
/// (`model_prices_and_context_window_backup.json`), overridable per model; local models cost nothing.
public struct PriceTable: Sendable {
    private var prices: [String: ModelPrice]

    public init(_ prices: [String: ModelPrice] = [:]) {
        self.prices = prices
    }

    /// Reads litellm's price list: `input_cost_per_token` / `output_cost_per_token` in USD. The file stores
    /// them as floating-point numbers; each is rounded once to whole pico-dollars per token (exact for every
    /// price with at most six decimals per million tokens), and all arithmetic after that is integer.
    public static func litellm(contentsOf url: URL) throws -> PriceTable {
        let data = try Data(contentsOf: url)
        guard let entries = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return PriceTable() }
        var prices: [String: ModelPrice] = [:]
        for (model, value) in entries {
            guard let entry = value as? [String: Any],
                  let input = (entry["input_cost_per_token"] as? NSNumber)?.doubleValue,
                  let output = (entry["output_cost_per_token"] as? NSNumber)?.doubleValue,
                  input >= 0, output >= 0, input < 1, output < 1
            else { continue }
            prices[model] = ModelPrice(
                inputPerToken: USDAmount(picodollars: Int64((input * 1e12).rounded())),
                outputPerToken: USDAmount(picodollars: Int64((output * 1e12).rounded())))
        }
        return PriceTable(prices)
    }

    /// Sets (or overrides) one model's price.
    public mutating func set(_ model: String, _ price: ModelPrice) {
        prices[model] = price
    }

    /// The price of a model by its exact name, or by its name without a provider prefix (`openai/gpt-4o`).
    public func price(for model: String) -> ModelPrice? {
        if let price = prices[model] { return price }
        if let slash = model.lastIndex(of: "/") { return prices[String(model[model.index(after: slash)...])] }
        return nil
    }

    public var count: Int { prices.count }
}
