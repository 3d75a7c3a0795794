import SluiceCore

/// The fast path of `ChunkDecoder`: reads the few fields Sluice needs from a `chat.completion.chunk` straight
/// from its UTF-8 bytes, skipping everything else, without building a `Decodable` tree. A load profile showed
/// `JSONDecoder` at about 10 % of the gateway's CPU, one decode per token.
///
/// It understands all of JSON well enough to skip any value; it reads `choices[].index`, `choices[].delta.content`
/// (or a text completion's `choices[].text`) and `choices[].finish_reason`. A chunk with `usage`, `error` or function calls (one per stream at most), or anything it does
/// not expect, returns `nil` and goes to `JSONDecoder`, which stays the reference.
struct ChunkScanner {
    struct Choice: Equatable {
        var index = 0
        var content: String?
        var finishReason: String?
        /// Only from the full decoder.
        var toolCalls: [ToolCallDelta] = []
        var logprobs: [TokenLogprob] = []
        /// The delta's `reasoning_content` (or `reasoning`): a reasoning model's thinking.
        var reasoning: String?
    }

    /// The chunk's UTF-8 bytes, read in place: valid only inside `choices(_:)`.
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// The choices of `data`, or `nil` when the chunk needs the full decoder (or is not valid JSON).
    static func choices(_ data: String) -> [Choice]? {
        var data = data
        return data.withUTF8 { bytes in
            var scanner = ChunkScanner(bytes: bytes)
            return scanner.chunk()
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func chunk() -> [Choice]? {
        var choices: [Choice] = []
        skipWhitespace()
        let parsed = object { scanner, key in
            switch key {
            case "choices":
                guard let list = scanner.choiceList() else { return false }
                choices = list
                return true
            case "usage", "error":
                return false
            default:
                return scanner.skipValue()
            }
        }
        skipWhitespace()
        return parsed && position == bytes.count ? choices : nil
    }

    private mutating func choiceList() -> [Choice]? {
        if literal("null") { return [] }
        guard consume(UInt8(ascii: "[")) else { return nil }
        var list: [Choice] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return list }
        repeat {
            skipWhitespace()
            var choice = Choice()
            let parsed = object { scanner, key in
                switch key {
                case "index":
                    guard let number = scanner.integer() else { return false }
                    choice.index = number
                    return true
                case "finish_reason":
                    return scanner.optionalString(into: &choice.finishReason)
                // A text completion's choice (`/v1/completions`) has its piece here instead of in a delta.
                case "text":
                    return scanner.optionalString(into: &choice.content)
                // Log probabilities (only when asked for) go to the full decoder.
                case "logprobs":
                    return scanner.literal("null")
                case "delta":
                    if scanner.literal("null") { return true }
                    return scanner.object { scanner, key in
                        switch key {
                        case "content": return scanner.optionalString(into: &choice.content)
                        case "reasoning_content", "reasoning": return scanner.optionalString(into: &choice.reasoning)
                        // Function calls go to the full decoder; an empty or null list (some servers send one in
                        // every chunk) is nothing.
                        case "tool_calls": return scanner.literal("null") || scanner.literal("[]")
                        // LiteLLM's signed thinking (Anthropic's blocks, piece by piece) goes to the full decoder too.
                        case "thinking_blocks": return scanner.literal("null") || scanner.literal("[]")
                        default: return scanner.skipValue()
                        }
                    }
                default:
                    return scanner.skipValue()
                }
            }
            guard parsed else { return nil }
            list.append(choice)
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]")) ? list : nil
    }

    // MARK: JSON

    /// Reads an object, handing each key to `member`, which must consume the value; false stops with failure.
    private mutating func object(_ member: (inout ChunkScanner, String) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return true }
        repeat {
            skipWhitespace()
            guard let key = string() else { return false }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { return false }
            skipWhitespace()
            guard member(&self, key) else { return false }
            skipWhitespace()
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    private mutating func optionalString(into target: inout String?) -> Bool {
        if literal("null") { target = nil; return true }
        guard let value = string() else { return false }
        target = value
        return true
    }

    private mutating func integer() -> Int? {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return Int(String(decoding: bytes[start..<position], as: UTF8.self))
    }

    /// A JSON string, unescaped. Plain runs are copied as they are; escapes are decoded, `\u` pairs included.
    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        // Most strings (keys, ids, a token's text) have no escape: made straight from their bytes.
        var end = position
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        var result = [UInt8]()
        var runStart = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                result.append(contentsOf: bytes[runStart..<position])
                position += 1
                return String(decoding: result, as: UTF8.self)
            }
            if byte < 0x20 { return nil }
            guard byte == UInt8(ascii: "\\") else { position += 1; continue }
            result.append(contentsOf: bytes[runStart..<position])
            position += 1
            guard position < bytes.count else { return nil }
            let escaped = bytes[position]
            position += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escaped)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if (0xD800...0xDBFF).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one; a lone one is invalid.
                    guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(), (0xDC00...0xDFFF).contains(low)
                    else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    return nil
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                result.append(contentsOf: String(Character(unicode)).utf8)
            default:
                return nil
            }
            runStart = position
        }
        return nil
    }

    /// Skips a string without making it (every chunk has an id and an object name too long to be stored inline):
    /// one without escapes is passed over; one with escapes is read, so that the same strings are refused as by
    /// `string()`.
    private mutating func skipString() -> Bool {
        var end = position + 1
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            position = end + 1
            return true
        }
        return string() != nil
    }

    private mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count, let value = HexDigits.value(of: bytes[position..<position + 4]) else { return nil }
        position += 4
        return value
    }

    /// Skips any JSON value.
    private mutating func skipValue() -> Bool {
        skipWhitespace()
        guard position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "{"): return object { scanner, _ in scanner.skipValue() }
        case UInt8(ascii: "["):
            position += 1
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                guard skipValue() else { return false }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            // A number: its characters, checked loosely (the full decoder is not needed to skip it).
            let start = position
            while position < bytes.count, Self.isNumberByte(bytes[position]) { position += 1 }
            return position > start
        }
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] { return false }
        position += count
        return true
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D || bytes[position] == 0x09 {
            position += 1
        }
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            return true
        default:
            return false
        }
    }
}
