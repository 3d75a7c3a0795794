import Synchronization

/// Remembers, per user, the end of the budget period last read from the database, so that a hold inside a
/// known period skips the two statements that create the limits row and roll an ended period over (they
/// changed nothing there: the row exists, and its period has not ended).
///
/// Safe because a period's end only moves forward (`resetBudget` sets the next end after now) and limit rows
/// are never deleted but with their user; after the remembered end has passed the statements run again.
final class ResetCache: Sendable {
    private let ends = Mutex<[String: Int]>([:])

    /// Whether `userID`'s period is known to last beyond `nowMs`.
    func covers(userID: String, nowMs: Int) -> Bool {
        ends.withLock { ($0[userID] ?? .min) > nowMs }
    }

    func remember(userID: String, resetAtMs: Int?) {
        guard let resetAtMs else { return }
        ends.withLock { $0[userID] = resetAtMs }
    }
}
