import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A file naming the llama-server child Sluice started and the Sluice that started it (`"<child> <parent>"`), so
/// that the next start can stop a child an earlier Sluice left running when it crashed or was killed: a child
/// outlives a parent that had no chance to stop it, holds its memory (and the model's) and keeps serving on a
/// port nothing uses. The record is written when a child starts and removed when it is stopped.
struct ChildRecord {
    let path: String

    /// Notes that `child` was started by this process.
    func write(child: pid_t) {
        try? "\(child) \(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Stops the recorded child if it is still running `binary` and the Sluice that started it is gone (it is no
    /// longer the child's parent, or no longer runs); a child of a Sluice still running is left alone. Returns the
    /// pid it stopped. The record is removed either way.
    @discardableResult
    func stopLeftover(binary: String, logger: Logger) -> pid_t? {
        defer { remove() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
        guard numbers.count == 2, numbers[0] > 1, let child = Self.running(numbers[0]) else { return nil }
        let parent = numbers[1]
        guard Self.executable(of: numbers[0]) == URL(fileURLWithPath: binary).resolvingSymlinksInPath().path,
            !(child.parent == parent && Self.running(parent) != nil)
        else { return nil }
        logger.warning(
            "stopping a llama-server an earlier Sluice left running", metadata: ["pid": "\(numbers[0])", "record": "\(path)"])
        kill(numbers[0], SIGTERM)
        let deadline = ContinuousClock.now + .seconds(2)
        while Self.running(numbers[0]) != nil, ContinuousClock.now < deadline { usleep(20_000) }
        if Self.running(numbers[0]) != nil { kill(numbers[0], SIGKILL) }
        return numbers[0]
    }

    /// The process `pid` with its parent's pid, if it runs (a zombie, which has ended, does not).
    static func running(_ pid: pid_t) -> (pid: pid_t, parent: pid_t)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "(comm)": the state (field 3), then the parent's pid (field 4).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, fields[0] != "Z", fields[0] != "X", let parent = pid_t(fields[1]) else { return nil }
        return (pid, parent)
    }

    /// The program `pid` runs, with symbolic links resolved.
    static func executable(of pid: pid_t) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")
    }
}
