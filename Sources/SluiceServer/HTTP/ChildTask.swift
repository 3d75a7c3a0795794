/// Runs `body` in a child task of its own, started in place, and returns what it returns.
///
/// A Swift task takes its async functions' frames from slabs that it frees only when it ends, so it keeps the memory
/// of the deepest chain of calls it ever made. A connection's task lives as long as its connection — through a whole
/// streamed answer — so a route runs the work it does once before an answer streams (finding the conversation, the
/// guard, the context, the budget hold) in a child task, whose frames are gone before the stream begins. A wait that
/// lasts (the first token's) belongs in the caller, or every child of a burst lives through it. At 1 000 open streams
/// this and smaller frames in `ChatTurn` took the server's peak from about 210 to about 170 MiB (docs/benchmarks.md,
/// "Frames apart from the connection's task"). Started in place (`addImmediateTask`), the child runs on the caller's
/// thread up to its first wait: no trip through an executor's queue before the turn's first step. A cancelled
/// caller cancels the child, as for any child task.
func inChildTask<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addImmediateTask(operation: body)
        return try await group.next()!
    }
}
