/// Any JSON value, with an object's members in the order the text had them, so that it goes on to a model as the
/// caller wrote it: the order of a JSON Schema's `properties` is the order a constrained model writes the fields
/// in. (Foundation's `JSONDecoder` and `JSONSerialization` both lose that order, hence this small parser.)
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as written (`1`, `-0.5`, `1e3`), checked to be a JSON number.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Why a text is not one JSON value, and the byte offset where that showed.
    public struct SyntaxError: Error, Equatable {
        public let offset: Int
    }

    /// Parses `text`, which must hold exactly one JSON value (whitespace around it allowed).
    public init(parsing text: some Collection<UInt8>) throws(SyntaxError) {
        var parser = Parser(bytes: Array(text))
        self = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw SyntaxError(offset: parser.index) }
    }

    /// The member with `key`, when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Compact JSON text, members in their order.
    public var text: String {
        var out: [UInt8] = []
        append(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends compact JSON text to `out`.
    public func append(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .number(let text): out += Array(text.utf8)
        case .string(let value): JSONText.appendQuoted(value, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Recursive descent over RFC 8259, with one leniency of Foundation's reader kept so that both read the same
    /// bodies: a comma after an object's or an array's last element. Nesting deeper than `maxDepth` is refused
    /// rather than risking the stack.
    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        static let maxDepth = 128

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            skipWhitespace()
            guard index < bytes.count, depth < Self.maxDepth else { throw SyntaxError(offset: index) }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> JSONValue {
            index += 1
            var members: [Member] = []
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return .object(members) }
            repeat {
                skipWhitespace()
                if members.count > 0, consume(UInt8(ascii: "}")) { return .object(members) }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw SyntaxError(offset: index) }
                let key = try string()
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { throw SyntaxError(offset: index) }
                members.append(Member(key, try value(depth: depth + 1)))
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "}")) else { throw SyntaxError(offset: index) }
            return .object(members)
        }

        mutating func array(depth: Int) throws(SyntaxError) -> JSONValue {
            index += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                skipWhitespace()
                if items.count > 0, consume(UInt8(ascii: "]")) { return .array(items) }
                items.append(try value(depth: depth + 1))
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "]")) else { throw SyntaxError(offset: index) }
            return .array(items)
        }

        mutating func string() throws(SyntaxError) -> String {
            index += 1
            var run = index
            var text = ""
            func flush(_ end: Int) { text += String(decoding: bytes[run..<end], as: UTF8.self) }
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    flush(index)
                    index += 1
                    return text
                case UInt8(ascii: "\\"):
                    flush(index)
                    index += 1
                    guard index < bytes.count else { throw SyntaxError(offset: index) }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.unicodeScalars.append(Unicode.Scalar(escape))
                    case UInt8(ascii: "b"): text += "\u{08}"
                    case UInt8(ascii: "f"): text += "\u{0C}"
                    case UInt8(ascii: "n"): text += "\n"
                    case UInt8(ascii: "r"): text += "\r"
                    case UInt8(ascii: "t"): text += "\t"
                    case UInt8(ascii: "u"): text.unicodeScalars.append(try escapedScalar())
                    default: throw SyntaxError(offset: index - 1)
                    }
                    run = index
                case 0..<0x20:
                    throw SyntaxError(offset: index)
                default:
                    index += 1
                }
            }
            throw SyntaxError(offset: index)
        }

        /// The scalar of a `\uXXXX` escape (the `\u` already read), joining a surrogate pair. A lone surrogate is
        /// refused, as Foundation's JSON readers refuse it (a Swift string cannot hold one).
        mutating func escapedScalar() throws(SyntaxError) -> Unicode.Scalar {
            let start = index - 2
            let high = try hex4()
            if let scalar = Unicode.Scalar(high) { return scalar }
            guard (0xD800..<0xDC00).contains(high), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                bytes[index + 1] == UInt8(ascii: "u")
            else { throw SyntaxError(offset: start) }
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                throw SyntaxError(offset: start)
            }
            return scalar
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard index + 4 <= bytes.count, let value = HexDigits.value(of: bytes[index..<index + 4]) else {
                throw SyntaxError(offset: index)
            }
            index += 4
            return value
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as written.
        mutating func number() throws(SyntaxError) -> String {
            let start = index
            _ = consume(UInt8(ascii: "-"))
            if consume(UInt8(ascii: "0")) {
                // A leading zero stands alone.
            } else {
                guard digits() > 0 else { throw SyntaxError(offset: index) }
            }
            if consume(UInt8(ascii: ".")) {
                guard digits() > 0 else { throw SyntaxError(offset: index) }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() > 0 else { throw SyntaxError(offset: index) }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw SyntaxError(offset: index) }
            let matches = word.withUTF8Buffer { bytes[index..<index + count].elementsEqual($0) }
            guard matches else { throw SyntaxError(offset: index) }
            index += count
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }
    }
}
