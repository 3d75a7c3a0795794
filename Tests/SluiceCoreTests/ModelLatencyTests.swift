import Foundation
import SluiceCore
import Testing

/// Latency per model from the answers' timings: exact nearest-rank percentiles, speed after the first token.
@Suite("Latency per model")
struct ModelLatencyTests {
    @Test("percentiles of the time to the first token are nearest-rank of the exact samples; the speed is the median of each answer's")
    func percentiles() {
        // 100 answers of "fast": first tokens 1…100 ms (shuffled), each 11 tokens written 500 ms after its first.
        let fast = (1...100).shuffled().map {
            AnswerTiming(model: "fast", firstTokenMilliseconds: $0, durationMilliseconds: $0 + 500, outputTokens: 11)
        }
        // 3 of "slow": the speeds 2, 4 and 10 tokens a second; one answer of a single token (no speed).
        let slow = [
            AnswerTiming(model: "slow", firstTokenMilliseconds: 900, durationMilliseconds: 1_900, outputTokens: 3),
            AnswerTiming(model: "slow", firstTokenMilliseconds: 700, durationMilliseconds: 1_700, outputTokens: 5),
            AnswerTiming(model: "slow", firstTokenMilliseconds: 800, durationMilliseconds: 1_800, outputTokens: 11),
            AnswerTiming(model: "one", firstTokenMilliseconds: 50, durationMilliseconds: 50, outputTokens: 1),
        ]
        let latency = ModelLatency.of(slow + fast)
        #expect(latency.map(\.model) == ["fast", "slow", "one"])
        #expect(latency[0] == ModelLatency(
            model: "fast", answers: 100, firstTokenP50: 50, firstTokenP95: 95, firstTokenP99: 99, tokensPerSecondP50: 20))
        #expect(latency[1].firstTokenP50 == 800 && latency[1].firstTokenP95 == 900 && latency[1].firstTokenP99 == 900)
        #expect(latency[1].tokensPerSecondP50 == 4)
        #expect(latency[2].answers == 1 && latency[2].firstTokenP99 == 50 && latency[2].tokensPerSecondP50 == nil)
        #expect(ModelLatency.of([]).isEmpty)
    }
}
