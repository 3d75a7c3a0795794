import Foundation
import SluiceProviders
import Testing

@Suite("The llama-server supervisor")
struct LlamaServerProcessTests {
    @Test("a missing binary or model fails at once with a message naming the path")
    func missingFiles() async throws {
        let missingBinary = LlamaServerProcess(binary: "/nonexistent/llama-server", modelPath: "/tmp")
        await #expect(throws: LocalModelError.self) { _ = try await missingBinary.start() }
        do {
            _ = try await missingBinary.start()
        } catch {
            #expect(String(describing: error).contains("/nonexistent/llama-server"))
        }
        let missingModel = LlamaServerProcess(binary: "/bin/sh", modelPath: "/nonexistent/model.gguf")
        do {
            _ = try await missingModel.start()
            Issue.record("start should fail")
        } catch {
            #expect(String(describing: error).contains("/nonexistent/model.gguf"))
        }
    }

    @Test("a child that exits during start-up is reported, not waited on until the timeout")
    func childExitsEarly() async throws {
        // /bin/false ignores the llama-server arguments and exits at once.
        let process = LlamaServerProcess(binary: "/bin/false", modelPath: "/dev/null")
        let started = ContinuousClock.now
        do {
            _ = try await process.start(timeout: .seconds(120))
            Issue.record("start should fail")
        } catch {
            #expect(String(describing: error).contains("exited"))
        }
        // Far below the start-up timeout, with room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(!process.isRunning)
    }

    @Test("free ports are distinct and bindable")
    func freePorts() async throws {
        let first = try await LlamaServerProcess.freePort(host: "127.0.0.1")
        #expect(first > 0)
    }
}

import Logging
import ServiceLifecycle

@Suite("Supervising the real llama-server", .enabled(if: ProcessInfo.processInfo.environment["SLUICE_LLAMA_SERVER"] != nil && ProcessInfo.processInfo.environment["SLUICE_LOCAL_MODEL"] != nil), .serialized)
struct LlamaServerSupervisionTests {
    static func make() -> LlamaServerProcess {
        let environment = ProcessInfo.processInfo.environment
        return LlamaServerProcess(binary: environment["SLUICE_LLAMA_SERVER"]!, modelPath: environment["SLUICE_LOCAL_MODEL"]!)
    }

    @Test("a graceful shutdown of the service group stops the child")
    func gracefulShutdownStopsChild() async throws {
        let llama = Self.make()
        _ = try await llama.start()
        let pid = try #require(llama.processIdentifier)
        let group = ServiceGroup(services: [llama], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!llama.isRunning)
        #expect(kill(pid, 0) != 0)  // no such process any more
    }

    @Test("if the child dies on its own, run() throws so that Sluice does not serve a dead upstream")
    func childDeathIsAnError() async throws {
        let llama = Self.make()
        _ = try await llama.start()
        let pid = try #require(llama.processIdentifier)
        kill(pid, SIGKILL)
        await #expect(throws: LocalModelError.self) { try await llama.run() }
    }
}
