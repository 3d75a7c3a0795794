import Foundation
import Testing

@testable import SluiceProviders

#if canImport(Glibc)
import Glibc
#endif

/// The `posix_spawn` child behind `LlamaServerProcess`: its output, its end, and no descriptor of the parent's.
struct SpawnedProcessTests {
    static func outputFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spawned-\(UUID().uuidString).txt").path
    }

    @Test("the child writes to its output file, and its end is seen and reaped")
    func outputAndExit() throws {
        let output = Self.outputFile()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let child = try SpawnedProcess(executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], outputPath: output)
        child.waitUntilExit()
        #expect(!child.isRunning)
        #expect(kill(child.pid, 0) != 0)  // reaped: not even a zombie is left
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "out\nerr\n")
    }

    @Test("a running child is running until a signal ends it")
    func signal() throws {
        let child = try SpawnedProcess(executable: "/bin/sleep", arguments: ["30"], outputPath: nil)
        #expect(child.isRunning)
        child.send(SIGKILL)
        child.waitUntilExit()
        #expect(!child.isRunning)
    }

    @Test("a descriptor the parent opened without close-on-exec is closed in the child")
    func descriptorsAreNotInherited() throws {
        let output = Self.outputFile()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let descriptor = open("/dev/null", O_RDONLY)
        #expect(descriptor > 2)
        defer { close(descriptor) }
        let child = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", "if [ -e /proc/self/fd/\(descriptor) ]; then echo open; else echo closed; fi"],
            outputPath: output)
        child.waitUntilExit()
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "closed\n")
    }

    @Test("a program that does not exist is an error, not a child")
    func missingProgram() {
        #expect(throws: LocalModelError.self) {
            try SpawnedProcess(executable: "/nonexistent/llama-server", arguments: [], outputPath: nil)
        }
    }
}
