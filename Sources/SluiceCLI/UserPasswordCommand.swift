import ArgumentParser
import Foundation
import SluiceCore
import SluiceServer
import SluiceStore

#if canImport(Glibc)
import Glibc
#endif

/// `sluice user password NAME [--off]`: the password a user signs in to the web app with, besides their token link.
extension UserCommand {
    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password for the web app's sign-in form (asked for twice, or read from standard input).",
            discussion: """
                At a terminal the password is asked for twice without showing it; otherwise the first line of standard \
                input is the password (printf '%s\\n' "$PASSWORD" | sluice user password NAME). A new password, or \
                --off, signs the user out of every browser that signed in with the old one (within 5 s on a running server).
                """)
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "Remove the password: only the user's token signs them in.") var off = false
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            try await UserCommand.withUser(named: name, in: database) { store, user in
                let hash = off ? nil : try await PasswordHasher().hash(try Self.readPassword(for: user.name))
                let ended = try await CommandAudit.tracking(
                    .userChanged, on: AuditTarget(.user, user.name), command: "sluice user password", in: store,
                    settings: { try await $0.user(named: user.name) }
                ) {
                    try await store.setPasswordHash(userID: user.id, hash: hash)
                    return try await store.endSessions(userID: user.id, keeping: nil)
                }
                if user.hasPassword, hash != nil {
                    // A new password in place of one moves no setting: the entry says so itself.
                    await CommandAudit.record(
                        .userChanged, on: AuditTarget(.user, user.name), command: "sluice user password", in: store,
                        changes: [AuditChange("password", from: "set", to: "changed")] + [.browsersSignedOut(ended)])
                }
                try await UserCommand.logSecurityEvent(off ? .passwordRemoved : .passwordChanged, for: user, in: store, command: "password")
                let signedOut = ended == 0 ? "" : " \(ended) signed-in \(ended == 1 ? "browser was" : "browsers were") signed out."
                print((off ? "\(user.name) has no password: only their token signs them in." : "\(user.name)'s password is set.") + signedOut)
            }
        }

        /// The new password: typed twice at a terminal, else the first line of standard input.
        static func readPassword(for name: String) throws -> String {
            let password: String
            if isatty(STDIN_FILENO) == 1 {
                let first = String(cString: getpass("New password: "))
                let again = String(cString: getpass("The same again: "))
                guard first == again else { throw ValidationError("The two passwords differ; nothing was changed.") }
                password = first
            } else {
                guard let line = readLine(strippingNewline: true) else {
                    throw ValidationError("Give the password on standard input (its first line); nothing was changed.")
                }
                password = line
            }
            if let problem = PasswordRule.problem(with: password, for: name) { throw ValidationError(problem + " Nothing was changed.") }
            return password
        }
    }
}

/// `sluice user sign-out NAME`: signs a user out of every browser that signed in with their password (a lost laptop),
/// as the Users page's "Sign out everywhere" does; their token and keys stay.
extension UserCommand {
    struct SignOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-out",
            abstract: "Sign a user out of every browser that signed in with their password (their token and keys stay).",
            discussion: "A running server refuses the ended sessions within 5 s; each browser lists them under Password.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            try await UserCommand.withUser(named: name, in: database) { store, user in
                let ended = try await store.endSessions(userID: user.id, keeping: nil)
                try await UserCommand.logSecurityEvent(.signedOutElsewhere, for: user, in: store, command: "sign-out")
                await CommandAudit.record(
                    .userSignedOut, on: AuditTarget(.user, user.name), command: "sluice user sign-out", in: store,
                    changes: [.browsersSignedOut(ended)])
                print(ended == 0
                    ? "\(user.name) was signed in nowhere with a password."
                    : "\(user.name) was signed out of \(ended) \(ended == 1 ? "browser" : "browsers").")
            }
        }
    }
}

/// `sluice user two-step-off NAME`: turns off a user's two-step verification when they lost both their authenticator
/// and their recovery codes, as the Users page's "Turn off two-step" does; their password alone signs them in again.
extension UserCommand {
    struct TwoStepOff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "two-step-off",
            abstract: "Turn off a user's two-step verification (they lost their authenticator and recovery codes).",
            discussion: "Their password alone signs them in again; they may set two-step verification up anew.")
        @Argument(help: "The user's name.") var name: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            try await UserCommand.withUser(named: name, in: database) { store, user in
                if try await store.disableTwoStep(userID: user.id) {
                    try await UserCommand.logSecurityEvent(.twoStepOff, for: user, in: store, command: "two-step-off")
                    await CommandAudit.record(
                        .userTwoStepOff, on: AuditTarget(.user, user.name), command: "sluice user two-step-off", in: store,
                        changes: [AuditChange("two_step", from: "on", to: nil)])
                    print("Two-step verification is off for \(user.name): their password alone signs them in.")
                } else {
                    print("\(user.name) did not have two-step verification on; nothing changed.")
                }
            }
        }
    }
}

extension UserCommand {
    /// Opens the database, finds the user `name` (a `ValidationError` naming `sluice user list` when there is none),
    /// runs `body` with both, and closes the database whether `body` throws or not.
    static func withUser(
        named name: String, in database: DatabaseOption, _ body: (any SluiceDatabase, User) async throws -> Void
    ) async throws {
        let store = try await database.open()
        do {
            guard let user = try await store.user(named: name) else {
                throw ValidationError("no user named \(name); 'sluice user list' shows who exists")
            }
            try await body(store, user)
        } catch {
            try await store.close()
            throw error
        }
        try await store.close()
    }

    /// Adds `kind` to the user's security log as done from the server's shell (`sluice user COMMAND`).
    static func logSecurityEvent(_ kind: SecurityEvent.Kind, for user: User, in store: any ConversationStore, command: String) async throws {
        let now = Date()
        try await store.recordSecurityEvent(
            SecurityEvent(
                id: Identifier.make(), userID: user.id, kind: kind, at: now, origin: SessionOrigin(userAgent: nil, address: nil),
                detail: "by `sluice user \(command)` on the server"),
            forgettingBefore: now.addingTimeInterval(-SecurityLog.retention))
    }
}

/// `sluice user security-log NAME`: the user's recent security activity, as the Password page and
/// `GET /api/admin/users/{name}/security-log` show it.
extension UserCommand {
    struct SecurityLogCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "security-log",
            abstract: "Show a user's recent sign-ins, refused sign-ins and changes to their password and two-step verification.")
        @Argument(help: "The user's name.") var name: String
        @Option(help: "How many events, the newest first (1–1000).") var limit = 50
        @OptionGroup var database: DatabaseOption

        func validate() throws {
            guard (1...1_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000.") }
        }

        func run() async throws {
            try await UserCommand.withUser(named: name, in: database) { store, user in
                print("at\tevent\tdetail\taddress\tuser agent")
                for event in try await store.securityEvents(userID: user.id, limit: limit) {
                    let fields = [event.at.formatted(.iso8601), event.kind.rawValue, event.detail, event.origin.address, event.origin.userAgent]
                    // What a browser sent may hold tabs or line breaks: they would break the columns.
                    print(fields.map { ($0 ?? "-").replacingOccurrences(of: #"[\t\r\n]"#, with: " ", options: .regularExpression) }
                        .joined(separator: "\t"))
                }
            }
        }
    }
}
