import Foundation
import SluiceCore
import ServiceLifecycle
import SluiceServer
import SluiceStore
import UnixSignals

/// How `sluice serve` starts and stops: the first user of an empty database, and the signals that stop it.
extension Serve {
    /// The signals that stop Sluice gracefully: SIGTERM, SIGINT, and SIGHUP (its terminal closed) unless it was started
    /// to ignore that one (`nohup`). Without SIGHUP a closed terminal would end Sluice at once and leave the
    /// llama-server child (in a process group of its own) running until the next start.
    static let stopSignals: [UnixSignal] = {
        var current = sigaction()
        sigaction(SIGHUP, nil, &current)
        let ignored = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
        return [.sigterm, .sigint] + (ignored ? [] : [.sighup])
    }()

    /// Runs `group` and hands `drain` each shutdown signal: the first begins it (the group's graceful shutdown begins
    /// on the same signal: the server stops taking connections and waits for the answers it streams), the next ends
    /// its grace at once.
    static func run(_ group: ServiceGroup, drain: ShutdownDrain) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: stopSignals) { drain.signalled() }
            }
            try await group.run()
            tasks.cancelAll()
        }
    }

    enum SignIn {
        case newToken(String)
        case existing
    }

    /// On an empty database, creates the user `local` so that a newcomer can chat at once (the audit log's first
    /// entry says so).
    static func localSignIn(store: any SluiceDatabase) async throws -> SignIn {
        guard try await store.users().isEmpty else { return .existing }
        let token = AccessToken.generate()
        try await CommandAudit.tracking(
            .userAdded, on: AuditTarget(.user, "local"), command: "sluice serve", in: store,
            settings: { try await $0.user(named: "local") }
        ) { _ = try await store.createUser(name: "local", plan: .unlimited, tokenHash: AccessToken.hash(token)) }
        return .newToken(token)
    }

    /// Where a server keeps the ends of answers the database did not take (`SluiceDependencies.unsavedEndsFile`): beside
    /// an SQLite file, its name and `.unsaved-ends.jsonl`; for PostgreSQL, in `./data`, named by the database (its
    /// address without the password, hashed) and the port — or, for any free port (`--port 0`), the process id, as
    /// two such instances could otherwise share a name.
    static func unsavedEndsFile(database: String, port: Int) -> URL {
        guard SluiceDatabases.isPostgres(database) else { return URL(fileURLWithPath: database + ".unsaved-ends.jsonl") }
        let name = port == 0 ? "p\(getpid())" : "\(port)"
        return URL(fileURLWithPath: "./data").appendingPathComponent("\(unsavedEndsPrefix(database))\(name).jsonl")
    }

    /// `unsaved-ends-<hash of the address without its password>-`.
    static func unsavedEndsPrefix(_ database: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in SluiceDatabases.redacted(database).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "unsaved-ends-\(String(hash, radix: 16))-"
    }

    /// The files in which Sluices on this machine kept ends for `database` (`unsavedEndsFile`'s among them): a start
    /// writes those whose owner no longer runs, whatever port it had. SQLite's file is the database's own.
    static func leftOverEnds(database: String, port: Int) -> [URL] {
        let file = unsavedEndsFile(database: database, port: port)
        guard SluiceDatabases.isPostgres(database) else { return [file] }
        let folder = file.deletingLastPathComponent()
        let prefix = unsavedEndsPrefix(database)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".jsonl") }.sorted().map { folder.appendingPathComponent($0) }
    }
}
