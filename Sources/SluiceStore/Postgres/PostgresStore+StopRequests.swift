import Foundation
import Logging
import PostgresNIO
import SluiceCore

/// Stopping an answer another instance writes (`StopRequestStore`, schema step 49): the instance that gets the stop
/// inserts a row into `stop_requests` and, in the same statement, notifies `sluice_stop_requests`. Every instance
/// LISTENs on one pooled connection; woken — or every `stopPollInterval`, for a notification missed while that
/// connection was being replaced — it takes (deletes) the rows of the answers it writes and hands them on.
extension PostgresStore {
    static let stopChannel = "sluice_stop_requests"

    public func requestStop(messageID: String) async throws -> Bool {
        let now = StoredValues.milliseconds(Date())
        // The notification is delivered when the statement commits, after the row is there to be taken.
        let recorded = try await rows(
            """
            WITH recorded AS (
                INSERT INTO stop_requests (message_id, requested_at)
                SELECT id, \(now) FROM messages WHERE id = \(messageID) AND status = 'streaming'
                ON CONFLICT (message_id) DO UPDATE SET requested_at = excluded.requested_at
                RETURNING message_id
            )
            SELECT message_id, pg_notify(\(Self.stopChannel), message_id) IS NULL AS notified FROM recorded
            """)
        return !recorded.isEmpty
    }

    public func watchStopRequests(_ deliver: @escaping @Sendable ([String]) async -> Void) async {
        // One pending wake is enough: a take reads every request there is.
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenForStopRequests(wake: wake) }
            group.addTask {
                while !Task.isCancelled {
                    wake.yield()
                    try? await Task.sleep(for: self.stopPollInterval)
                }
            }
            // Ends when this task is cancelled (an `AsyncStream`'s iteration does). A failure is logged once per run of
            // them: with the database gone this loop fails every second, and the heartbeat already says so.
            var failing = false
            for await _ in wakes {
                do {
                    let taken = try await takeStopRequests()
                    if failing { logger.notice("reading stop requests again") }
                    failing = false
                    if !taken.isEmpty { await deliver(taken) }
                } catch {
                    if !failing {
                        logger.warning("reading stop requests failed", metadata: ["error": "\(String(reflecting: error))"])
                    }
                    failing = true
                }
            }
            group.cancelAll()
        }
    }

    /// Wakes `wake` on every notification, on one connection of the pool held for as long as it listens; a lost
    /// connection is replaced after a second (the polling covers what it missed meanwhile).
    private func listenForStopRequests(wake: AsyncStream<Void>.Continuation) async {
        var failing = false
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: Self.stopChannel) { notifications in
                        if failing {
                            logger.notice("listening for stop requests again")
                            failing = false
                        }
                        // What was requested while no connection listened.
                        wake.yield()
                        for try await _ in notifications { wake.yield() }
                    }
                }
            } catch where !Task.isCancelled {
                if !failing {
                    logger.warning(
                        "listening for stop requests failed; polling every \(stopPollInterval) meanwhile",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
                failing = true
                try? await Task.sleep(for: .seconds(1))
            } catch {}
        }
    }

    /// Deletes the requests for the answers this instance is writing, and those for answers no longer being
    /// written by anyone (ended, or recovered from a stopped instance); returns the former.
    func takeStopRequests() async throws -> [String] {
        try await rows(
            """
            DELETE FROM stop_requests s USING messages m
            WHERE s.message_id = m.id AND (m.writer = \(instanceID) OR m.status <> 'streaming')
            RETURNING s.message_id, (m.writer = \(instanceID) AND m.status = 'streaming') AS mine
            """
        ).filter { (try? $0["mine"].decode(Bool.self)) == true }.compactMap { $0.string("message_id") }
    }
}
