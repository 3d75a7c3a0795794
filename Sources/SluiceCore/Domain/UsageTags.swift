import Foundation

/// The tags a gateway caller gives a call to see its cost apart — a feature, an environment, a customer — as
/// LiteLLM's request tags (`metadata.tags`, `x-litellm-tags`) do: kept on the call's ledger row and summed per tag in
/// usage history (`UsageGrouping.tag`).
public enum UsageTags {
    /// The most tags one call may have.
    public static let most = 20
    /// The longest tag.
    public static let longest = 64
    public static let rule = "at most \(most) tags of 1 to \(longest) characters each, without commas or control characters"

    /// `raw` trimmed, without empty ones and repeats (the first kept, in order); `nil` when one breaks the rule.
    public static func checked(_ raw: [String]) -> [String]? {
        var tags: [String] = []
        for item in raw {
            let tag = item.trimmingCharacters(in: .whitespacesAndNewlines)
            if tag.isEmpty || tags.contains(tag) { continue }
            guard tag.count <= longest, !tag.contains(","),
                  !tag.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
            else { return nil }
            tags.append(tag)
        }
        return tags.count <= most ? tags : nil
    }

    /// A call's tags with its key's (`APIKey.tags`) in front, each once: both lists checked already, so the call may
    /// carry up to twice `most`.
    public static func merged(key: [String], call: [String]) -> [String] {
        guard !key.isEmpty else { return call }
        return key + call.filter { !key.contains($0) }
    }

    /// A header's comma-separated tags (`x-sluice-tags: checkout, prod`) as a list, each still to be checked.
    public static func split(_ header: String) -> [String] { header.split(separator: ",").map(String.init) }
}
