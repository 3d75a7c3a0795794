import AsyncHTTPClient
import Foundation
import SluiceProcess

/// A server the load bench starts (the simulator, Sluice, a LiteLLM proxy). Stopped with SIGTERM when the
/// bench ends; its CPU time and memory are read from `/proc` by pid (`ProcessFigures`).
final class BenchProcess {
    let name: String
    private let process: SpawnedProcess

    init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil) throws {
        self.name = name
        process = try SpawnedProcess(executable: executable, arguments: arguments, environment: environment)
    }

    var pid: Int32 { process.pid }

    /// SIGTERM, then SIGKILL if it is still running 5 s later (a proxy may wait for its open streams).
    func stop() {
        process.stop(grace: .seconds(5))
    }

    /// Waits until `url` answers 2xx (or the process exits, or `seconds` pass).
    func waitUntilServing(_ url: String, seconds: Double) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            guard process.isRunning else { throw BenchError("\(name) exited before it served \(url)") }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2)),
                (200..<300).contains(response.status.code)
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("\(name) did not answer \(url) within \(Int(seconds)) s")
    }
}

/// CPU time and resident memory of a process, from `/proc/<pid>`.
enum ProcessFigures {
    /// User plus system CPU time so far, in seconds.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // After "(comm)" come state (field 3), …, utime (14) and stime (15).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident memory now, in MiB.
    static func residentMiB(pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kib = line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
            return kib / 1024
        }
        return 0
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
