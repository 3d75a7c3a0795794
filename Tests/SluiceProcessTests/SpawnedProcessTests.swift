import Foundation
import Testing

@testable import SluiceProcess

#if canImport(Glibc)
import Glibc
#endif

/// The `posix_spawn` children behind `LlamaServerProcess` and the benches: output, environment, exit status,
/// ending, and no descriptor of the parent's.
struct SpawnedProcessTests {
    static func outputFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spawned-\(UUID().uuidString).txt").path
    }

    @Test("the child writes to its output file, and its end and exit status are seen and reaped")
    func outputAndExit() throws {
        let output = Self.outputFile()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], output: .file(output))
        #expect(child.waitUntilExit() == 3)
        #expect(!child.isRunning)
        #expect(kill(child.pid, 0) != 0)  // reaped: not even a zombie is left
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "out\nerr\n")
    }

    @Test("a running child is running until a signal ends it, which leaves no exit status")
    func signal() throws {
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["30"])
        #expect(child.isRunning)
        child.send(SIGKILL)
        #expect(child.waitUntilExit() == nil)
        #expect(!child.isRunning)
    }

    @Test("a child of its own process group is out of the parent's; by default it is in it", arguments: [true, false])
    func processGroup(own: Bool) throws {
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["30"], ownProcessGroup: own)
        defer { child.stop(grace: .milliseconds(100)) }
        // posix_spawn returns once the child exists, its group set: no wait is needed.
        #expect(getpgid(child.pid) == (own ? child.pid : getpgrp()))
    }

    @Test("stop ends a child that ignores SIGTERM with SIGKILL after the grace period")
    func stopEscalates() throws {
        let output = Self.outputFile()
        defer { try? FileManager.default.removeItem(atPath: output) }
        // The shell says when its trap is set, so that the SIGTERM cannot arrive before it.
        let child = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", "trap '' TERM; echo ready; while :; do sleep 1; done"], output: .file(output))
        while (try? String(contentsOfFile: output, encoding: .utf8)) != "ready\n" { usleep(10_000) }
        let started = ContinuousClock.now
        child.stop(grace: .milliseconds(300))
        #expect(!child.isRunning)
        #expect(ContinuousClock.now - started >= .milliseconds(300))  // SIGTERM alone did not end it
    }

    @Test("run returns the standard output and the exit status; standard error is not mixed in")
    func runCapturesOutput() throws {
        let result = try SpawnedProcess.run("/bin/sh", ["-c", "printf 'a\\nb'; echo noise >&2; exit 2"])
        #expect(result.status == 2)
        #expect(String(decoding: result.output, as: UTF8.self) == "a\nb")
        let large = try SpawnedProcess.run("/bin/sh", ["-c", "head -c 300000 /dev/zero"])
        #expect(large.status == 0)
        #expect(large.output.count == 300_000)  // more than a pipe's buffer: read while the child writes
    }

    @Test("an environment given replaces the parent's; none given passes the parent's on")
    func environment() throws {
        let given = try SpawnedProcess.run("/usr/bin/env", [], environment: ["ONLY": "this one"])
        #expect(String(decoding: given.output, as: UTF8.self) == "ONLY=this one\n")
        let inherited = try SpawnedProcess.run("/usr/bin/env", [])
        let printed = "\n" + String(decoding: inherited.output, as: UTF8.self)
        let parents = ProcessInfo.processInfo.environment.keys
        #expect(!parents.isEmpty)
        #expect(parents.filter { !printed.contains("\n\($0)=") }.isEmpty)
    }

    @Test("the child starts with no signal blocked or ignored, whatever the spawning thread blocks")
    func signalsAtTheirDefaults() throws {
        // Block SIGUSR1 on this thread only while spawning, as a thread of a server may have signals blocked.
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let result = Result { try SpawnedProcess.run("/bin/grep", ["-E", "^Sig(Blk|Ign):", "/proc/self/status"]) }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        let masks = String(decoding: try result.get().output, as: UTF8.self).split(separator: "\n")
            .compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
        // Signals 1–31; glibc keeps 32 and 33 for itself.
        #expect(masks.count == 2 && masks.allSatisfy { $0 & 0x7fff_ffff == 0 }, "\(masks)")
    }

    @Test("a descriptor the parent opened without close-on-exec is closed in the child")
    func descriptorsAreNotInherited() throws {
        let descriptor = open("/dev/null", O_RDONLY)
        #expect(descriptor > 2)
        defer { close(descriptor) }
        let result = try SpawnedProcess.run(
            "/bin/sh", ["-c", "if [ -e /proc/self/fd/\(descriptor) ]; then echo open; else echo closed; fi"])
        #expect(String(decoding: result.output, as: UTF8.self) == "closed\n")
    }

    @Test("a program that does not exist is an error that names it, not a child")
    func missingProgram() {
        let error = #expect(throws: SpawnError.self) {
            try SpawnedProcess(executable: "/nonexistent/llama-server", arguments: [])
        }
        #expect(error?.description.hasPrefix("could not start /nonexistent/llama-server:") == true)
        #expect(throws: SpawnError.self) { try SpawnedProcess.run("/nonexistent/tool", []) }
    }
}
