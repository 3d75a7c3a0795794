import Foundation

/// Resolves a setting from its flag, then its environment variable, then a default; a bad value stops start-up
/// with one line that names the setting.
struct SettingResolver {
    let environment: [String: String]

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    func string(_ flag: String?, env: String, default fallback: String?) -> String? {
        if let flag { return flag }
        if let value = environment[env], !value.isEmpty { return value }
        return fallback
    }

    func port(_ flag: Int?, env: String, default fallback: Int) throws -> Int {
        if let flag {
            guard (0...65535).contains(flag) else { throw SettingError("--port \(flag) is not a port number (0-65535)") }
            return flag
        }
        guard let raw = environment[env], !raw.isEmpty else { return fallback }
        guard let value = Int(raw), (0...65535).contains(value) else {
            throw SettingError("\(env)='\(raw)' is not a port number (0-65535)")
        }
        return value
    }

    func milliseconds(_ flag: Int?, env: String, default fallback: Int, name: String) throws -> Duration {
        if let flag {
            guard flag > 0 else { throw SettingError("\(name) must be a positive number of milliseconds") }
            return .milliseconds(flag)
        }
        guard let raw = environment[env], !raw.isEmpty else { return .milliseconds(fallback) }
        guard let value = Int(raw), value > 0 else {
            throw SettingError("\(env)='\(raw)' must be a positive number of milliseconds")
        }
        return .milliseconds(value)
    }

    func positiveInt(_ flag: Int?, env: String, name: String) throws -> Int? {
        if let flag {
            guard flag > 0 else { throw SettingError("\(name) must be a positive whole number") }
            return flag
        }
        guard let raw = environment[env], !raw.isEmpty else { return nil }
        guard let value = Int(raw), value > 0 else { throw SettingError("\(env)='\(raw)' must be a positive whole number") }
        return value
    }

    /// A whole number ≥ 0.
    func count(_ flag: Int?, env: String, default fallback: Int, name: String) throws -> Int {
        if let flag {
            guard flag >= 0 else { throw SettingError("\(name) must be 0 or more") }
            return flag
        }
        guard let raw = environment[env], !raw.isEmpty else { return fallback }
        guard let value = Int(raw), value >= 0 else { throw SettingError("\(env)='\(raw)' must be a whole number, 0 or more") }
        return value
    }

    /// A repeatable flag's values, or else the comma-separated values of `env`.
    func list(_ flags: [String], env: String) -> [String] {
        guard flags.isEmpty else { return flags }
        return (environment[env] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func upstreamURL(_ flag: String?, env: String) throws -> String? {
        guard let value = string(flag, env: env, default: nil) else { return nil }
        guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw SettingError("upstream (--upstream / \(env)) '\(value)' is not an http(s) URL such as http://127.0.0.1:8081/v1")
        }
        return value
    }
}

/// A start-up setting that cannot be used; printed as one line.
struct SettingError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard output unbuffered, so that scripts waiting for it see it at once.
enum Console {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Whether standard output goes to systemd's journal: systemd names the journal's stream in `JOURNAL_STREAM`
    /// (`device:inode`), which is standard output's own when it was not redirected elsewhere (systemd.exec(5)).
    /// What is written there is a log, kept and readable by more than the user who started Sluice.
    static var outputIsJournal: Bool {
        guard let named = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        var status = stat()
        guard fstat(STDOUT_FILENO, &status) == 0 else { return false }
        return named == "\(status.st_dev):\(status.st_ino)"
    }
}
