import Crypto
import Foundation
import SluiceCore

/// What the guard decided about one message.
public struct GuardVerdict: Sendable, Equatable {
    /// Why a message is not sent upstream.
    public enum Rejection: Sendable, Equatable {
        /// Longer than the configured limit (in characters).
        case tooLong(length: Int, limit: Int)
        /// Looks like an attempt to override the assistant's instructions or extract secrets.
        case injection(rule: String, category: String, description: String, score: Double)
    }

    /// `nil` when the message may be sent.
    public var rejection: Rejection?
    /// The ids of every rule that fired (negative ones included), strongest first.
    public var firedRules: [String]
    public var score: Double

    public var allowed: Bool { rejection == nil }

    /// The id of the rule (or limit) that rejected the message, for storage, logs and metrics.
    public var ruleID: String? {
        switch rejection {
        case .tooLong?: return "length_limit"
        case .injection(let rule, _, _, _)?: return rule
        case nil: return nil
        }
    }
}

/// Screens a user's message before it goes upstream: a length limit, then data-driven injection rules over
/// the normalised text (`GuardNormalizer`, `GuardRules`).
public struct PromptGuard: Sendable {
    public let rules: GuardRules
    /// The longest message, in characters, that is sent upstream.
    public let maxCharacters: Int

    public init(rules: GuardRules, maxCharacters: Int = 2000) {
        self.rules = rules
        self.maxCharacters = maxCharacters
    }

    public func check(_ message: String) -> GuardVerdict {
        check(message, skippingByLeadWords: true)
    }

    /// The rules, without the length limit: a file attached to a message is as long as the context allows, but
    /// an instruction hidden in it reaches the model as surely as one typed.
    public func checkAttachment(_ text: String) -> GuardVerdict {
        PromptGuard(rules: rules, maxCharacters: .max).check(text, skippingByLeadWords: true)
    }

    /// `skippingByLeadWords: false` runs every pattern (`LeadWords`), for tests that check the shortcut changes
    /// no verdict.
    func check(_ message: String, skippingByLeadWords: Bool) -> GuardVerdict {
        if message.count > maxCharacters {
            return GuardVerdict(rejection: .tooLong(length: message.count, limit: maxCharacters), firedRules: [], score: 0)
        }
        let normalized = GuardNormalizer.normalize(message)
        let tokens = skippingByLeadWords ? LeadWords.tokens(of: normalized.words) : nil
        let fired = rules.rules.filter { $0.fires(on: normalized, wordTokens: tokens) }.sorted { $0.weight > $1.weight }
        // Within a category only the strongest rule counts: two rules that see the same override (in English
        // and in French, say) are one piece of evidence, not two.
        let strongestPerCategory = Dictionary(grouping: fired, by: \.category).values.map { rules in
            rules.max { abs($0.weight) < abs($1.weight) }!.weight
        }
        let score = strongestPerCategory.reduce(0, +)
        var verdict = GuardVerdict(rejection: nil, firedRules: fired.map(\.id), score: score)
        if score >= rules.threshold, let strongest = fired.first {
            verdict.rejection = .injection(
                rule: strongest.id, category: strongest.category, description: strongest.description, score: score)
        }
        return verdict
    }

    /// A short, stable fingerprint of a message for logs, so an attempt can be traced without logging its text.
    public static func fingerprint(_ message: String) -> String {
        HexDigits.lowercase(SHA256.hash(data: Data(message.utf8)).prefix(8))
    }
}
