import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import Synchronization

/// Shares circuit breakers' verdicts between the instances on one database (`CircuitStore`), as LiteLLM shares its
/// cooldowns through Redis. When a breaker here opens on its own failures, the moment it may be tried again is
/// written; every `interval`, the circuits other instances opened are read and each closed breaker of the same name
/// opens until then — so N instances in front of a dead upstream spend one run of failures, not N, and probe it
/// again together. A failed write or read is logged and changes nothing: each breaker still works alone.
public final class CircuitSharing: Service, Sendable {
    private let store: any CircuitStore
    private let interval: Duration
    private let logger: Logger
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let trips: AsyncStream<(name: String, until: Date)>
    private let tripped: AsyncStream<(name: String, until: Date)>.Continuation

    public init(store: any CircuitStore, interval: Duration = .seconds(1), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
        (trips, tripped) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(256))
    }

    /// A breaker's `onTrip` for the breaker named `name`: its opening is written by `run()`.
    public func onTrip(of name: String) -> @Sendable (Duration) -> Void {
        { [tripped] cooldown in tripped.yield((name, Date().addingTimeInterval(cooldown.seconds))) }
    }

    /// Makes the breaker take the circuits other instances open; one breaker per name.
    public func watch(_ breaker: CircuitBreaker) {
        breakers.withLock { $0[breaker.name] = breaker }
    }

    /// Writes this instance's trips as they come and reads the others' every `interval`, until shutdown.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                for await trip in trips { await publish(trip.name, until: trip.until) }
            }
            group.addTask { [self] in
                while !Task.isCancelled {
                    _ = await syncOnce()
                    try? await Task.sleep(for: interval)
                }
            }
            // Shutdown: the reader's sleep is cancelled, and the trips still queued are written before the end.
            try? await gracefulShutdown()
            tripped.finish()
            group.cancelAll()
        }
    }

    /// Writes that `name` is open until `until`.
    func publish(_ name: String, until: Date) async {
        do {
            try await store.shareOpenCircuit(name: name, until: until, now: Date())
            logger.notice("shared an open circuit with the other instances", metadata: ["upstream": "\(name)"])
        } catch {
            logger.warning("could not share an open circuit", metadata: ["upstream": "\(name)", "error": "\(error)"])
        }
    }

    /// Reads the open circuits once and opens this instance's closed breakers of the same names; returns their names.
    @discardableResult
    public func syncOnce(now: Date = Date()) async -> [String] {
        let open: [String: Date]
        do {
            open = try await store.openCircuits(now: now)
        } catch {
            logger.warning("could not read the shared circuit states", metadata: ["error": "\(error)"])
            return []
        }
        let watched = breakers.withLock { $0 }
        var adopted: [String] = []
        for (name, until) in open.sorted(by: { $0.key < $1.key }) {
            guard let breaker = watched[name], breaker.adopt(openFor: .milliseconds(Int64(until.timeIntervalSince(now) * 1000)))
            else { continue }
            adopted.append(name)
            logger.error("another instance found an upstream down: its circuit is open here too", metadata: [
                "upstream": "\(name)", "until": "\(until.formatted(.iso8601))",
            ])
        }
        return adopted
    }
}
