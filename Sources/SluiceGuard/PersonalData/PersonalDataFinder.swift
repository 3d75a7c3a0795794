/// A kind of personal detail that `PersonalDataFinder` recognises, and the word its placeholders use.
public enum PersonalDataKind: String, Sendable, CaseIterable, Comparable {
    case email
    case phone
    case card
    case iban
    case ssn

    /// The word in this kind's placeholders (`[EMAIL_1]`).
    public var placeholderWord: String { rawValue.uppercased() }

    /// How a person reads this kind, one of them and several.
    public func described(count: Int) -> String {
        let (one, many) = switch self {
        case .email: ("email address", "email addresses")
        case .phone: ("phone number", "phone numbers")
        case .card: ("card number", "card numbers")
        case .iban: ("IBAN", "IBANs")
        case .ssn: ("social security number", "social security numbers")
        }
        return "\(count) \(count == 1 ? one : many)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// Finds personal details in text: email addresses, phone numbers, payment card numbers, IBANs and US social
/// security numbers — the identifiers Presidio's default recognisers (which LiteLLM's PII masking uses) find by shape.
///
/// Precision comes first, because a false match changes what the model reads: card numbers must pass the Luhn check
/// and start as a card network's do, IBANs their mod-97 check, social security numbers must be written `123-45-6789`
/// with a valid area; a phone number needs a `+` and country code, the North American `(555) 123-4567` shape, or a
/// national number starting with 0 in groups — a bare run of digits (an order number, a timestamp) is left alone.
/// Names and street addresses need a language model to find and are not looked for.
///
/// One pass over the UTF-8 bytes; no regular expressions (messages may carry whole files).
public enum PersonalDataFinder {
    /// One detail: where it is in the text's UTF-8 bytes, and what kind it is.
    public struct Match: Sendable, Equatable {
        public var range: Range<Int>
        public var kind: PersonalDataKind
    }

    /// The details in `text`, in order, not overlapping.
    public static func matches(in text: String) -> [Match] {
        let bytes = Array(text.utf8)
        // Nearly every message has no '@' and no digit: nothing to look at.
        guard bytes.contains(where: { $0 == UInt8(ascii: "@") || isDigit($0) }) else { return [] }
        var found = emails(in: bytes)
        found += ibans(in: bytes, skipping: found)
        found += numbers(in: bytes, skipping: found)
        return found.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    // MARK: Email addresses

    static func emails(in bytes: [UInt8]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index < bytes.count {
            defer { index += 1 }
            guard bytes[index] == UInt8(ascii: "@") else { continue }
            var start = index
            while start > (found.last?.range.upperBound ?? 0), isLocalPart(bytes[start - 1]) { start -= 1 }
            // An address does not start with a dot, nor with the quote around it ('ann@example.com').
            while start < index, bytes[start] == UInt8(ascii: ".") || bytes[start] == UInt8(ascii: "'") { start += 1 }
            var end = index + 1
            while end < bytes.count, isDomainPart(bytes[end]) { end += 1 }
            // A sentence's full stop, or a dash after the address, is not part of it.
            while end > index + 1, bytes[end - 1] == UInt8(ascii: ".") || bytes[end - 1] == UInt8(ascii: "-") { end -= 1 }
            guard start < index, isDomain(bytes[(index + 1)..<end]) else { continue }
            found.append(Match(range: start..<end, kind: .email))
            index = end - 1
        }
        return found
    }

    private static func isDomain(_ domain: ArraySlice<UInt8>) -> Bool {
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }), let top = labels.last else { return false }
        return top.count >= 2 && top.allSatisfy(isLetter)
    }

    // MARK: IBANs

    static func ibans(in bytes: [UInt8], skipping taken: [Match]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index + 4 <= bytes.count {
            defer { index += 1 }
            guard isUpper(bytes[index]), isUpper(bytes[index + 1]), isDigit(bytes[index + 2]), isDigit(bytes[index + 3]),
                index == 0 || !isWordByte(bytes[index - 1]), !taken.contains(where: { $0.range.contains(index) })
            else { continue }
            // The rest in groups (of four, as printed) separated by single spaces, or in one piece.
            var end = index + 4
            var characters = Array(bytes[index..<end])
            while end < bytes.count {
                if isUpper(bytes[end]) || isDigit(bytes[end]) {
                    characters.append(bytes[end])
                    end += 1
                } else if bytes[end] == UInt8(ascii: " "), end + 1 < bytes.count, isUpper(bytes[end + 1]) || isDigit(bytes[end + 1]),
                    characters.count % 4 == 0
                {
                    end += 1
                } else {
                    break
                }
            }
            guard (15...34).contains(characters.count), end == bytes.count || !isWordByte(bytes[end]),
                passesMod97(characters)
            else { continue }
            found.append(Match(range: index..<end, kind: .iban))
            index = end - 1
        }
        return found
    }

    /// ISO 13616: the first four characters moved to the end, letters as 10…35, the number mod 97 is 1.
    static func passesMod97(_ characters: [UInt8]) -> Bool {
        var remainder = 0
        for byte in characters[4...] + characters[..<4] {
            if isDigit(byte) {
                remainder = (remainder * 10 + Int(byte - UInt8(ascii: "0"))) % 97
            } else {
                remainder = (remainder * 100 + Int(byte - UInt8(ascii: "A")) + 10) % 97
            }
        }
        return remainder == 1
    }

    // MARK: Numbers: cards, social security numbers, phones

    /// A run of digit groups with single separators between them (`+1 (555) 123-4567`, `4111 1111 1111 1111`).
    struct NumberRun {
        var range: Range<Int>
        var digits: [UInt8] = []
        var groups: [Int] = []
        var separators: Set<UInt8> = []
        var plus = false
        var parenthesised = false
    }

    static func numbers(in bytes: [UInt8], skipping taken: [Match]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "("),
                index == 0 || startsNumber(after: bytes[index - 1]),
                let run = numberRun(in: bytes, from: index)
            else {
                index += 1
                continue
            }
            if !taken.contains(where: { $0.range.overlaps(run.range) }), let kind = kind(of: run, in: bytes) {
                found.append(Match(range: run.range, kind: kind))
            }
            index = run.range.upperBound
        }
        return found
    }

    private static func numberRun(in bytes: [UInt8], from start: Int) -> NumberRun? {
        var run = NumberRun(range: start..<start)
        var position = start
        /// Where the last group ended: a separator after it that led nowhere ("4242 (the card)") is not the run's.
        var end = start
        if bytes[position] == UInt8(ascii: "+") {
            run.plus = true
            position += 1
        }
        while position < bytes.count {
            if bytes[position] == UInt8(ascii: "(") {
                var close = position + 1
                while close < bytes.count, isDigit(bytes[close]) { close += 1 }
                guard close > position + 1, close < bytes.count, bytes[close] == UInt8(ascii: ")") else { break }
                run.digits += bytes[(position + 1)..<close]
                run.groups.append(close - position - 1)
                run.parenthesised = true
                position = close + 1
                end = position
                // "(555) 123": the space after the parentheses is the separator.
                if position + 1 < bytes.count, bytes[position] == UInt8(ascii: " "), isDigit(bytes[position + 1]) { position += 1 }
                guard position < bytes.count, isDigit(bytes[position]) else { break }
                continue
            }
            guard isDigit(bytes[position]) else { break }
            let groupStart = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            run.digits += bytes[groupStart..<position]
            run.groups.append(position - groupStart)
            end = position
            guard position + 1 < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: ".")].contains(bytes[position]),
                isDigit(bytes[position + 1]) || bytes[position + 1] == UInt8(ascii: "(")
            else { break }
            run.separators.insert(bytes[position])
            position += 1
        }
        guard !run.digits.isEmpty else { return nil }
        // A run that ends inside a word or a longer token ("12ab", "3_000") is no number of these kinds.
        if end < bytes.count, isWordByte(bytes[end]) { return nil }
        run.range = start..<end
        return run
    }

    private static func kind(of run: NumberRun, in bytes: [UInt8]) -> PersonalDataKind? {
        let count = run.digits.count
        let onlySpacesOrHyphens = run.separators.isSubset(of: [UInt8(ascii: " "), UInt8(ascii: "-")])
        if !run.plus, !run.parenthesised, run.groups == [3, 2, 4], run.separators == [UInt8(ascii: "-")], isSocialSecurityNumber(run.digits) {
            return .ssn
        }
        if !run.plus, !run.parenthesised, onlySpacesOrHyphens, (13...19).contains(count), isCardNumber(run.digits) {
            return .card
        }
        if run.plus { return (8...15).contains(count) ? .phone : nil }
        let northAmerican = run.groups == [3, 3, 4] || (run.groups == [1, 3, 3, 4] && run.digits[0] == UInt8(ascii: "1"))
        if northAmerican, run.parenthesised || !run.separators.isEmpty, onlySpacesOrHyphens || run.separators == [UInt8(ascii: ".")] {
            return .phone
        }
        guard run.digits[0] == UInt8(ascii: "0"), !run.separators.isEmpty, onlySpacesOrHyphens, run.groups.allSatisfy({ $0 >= 2 })
        else { return nil }
        // "00 49 30 1234567": the international prefix instead of a +.
        if run.digits[1] == UInt8(ascii: "0") { return (10...17).contains(count) ? .phone : nil }
        // A national number as Europe writes one: "020 7946 0958", "06 12 34 56 78", "0176-12345678".
        if (9...12).contains(count) { return .phone }
        return nil
    }

    /// Valid as the Social Security Administration issues them: no area 000, 666 or 900–999, group 00 or serial 0000.
    static func isSocialSecurityNumber(_ digits: [UInt8]) -> Bool {
        let value = digits.map { Int($0 - UInt8(ascii: "0")) }
        let area = value[0] * 100 + value[1] * 10 + value[2]
        let group = value[3] * 10 + value[4]
        let serial = value[5...].reduce(0) { $0 * 10 + $1 }
        return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
    }

    /// A card network's number, as long as that network's are: Visa (4; 13, 16 or 19 digits), Mastercard (51–55,
    /// 2221–2720; 16), American Express (34, 37; 15), Diners (36, 38, 300–305; 14–19), Discover (6011, 65), JCB (35)
    /// and UnionPay (62) (16–19), Maestro (50, 56–58, 67; 13–19) — and the Luhn check.
    static func isCardNumber(_ digits: [UInt8]) -> Bool {
        let value = digits.map { Int($0 - UInt8(ascii: "0")) }
        let two = value[0] * 10 + value[1]
        let four = two * 100 + value[2] * 10 + value[3]
        let lengths: ClosedRange<Int>? = switch true {
        case value[0] == 4: [13, 16, 19].contains(value.count) ? value.count...value.count : nil
        case (51...55).contains(two), (2221...2720).contains(four): 16...16
        case two == 34, two == 37: 15...15
        case two == 36, two == 38, (3000...3059).contains(four): 14...19
        case four == 6011, two == 65, two == 35, two == 62: 16...19
        case two == 50, two == 67, (56...58).contains(two): 13...19
        default: nil
        }
        guard let lengths, lengths.contains(value.count) else { return false }
        var sum = 0
        for (offset, digit) in value.reversed().enumerated() {
            let weighted = offset % 2 == 1 ? digit * 2 : digit
            sum += weighted > 9 ? weighted - 9 : weighted
        }
        return sum % 10 == 0
    }

    // MARK: Bytes

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    static func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
    static func isLetter(_ byte: UInt8) -> Bool { isUpper(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) }
    /// Letters, digits, `_`, and any byte of a non-ASCII character: what a word is made of.
    static func isWordByte(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_") || byte >= 0x80 }

    private static func isLocalPart(_ byte: UInt8) -> Bool {
        // Bytes of non-ASCII characters too: an address may be written in any script (SMTPUTF8).
        isLetter(byte) || isDigit(byte) || byte >= 0x80
            || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "'")]
                .contains(byte)
    }

    private static func isDomainPart(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || byte >= 0x80 || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    /// A number starts after a space or punctuation, not inside a word, a decimal (`3.14`), a range or a path.
    private static func startsNumber(after byte: UInt8) -> Bool {
        !isWordByte(byte) && ![UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "@"),
            UInt8(ascii: ",")].contains(byte)
    }
}
