#if canImport(Glibc)
import Glibc
#endif
import Logging
import ServiceLifecycle

/// Gives the memory a burst of streams took back to the system once the burst is over.
///
/// glibc's allocator keeps the pages freed by a thousand finished streams for the next burst: Sluice idled at 250 MiB
/// after three waves of 1 000 streams, of which its heap used 33 MB (`malloc_trim(0)` → 127 MiB; docs/benchmarks.md).
/// Every `interval` this looks at the generations: when none runs and at least `burst` ran at once since the last
/// look, it returns the free pages (`malloc_trim`). It never trims while an answer streams — a trim costs page faults
/// when memory is taken again — nor after the turns of a quiet day, whose heap does not grow.
struct IdleMemoryReturner: Service {
    let hub: GenerationHub
    var interval: Duration = .seconds(5)
    /// How many generations at once make a burst worth returning memory after.
    var burst = 32
    /// Returns the allocator's free pages to the system; `true` when it released any.
    var release: @Sendable () -> Bool = Self.trimHeap
    let logger: Logger

    func run() async {
        await periodically(every: interval) { look() }
    }

    /// One look: returns memory when the generations are over and a burst ran since the last look; `true` if it did.
    @discardableResult
    func look() -> Bool {
        let activity = hub.takeActivity()
        guard activity.running == 0, activity.peak >= burst else { return false }
        let released = release()
        logger.debug("returned free memory after a burst", metadata: ["peak_generations": "\(activity.peak)", "released": "\(released)"])
        return true
    }

    /// glibc's `malloc_trim(0)`: every arena's free pages back to the system. `false` where there is no such call.
    static func trimHeap() -> Bool {
        #if canImport(Glibc)
        guard let trim = mallocTrim else { return false }
        return trim(0) == 1
        #else
        return false
        #endif
    }

    #if canImport(Glibc)
    /// Looked up at run time: `malloc.h` is not part of Swift's Glibc module.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim")
        .map { unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self) }
    #endif
}
