import NIOCore
import Synchronization

/// A task executor that runs jobs on one NIO event loop: a streamed answer's tasks preferring the event loop of
/// its client's connection run where that connection's writes happen, so a token handed from the generation to
/// the response and on to the socket stays on one thread instead of crossing Swift's global pool twice.
final class EventLoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    private init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// One executor per event loop, made on first use and kept for the life of the process, as are the loops of
    /// the server's event loop group.
    static func of(_ eventLoop: any EventLoop) -> EventLoopExecutor {
        let key = ObjectIdentifier(eventLoop)
        return made.withLock { made in
            if let executor = made[key] { return executor }
            let executor = EventLoopExecutor(eventLoop)
            made[key] = executor
            return executor
        }
    }

    private static let made = Mutex<[ObjectIdentifier: EventLoopExecutor]>([:])
}
