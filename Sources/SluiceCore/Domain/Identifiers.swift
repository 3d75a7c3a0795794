import Foundation

/// Makes the identifiers of users, conversations and messages: lower-case UUIDs.
public enum Identifier {
    public static func make() -> String { UUID().uuidString.lowercased() }
}
