import Foundation
import Logging
import SluiceProcess
import Testing

@testable import SluiceProviders

#if canImport(Glibc)
import Glibc
#endif

/// The record of the llama-server child, and stopping the one an earlier Sluice left running.
struct ChildRecordTests {
    static func record() -> ChildRecord {
        ChildRecord(path: FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString).pid").path)
    }

    /// The pid of a process that has ended (and been reaped).
    static func endedPid() throws -> pid_t {
        let ended = try SpawnedProcess(executable: "/bin/true", arguments: [])
        ended.waitUntilExit()
        return ended.pid
    }

    static let logger = Logger(label: "test")

    @Test("a child whose Sluice is gone is stopped, and the record removed")
    func orphanIsStopped() throws {
        let record = Self.record()
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["300"])
        defer { child.stop(grace: .zero) }
        // As an earlier Sluice that crashed would have left it: its recorded parent no longer runs.
        try "\(child.pid) \(try Self.endedPid())\n".write(toFile: record.path, atomically: true, encoding: .utf8)
        #expect(record.stopLeftover(binary: "/bin/sleep", logger: Self.logger) == child.pid)
        #expect(child.waitUntilExit() == nil)  // ended by a signal
        #expect(!FileManager.default.fileExists(atPath: record.path))
    }

    @Test("a child of a Sluice that still runs, or one running another program, is left alone")
    func othersAreLeftAlone() throws {
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["300"])
        defer { child.stop(grace: .zero) }
        let running = Self.record()
        // This test process is the child's parent and runs: a second Sluice on the same folder finds it in use.
        running.write(child: child.pid)
        #expect(running.stopLeftover(binary: "/bin/sleep", logger: Self.logger) == nil)
        #expect(child.isRunning)
        // The pid now belongs to some other program than the llama-server binary.
        let reused = Self.record()
        try "\(child.pid) \(try Self.endedPid())\n".write(toFile: reused.path, atomically: true, encoding: .utf8)
        #expect(reused.stopLeftover(binary: "/bin/cat", logger: Self.logger) == nil)
        #expect(child.isRunning)
        // A record of a process that has ended, or one that is not a record, is only removed.
        for text in ["\(try Self.endedPid()) 1\n", "garbage", "1 2 3"] {
            let stale = Self.record()
            try text.write(toFile: stale.path, atomically: true, encoding: .utf8)
            #expect(stale.stopLeftover(binary: "/bin/sleep", logger: Self.logger) == nil)
            #expect(!FileManager.default.fileExists(atPath: stale.path))
        }
        #expect(Self.record().stopLeftover(binary: "/bin/sleep", logger: Self.logger) == nil)  // no record at all
        #expect(child.isRunning)
    }
}
