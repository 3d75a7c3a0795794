import Foundation
import SluiceCore

/// What Sluice knows about each model: its price per token (exact) and its context window. Seeded from
/// litellm's public list (`model_prices_and_context_window_backup.json`), overridable per model; the local
/// model costs nothing.
public struct ModelCatalog: Sendable {
    /// One model's facts; either may be unknown.
    public struct Entry: Sendable, Equatable {
        public var price: ModelPrice?
        public var contextWindow: Int?
        /// Whether the model sees images (litellm's `supports_vision`, or the operator's `vision:`).
        public var acceptsImages: Bool?
        /// Whether the model thinks before it answers and takes a reasoning effort (litellm's `supports_reasoning`,
        /// or the operator's `reasoning:`).
        public var reasons: Bool?
        /// Whether the model's upstream continues a final assistant message (a prefill) instead of answering after it:
        /// Anthropic, llama-server (the local model), or the operator's `prefill:`. Continue then sends the partial
        /// answer as the start of the answer, rather than asking in words to go on.
        public var continuesPrefill: Bool?
        /// Whether personal details are masked before a call reaches the model's upstream (`--mask-personal-data`,
        /// the models file's `mask_personal_data:`; `PersonalDataMaskingProvider`).
        public var masksPersonalData = false

        public init(price: ModelPrice? = nil, contextWindow: Int? = nil, acceptsImages: Bool? = nil, reasons: Bool? = nil) {
            self.reasons = reasons
            self.price = price
            self.contextWindow = contextWindow
            self.acceptsImages = acceptsImages
        }
    }

    private var entries: [String: Entry]

    public init(_ entries: [String: Entry] = [:]) {
        self.entries = entries
    }

    /// Reads litellm's list: `supports_vision`, `supports_reasoning`; `input_cost_per_token` / `output_cost_per_token` in USD (with
    /// `cache_read_input_token_cost` / `cache_creation_input_token_cost` for prompt-cache reads and writes, where
    /// listed) and `max_input_tokens` (else `max_tokens`). Prices are stored there as floating-point numbers; each is rounded once to whole
    /// pico-dollars per token (exact for every price with at most six decimals per million tokens), and all
    /// arithmetic after that is integer.
    public static func litellm(contentsOf url: URL) throws -> ModelCatalog {
        let data = try Data(contentsOf: url)
        guard let list = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return ModelCatalog() }
        var entries: [String: Entry] = [:]
        for (model, value) in list {
            guard let fields = value as? [String: Any] else { continue }
            var entry = Entry()
            if let input = (fields["input_cost_per_token"] as? NSNumber)?.doubleValue,
               let output = (fields["output_cost_per_token"] as? NSNumber)?.doubleValue,
               (0 ..< 1).contains(input), (0 ..< 1).contains(output) {
                entry.price = ModelPrice(
                    inputPerToken: picodollars(input), outputPerToken: picodollars(output),
                    cachedInputPerToken: rate(fields["cache_read_input_token_cost"]).map(picodollars),
                    cacheWritePerToken: rate(fields["cache_creation_input_token_cost"]).map(picodollars))
            }
            entry.contextWindow = (fields["max_input_tokens"] as? NSNumber)?.intValue ?? (fields["max_tokens"] as? NSNumber)?.intValue
            entry.acceptsImages = fields["supports_vision"] as? Bool
            entry.reasons = fields["supports_reasoning"] as? Bool
            if entry != Entry() { entries[model] = entry }
        }
        return ModelCatalog(entries)
    }

    private static func rate(_ value: Any?) -> Double? {
        guard let rate = (value as? NSNumber)?.doubleValue, (0 ..< 1).contains(rate) else { return nil }
        return rate
    }

    private static func picodollars(_ usdPerToken: Double) -> USDAmount {
        USDAmount(picodollars: Int64((usdPerToken * 1e12).rounded()))
    }

    /// Sets (or overrides) one model's price.
    public mutating func setPrice(_ model: String, _ price: ModelPrice) {
        entries[model, default: Entry()].price = price
    }

    /// Sets (or overrides) one model's context window.
    public mutating func setContextWindow(_ model: String, _ tokens: Int) {
        entries[model, default: Entry()].contextWindow = tokens
    }

    /// Sets whether one model sees images.
    public mutating func setAcceptsImages(_ model: String, _ accepts: Bool) {
        entries[model, default: Entry()].acceptsImages = accepts
    }

    /// Sets whether one model takes a reasoning effort.
    public mutating func setReasons(_ model: String, _ reasons: Bool) {
        entries[model, default: Entry()].reasons = reasons
    }

    /// Sets whether one model's upstream continues a prefilled answer.
    public mutating func setContinuesPrefill(_ model: String, _ continues: Bool) {
        entries[model, default: Entry()].continuesPrefill = continues
    }

    /// Sets whether personal details are masked before a call reaches the model's upstream.
    public mutating func setMasksPersonalData(_ model: String, _ masks: Bool) {
        entries[model, default: Entry()].masksPersonalData = masks
    }

    /// Whether personal details are masked before a call reaches the model's upstream.
    public func masksPersonalData(_ model: String) -> Bool { entry(for: model)?.masksPersonalData ?? false }

    /// Whether the model's upstream continues a prefilled answer; `nil`: not known (treated as no).
    public func continuesPrefill(_ model: String) -> Bool? { entry(for: model)?.continuesPrefill }

    public func price(for model: String) -> ModelPrice? { entry(for: model)?.price }

    /// Whether the model takes a reasoning effort; `nil` when nobody said (the web app offers it, the model decides).
    public func reasons(_ model: String) -> Bool? { entry(for: model)?.reasons }

    /// Whether the model sees images; `nil` when nobody said (the call goes on, and the upstream decides).
    public func acceptsImages(_ model: String) -> Bool? { entry(for: model)?.acceptsImages }

    public func contextWindow(for model: String) -> Int? { entry(for: model)?.contextWindow }

    public var count: Int { entries.count }

    /// By the exact name, or by the name without a provider prefix (`openai/gpt-4o`).
    private func entry(for model: String) -> Entry? {
        if let entry = entries[model] { return entry }
        if let slash = model.lastIndex(of: "/") { return entries[String(model[model.index(after: slash)...])] }
        return nil
    }
}
