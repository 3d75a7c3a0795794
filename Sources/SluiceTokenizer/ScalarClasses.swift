/// What the pre-tokenisation patterns need to know about one Unicode scalar, as bit flags.
///
/// The flags mirror the classes in tiktoken's patterns, as the Rust `regex` crate defines them:
/// `\p{L}` is the Letter general category, `\p{N}` Number, `\p{M}` Mark and `\s` the White_Space property.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    /// `\p{L}`: Lu, Ll, Lt, Lm, Lo.
    static let letter = ScalarClass(rawValue: 1 << 0)
    /// `\p{N}`: Nd, Nl, No.
    static let number = ScalarClass(rawValue: 1 << 1)
    /// `\s`: the White_Space property.
    static let whitespace = ScalarClass(rawValue: 1 << 2)
    /// `[\r\n]`.
    static let lineBreak = ScalarClass(rawValue: 1 << 3)
    /// o200k's `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]`.
    static let upperish = ScalarClass(rawValue: 1 << 4)
    /// o200k's `[\p{Ll}\p{Lm}\p{Lo}\p{M}]`.
    static let lowerish = ScalarClass(rawValue: 1 << 5)
    /// `/`, which o200k lets trail a run of punctuation together with line breaks.
    static let slash = ScalarClass(rawValue: 1 << 6)

    /// `[^\s\p{L}\p{N}]`: what the patterns treat as punctuation and symbols.
    var isPunctuation: Bool { isDisjoint(with: [.letter, .number, .whitespace]) }

    /// `[^\r\n\p{L}\p{N}]`: the one character allowed in front of a word.
    var mayPrefixWord: Bool { isDisjoint(with: [.letter, .number, .lineBreak]) }

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 128 {
            self = Self.ascii[Int(scalar.value)]
        } else {
            self = Self.classify(scalar)
        }
    }

    private static let ascii: [ScalarClass] = (0 ..< 128).map { classify(Unicode.Scalar(UInt8($0))) }

    private static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        var flags: ScalarClass = []
        switch properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter:
            flags = [.letter, .upperish]
        case .lowercaseLetter:
            flags = [.letter, .lowerish]
        case .modifierLetter, .otherLetter:
            flags = [.letter, .upperish, .lowerish]
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags = [.upperish, .lowerish]
        case .decimalNumber, .letterNumber, .otherNumber:
            flags = [.number]
        default:
            break
        }
        if properties.isWhitespace { flags.insert(.whitespace) }
        if scalar == "\r" || scalar == "\n" { flags.insert(.lineBreak) }
        if scalar == "/" { flags.insert(.slash) }
        return flags
    }
}

/// Text decoded once into scalars, their classes and their UTF-8 offsets, for the pattern scanners.
struct ClassifiedText {
    /// The scalar values, plus a zero sentinel so that scanners may look one past the end.
    let scalars: [UInt32]
    /// Each scalar's class, plus an empty sentinel.
    let classes: [ScalarClass]
    /// Each scalar's first byte in the UTF-8 text, plus the text's length.
    let byteOffsets: [Int]

    var count: Int { classes.count - 1 }

    init(_ text: Substring.UnicodeScalarView) {
        var scalars: [UInt32] = []
        var classes: [ScalarClass] = []
        var byteOffsets: [Int] = []
        let estimate = text.count
        scalars.reserveCapacity(estimate + 1)
        classes.reserveCapacity(estimate + 1)
        byteOffsets.reserveCapacity(estimate + 1)
        var offset = 0
        for scalar in text {
            scalars.append(scalar.value)
            classes.append(ScalarClass(scalar))
            byteOffsets.append(offset)
            offset += UTF8.width(scalar)
        }
        scalars.append(0)
        classes.append([])
        byteOffsets.append(offset)
        self.scalars = scalars
        self.classes = classes
        self.byteOffsets = byteOffsets
    }
}
