import Foundation
import SluiceCore

extension Serve {
    /// `--alias NAME=MODEL` (or `SLUICE_MODEL_ALIASES`) over the models file's `aliases:` (`hidden`: those marked so
    /// there), checked against the served models: a mistake stops start-up with one line.
    static func modelAliases(
        flags: [String], file: [String: String], hidden: Set<String> = [], served: [String]
    ) throws -> ModelAliases {
        var aliases = file
        // A flag that names an alias again makes it listed: it is the operator's latest word.
        var flagged: Set<String> = []
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw SettingError("--alias (SLUICE_MODEL_ALIASES): '\(flag)' is not NAME=MODEL, e.g. 'claude-*=\(served[0])'")
            }
            aliases[parts[0]] = parts[1]
            flagged.insert(parts[0])
        }
        do {
            return try ModelAliases(aliases, served: served, hidden: hidden.subtracting(flagged))
        } catch {
            throw SettingError("model aliases (--alias, SLUICE_MODEL_ALIASES or the models file): \(error.description)")
        }
    }
}
