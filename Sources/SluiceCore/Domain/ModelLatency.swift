import Foundation

/// How fast a model answered over a period (LiteLLM's latency per model, OpenRouter's latency and throughput): the
/// time to the first token at the median, the 95th and the 99th percentile, and the median speed after it, from
/// exact sorted samples (nearest rank) of complete answers.
public struct ModelLatency: Sendable, Equatable {
    public let model: String
    /// The complete answers measured.
    public let answers: Int
    public let firstTokenP50: Int
    public let firstTokenP95: Int
    public let firstTokenP99: Int
    /// Output tokens a second after the first token, at the median; `nil` when no answer had two tokens or more
    /// written over a measurable time.
    public let tokensPerSecondP50: Double?

    /// One entry per model, the most answers first (then by name).
    public static func of(_ timings: [AnswerTiming]) -> [ModelLatency] {
        Dictionary(grouping: timings, by: \.model).map { model, answers in
            let firsts = answers.map(\.firstTokenMilliseconds).sorted()
            let speeds = answers.compactMap(speed).sorted()
            return ModelLatency(
                model: model, answers: answers.count, firstTokenP50: rank(firsts, 0.5), firstTokenP95: rank(firsts, 0.95),
                firstTokenP99: rank(firsts, 0.99), tokensPerSecondP50: speeds.isEmpty ? nil : rank(speeds, 0.5))
        }.sorted { ($0.answers, $1.model) > ($1.answers, $0.model) }
    }

    /// Tokens a second after the first token: the output's other tokens over the time they took.
    static func speed(_ answer: AnswerTiming) -> Double? {
        let writing = answer.durationMilliseconds - answer.firstTokenMilliseconds
        guard answer.outputTokens >= 2, writing > 0 else { return nil }
        return Double(answer.outputTokens - 1) / (Double(writing) / 1000)
    }

    /// The nearest-rank percentile `p` (0 < p ≤ 1) of sorted, non-empty `values`.
    static func rank<Value>(_ values: [Value], _ p: Double) -> Value {
        values[max(0, Int((p * Double(values.count)).rounded(.up)) - 1)]
    }

    public init(model: String, answers: Int, firstTokenP50: Int, firstTokenP95: Int, firstTokenP99: Int, tokensPerSecondP50: Double?) {
        self.model = model
        self.answers = answers
        self.firstTokenP50 = firstTokenP50
        self.firstTokenP95 = firstTokenP95
        self.firstTokenP99 = firstTokenP99
        self.tokensPerSecondP50 = tokensPerSecondP50
    }
}
