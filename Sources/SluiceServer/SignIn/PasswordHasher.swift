import Hummingbird
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// Hashes and checks passwords with bcrypt (hummingbird-auth's `Bcrypt`), on NIO's blocking thread pool: a hash at
/// cost 12 takes a few hundred milliseconds of one core, which must not hold a cooperative thread of the tasks. At most
/// `PasswordWork.limit` hashes and checks are under way or waiting for a thread at once; past that a sign-in is
/// answered `503 sign_in_busy` at once, so that a flood of sign-ins (made-up names from many addresses) cannot build
/// a queue of minutes, with a connection and a task held for each.
public struct PasswordHasher: Sendable {
    /// bcrypt's cost (log₂ of its rounds): 12 by default, as Open WebUI's passlib and Django use; tests use 4, the least.
    public let cost: UInt8
    /// Checked against when the name is unknown, so that the answer takes as long as for a known name (a quick
    /// "wrong" would tell which names exist): a well-formed hash of this cost, whose result is thrown away.
    private let decoy: String
    let work: PasswordWork

    /// `concurrentLimit`: hashes and checks under way or waiting at once (32 by default: at cost 12 on two cores, the
    /// last of them waits about 4 s).
    public init(cost: UInt8 = 12, concurrentLimit: Int = 32) {
        self.cost = cost
        decoy = "$2b$" + (cost < 10 ? "0" : "") + "\(cost)$" + String(repeating: "A", count: 53)
        work = PasswordWork(limit: concurrentLimit)
    }

    /// The password's bcrypt hash, with its salt and cost in it.
    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await work.run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` is the one `hash` was made from; with no hash (unknown user, or one without a password),
    /// `false` after as long as a real check takes.
    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        guard let hash else {
            let decoy = decoy
            _ = try await work.run { Bcrypt.verify(password, hash: decoy) }
            return false
        }
        return try await work.run { Bcrypt.verify(password, hash: hash) }
    }
}

/// The bcrypt work under way or waiting for one of NIO's blocking threads, bounded by `limit`.
final class PasswordWork: Sendable {
    let limit: Int
    private let inFlight = Mutex(0)

    init(limit: Int) { self.limit = limit }

    /// Runs `body` on the blocking thread pool, or refuses at once with `503 sign_in_busy` while `limit` are in flight.
    func run<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async throws -> Result {
        try enter()
        defer { leave() }
        return try await NIOThreadPool.singleton.runIfActive(body)
    }

    func enter() throws {
        let admitted = inFlight.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else {
            var error = APIError(
                .serviceUnavailable, code: "sign_in_busy",
                message: "Many sign-ins are being checked right now. Try again in a few seconds.")
            error.headers[.retryAfter] = "2"
            throw error
        }
    }

    func leave() { inFlight.withLock { $0 -= 1 } }

    /// How many are in flight now.
    var count: Int { inFlight.withLock { $0 } }
}

/// What a password must be.
public enum PasswordRule {
    /// bcrypt reads no more than 72 bytes: a longer password would match any other with the same first 72.
    static let maxBytes = 72
    static let minCharacters = 8

    /// Why `password` cannot be `name`'s, in words for the person choosing it; `nil` when it can. Besides its length,
    /// what NIST SP 800-63B says to refuse that a rule can know without a list of leaked passwords: the user's name,
    /// the service's or "password" with only digits and symbols around it ("ann2024!" for ann, "Password1"; "ann's long
    /// passphrase" is a password), one character over and over, and a run such as "12345678".
    public static func problem(with password: String, for name: String?) -> String? {
        if password.count < minCharacters { return "A password must be at least \(minCharacters) characters long." }
        if password.utf8.count > maxBytes { return "A password may be at most \(maxBytes) bytes long (bcrypt reads no more)." }
        if password.allSatisfy(\.isWhitespace) { return "A password cannot be only spaces." }
        let folded = password.lowercased()
        if let name = name?.lowercased(), isDecorated(name, in: folded) {
            return "A password cannot be the user's name with digits or symbols added: anyone who knows the name tries those first."
        }
        if let word = ["password", "sluice"].first(where: { isDecorated($0, in: folded) }) {
            return "A password cannot be \"\(word)\" with digits or symbols added: it is among the first tried."
        }
        if Set(folded).count == 1 { return "A password cannot be one character over and over." }
        if isRun(folded) { return "A password cannot be a run of characters such as 12345678 or abcdefgh." }
        return nil
    }

    /// Whether `text` is `word` (three characters or more), once or more, with nothing but digits and symbols besides.
    private static func isDecorated(_ word: String, in text: String) -> Bool {
        word.count >= 3 && text.contains(word) && !text.replacingOccurrences(of: word, with: "").contains(where: \.isLetter)
    }

    /// Each character one after (or each one before) the last: "12345678", "hgfedcba".
    private static func isRun(_ text: String) -> Bool {
        let values = text.unicodeScalars.map { Int($0.value) }
        let steps = Set(zip(values, values.dropFirst()).map { $1 - $0 })
        return steps == [1] || steps == [-1]
    }

    /// `password` for `name`, or `400 weak_password` saying why it cannot be one.
    static func checked(_ password: String, for name: String?) throws -> String {
        if let problem = problem(with: password, for: name) { throw APIError(.badRequest, code: "weak_password", message: problem) }
        return password
    }
}
