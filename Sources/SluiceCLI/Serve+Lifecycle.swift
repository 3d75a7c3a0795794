import Foundation
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

    /// On an empty database, creates the user `local` so that a newcomer can chat at once.
    static func localSignIn(store: any SluiceDatabase) async throws -> SignIn {
        guard try await store.users().isEmpty else { return .existing }
        let token = AccessToken.generate()
        _ = try await store.createUser(name: "local", plan: .unlimited, tokenHash: AccessToken.hash(token))
        return .newToken(token)
    }
}
