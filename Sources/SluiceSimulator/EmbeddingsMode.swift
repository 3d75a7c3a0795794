import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore

/// OpenAI's `POST /v1/embeddings`, simulated: each input gets a unit vector derived from its text alone (the same text
/// always the same vector, so tests can compare), 16 numbers unless `dimensions` asks otherwise, as floats or as
/// `base64` (float32, little-endian); `usage.prompt_tokens` counts a token per word (per id for token ids). The failing scenarios
/// (`X-Sluice-Scenario`, or a model named `sim-<scenario>`) answer with their errors, as chat calls do.
enum EmbeddingsMode {
    struct Body: Decodable {
        let model: String?
        let input: Input
        let dimensions: Int?
        let encodingFormat: String?

        enum CodingKeys: String, CodingKey {
            case model, input, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    /// A text, texts, token ids, or lists of token ids.
    enum Input: Decodable {
        case texts([String])
        case tokens([[Int]])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .texts([text])
            } else if let texts = try? container.decode([String].self) {
                self = .texts(texts)
            } else if let tokens = try? container.decode([Int].self) {
                self = .tokens([tokens])
            } else {
                self = .tokens(try container.decode([[Int]].self))
            }
        }

        /// Each input as the text its vector is derived from, and its tokens.
        var items: [(text: String, tokens: Int)] {
            switch self {
            case .texts(let texts): texts.map { ($0, $0.split(whereSeparator: \.isWhitespace).count) }
            case .tokens(let inputs): inputs.map { ($0.map(String.init).joined(separator: " "), $0.count) }
            }
        }
    }

    static func embeddings(_ request: Request, counter: AttemptCounter, tally: StreamTally) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 << 20)
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer.readableBytesView)) else {
            return .openAIError(.badRequest, "The request body is not a valid embeddings request.", type: "invalid_request_error")
        }
        let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
        let items = body.input.items
        guard let scenario = await Scenario.resolve(
            header: header("X-Sluice-Scenario"), model: body.model, messages: items.map { ("user", $0.text) }, counter: counter)
        else {
            return .openAIError(.badRequest, "Unknown simulator scenario.", type: "invalid_request_error")
        }
        if let failure = Simulator.failure(for: scenario, header: header) { return failure }
        tally.record(.embedded)
        let dimensions = max(1, min(body.dimensions ?? 16, 4096))
        let base64 = body.encodingFormat == "base64"
        var data: [String] = []
        for (index, item) in items.enumerated() {
            let vector = Self.vector(for: item.text, dimensions: dimensions)
            let embedding = base64
                ? JSONText.quote(Data(vector.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }).base64EncodedString())
                : "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
            data.append("{\"object\":\"embedding\",\"index\":\(index),\"embedding\":\(embedding)}")
        }
        let tokens = items.reduce(0) { $0 + $1.tokens }
        return .json(
            .ok,
            "{\"object\":\"list\",\"data\":[\(data.joined(separator: ","))],\"model\":\(JSONText.quote(body.model ?? "sim")),"
                + "\"usage\":{\"prompt_tokens\":\(tokens),\"total_tokens\":\(tokens)}}")
    }

    /// A unit vector that depends only on `text`: FNV-1a of the text seeds a xorshift generator.
    static func vector(for text: String, dimensions: Int) -> [Float] {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        if state == 0 { state = 1 }
        var values: [Float] = []
        for _ in 0..<dimensions {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            values.append(Float(Double(state % 2_000_001) / 1_000_000 - 1))
        }
        let length = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return length > 0 ? values.map { $0 / length } : values
    }
}
