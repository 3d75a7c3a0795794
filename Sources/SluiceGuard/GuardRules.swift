import Foundation
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The prompt guard's rules, loaded from a YAML file (`Resources/prompt-guard-rules.yml` by default) so that
/// operators can add or tune rules without a new build.
///
/// ```yaml
/// threshold: 1.0
/// rules:
///   - id: ignore_instructions
///     category: instruction_override
///     weight: 1.0
///     words: ['\b(ignore|disregard) (all |the )?(previous|prior) (instructions|rules)\b']
///     squashed: [ignoreallpreviousinstructions]
/// ```
/// A rule fires when any of its patterns matches: `plain` and `words` are regular expressions over those forms
/// of `NormalizedText`; `squashed` are literal phrases looked for in the squashed form. A message is rejected
/// when the weights of the rules that fired (the strongest per category) add up to `threshold` or more; a negative weight marks context
/// that makes a phrase harmless (asking to translate or explain it).
public struct GuardRules: Sendable {
    public struct Rule: Sendable {
        public let id: String
        public let category: String
        public let weight: Double
        public let description: String
        let plain: [NSRegularExpression]
        let words: [NSRegularExpression]
        let squashed: [String]

        let squashedBytes: [[UInt8]]
        /// For each of `words`, the words it can begin with (`nil`: it may begin anywhere).
        let wordLeads: [LeadWords?]

        init(
            id: String, category: String, weight: Double, description: String, plain: [NSRegularExpression],
            words: [NSRegularExpression], squashed: [String]
        ) {
            self.id = id
            self.category = category
            self.weight = weight
            self.description = description
            self.plain = plain
            self.words = words
            self.squashed = squashed
            self.squashedBytes = squashed.map { Array($0.utf8) }
            self.wordLeads = words.map { LeadWords(pattern: $0.pattern) }
        }

        /// `wordTokens`: the whole words of `text.words` (`LeadWords.tokens`); a `words` pattern none of whose
        /// first words is among them is skipped. `nil` runs every pattern.
        func fires(on text: NormalizedText, wordTokens: Set<Substring>? = nil) -> Bool {
            wordsMatch(text.words, wordTokens) || Self.containsAny(squashedBytes, text.squashed) || Self.anyMatch(plain, text.plain)
        }

        private func wordsMatch(_ subject: String, _ tokens: Set<Substring>?) -> Bool {
            guard let tokens else { return Self.anyMatch(words, subject) }
            let range = NSRange(subject.startIndex..., in: subject)
            return zip(words, wordLeads).contains { pattern, leads in
                if let leads, !leads.mayMatch(tokens) { return false }
                return pattern.firstMatch(in: subject, range: range) != nil
            }
        }

        static func anyMatch(_ patterns: [NSRegularExpression], _ subject: String) -> Bool {
            let range = NSRange(subject.startIndex..., in: subject)
            return patterns.contains { $0.firstMatch(in: subject, range: range) != nil }
        }

        /// Whether any phrase occurs in `text`, byte for byte. Both are NFC (the normaliser's output), so equal
        /// bytes are equal text; Foundation's `contains` found the same matches at several times the cost.
        static func containsAny(_ phrases: [[UInt8]], _ text: String) -> Bool {
            guard !phrases.isEmpty else { return false }
            var text = text
            return text.withUTF8 { haystack in
                phrases.contains { phrase in phrase.withUnsafeBufferPointer { occurs($0, in: haystack) } }
            }
        }

        static func occurs(_ needle: UnsafeBufferPointer<UInt8>, in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
            guard let first = needle.first, needle.count <= haystack.count else { return false }
            for start in 0...(haystack.count - needle.count) where haystack[start] == first {
                if memcmp(haystack.baseAddress! + start, needle.baseAddress!, needle.count) == 0 { return true }
            }
            return false
        }
    }

    public let threshold: Double
    public let rules: [Rule]
    /// Credential shapes redacted from the model's output (`OutputRedactor`).
    public let credentials: [CredentialPattern]

    /// A rules file could not be used; the message names the rule and the problem.
    public struct InvalidRules: Error, CustomStringConvertible {
        public let description: String
    }

    private struct File: Decodable {
        var threshold: Double
        var rules: [RuleEntry]
        var credentials: [CredentialEntry]?
    }

    private struct CredentialEntry: Decodable {
        var id: String
        var prefixes: [String]
        var pattern: String
        var minRun: Int?
        enum CodingKeys: String, CodingKey {
            case id, prefixes, pattern
            case minRun = "min_run"
        }
    }

    private struct RuleEntry: Decodable {
        var id: String
        var category: String
        var weight: Double
        var description: String?
        var plain: [String]?
        var words: [String]?
        var squashed: [String]?
    }

    public init(yaml: String) throws {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch {
            throw InvalidRules(description: "The prompt-guard rules are not valid YAML of the expected shape: \(error)")
        }
        threshold = file.threshold
        rules = try file.rules.map { entry in
            func compile(_ pattern: String) throws -> NSRegularExpression {
                do {
                    // Patterns get the same accent folding as the text they are matched against.
                    return try NSRegularExpression(pattern: Self.unaccented(pattern), options: [.caseInsensitive])
                } catch {
                    throw InvalidRules(description: "Rule '\(entry.id)' has an invalid pattern \(pattern): \(error)")
                }
            }
            let squashed = (entry.squashed ?? []).map { GuardNormalizer.normalize($0).squashed }
            if squashed.contains(where: { $0.count < 6 }) {
                throw InvalidRules(description: "Rule '\(entry.id)' has a squashed phrase under 6 letters: it would match inside ordinary words.")
            }
            return Rule(
                id: entry.id, category: entry.category, weight: entry.weight, description: entry.description ?? entry.id,
                plain: try (entry.plain ?? []).map(compile), words: try (entry.words ?? []).map(compile), squashed: squashed)
        }
        credentials = try (file.credentials ?? []).map { entry in
            do {
                return try CredentialPattern(id: entry.id, prefixes: entry.prefixes, pattern: entry.pattern, minimumRun: entry.minRun ?? 0)
            } catch {
                throw InvalidRules(description: "Credential '\(entry.id)' has an invalid pattern: \(error)")
            }
        }
        if rules.isEmpty { throw InvalidRules(description: "The prompt-guard rules file lists no rules.") }
    }

    /// The rules that ship with Sluice.
    public static func builtIn() throws -> GuardRules {
        guard let url = Bundle.module.url(forResource: "prompt-guard-rules", withExtension: "yml") else {
            throw InvalidRules(description: "The built-in prompt-guard rules are missing from the installation.")
        }
        return try load(from: url.path)
    }

    public static func load(from path: String) throws -> GuardRules {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InvalidRules(description: "Could not read the prompt-guard rules at \(path).")
        }
        return try GuardRules(yaml: String(decoding: data, as: UTF8.self))
    }

    static func unaccented(_ text: String) -> String {
        String(String.UnicodeScalarView(
            text.decomposedStringWithCanonicalMapping.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        )).precomposedStringWithCanonicalMapping
    }
}
