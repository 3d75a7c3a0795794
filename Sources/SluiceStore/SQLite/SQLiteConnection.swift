import GRDB
import Synchronization

/// A value bound to one of a statement's parameters.
enum SQLiteData: Sendable {
    case integer(Int)
    case text(String)
    case null

    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .null: .null
        }
    }
}

/// One result row, read by column name (`StoredRow`); a copy of GRDB's `Row`, which may not leave its queue.
struct SQLiteRow: StoredRow, Sendable {
    private let values: [String: DatabaseValue]

    init(_ row: Row) {
        var values: [String: DatabaseValue] = [:]
        values.reserveCapacity(row.count)
        for (column, value) in row where values[column] == nil { values[column] = value }
        self.values = values
    }

    func string(_ column: String) -> String? {
        values[column].flatMap(String.fromDatabaseValue)
    }

    func int(_ column: String) -> Int? {
        values[column].flatMap(Int.fromDatabaseValue)
    }
}

/// One connection to an SQLite database, through GRDB.
///
/// Statements are prepared once and cached by their SQL text, and run on GRDB's serial queue, off the tasks'
/// cooperative threads. Statements that queue up while the connection is busy are run together in one
/// transaction (group commit): what costs in a turn's SQLite time is each commit's WAL writes and file locks,
/// and ten turns starting together then share a commit instead of queuing for ten. Each statement still
/// succeeds or fails on its own (SQLite undoes a failed statement, not the transaction), and a caller is
/// answered only once the commit holding its statement is done.
final class SQLiteConnection: Sendable {
    private let queue: DatabaseQueue

    /// A statement or a transaction waiting for the connection, and its caller.
    private struct Job: Sendable {
        enum Work: Sendable {
            case statement(String, [SQLiteData], cached: Bool)
            case transaction(@Sendable (Database) throws -> [SQLiteRow])
        }
        let work: Work
        let caller: CheckedContinuation<[SQLiteRow], any Error>
    }

    private struct Backlog {
        var jobs: [Job] = []
        /// Whether a drain is scheduled or running on the queue; it takes every job that arrives meanwhile.
        var draining = false
    }

    private let backlog = Mutex(Backlog())
    private let counts = Mutex((groups: 0, jobs: 0))

    /// Commits (a group, or a job alone) and jobs run so far: their ratio is how much grouping saved.
    var committed: (groups: Int, jobs: Int) { counts.withLock { $0 } }

    /// Opens (and creates) the database at `path`, or a private in-memory one for `":memory:"`. A file database
    /// runs in WAL mode with checkpoints left to `WALCheckpointer` when `manualCheckpoints` is set.
    init(path: String, label: String, manualCheckpoints: Bool = false) throws {
        var configuration = Configuration()
        configuration.label = label
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let file = path != ":memory:"
        configuration.prepareDatabase { db in
            // Statement journals and the tables SQLite builds for a query's CTEs stay in memory. By default each is
            // a file that is created, unlinked and closed in /var/tmp: five system calls per budget hold.
            try db.execute(sql: "PRAGMA temp_store=MEMORY")
            guard file else { return }
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            // In WAL mode NORMAL syncs at checkpoints instead of every commit: a crash of Sluice loses nothing,
            // a power cut may lose the last commits, and the database never corrupts. Saves an fsync per write
            // on the path to the first token.
            try db.execute(sql: "PRAGMA synchronous=NORMAL")
            // Checkpoints (and their fsyncs, 10–30 ms here) run beside the writes, not inside whichever write
            // crossed the WAL's size limit while every other turn's statements queued behind it.
            if manualCheckpoints { try db.execute(sql: "PRAGMA wal_autocheckpoint=0") }
            // A log that a burst made large is cut back to 64 MiB when it starts again (it is reused, not
            // truncated, below that: writing over pages the kernel holds is cheaper than growing the file).
            try db.execute(sql: "PRAGMA journal_size_limit=67108864")
        }
        queue = file ? try DatabaseQueue(path: path, configuration: configuration) : try DatabaseQueue(configuration: configuration)
    }

    /// Runs one statement with `binds` for its parameters and returns its rows (those of `RETURNING` too).
    /// `cached: false` for statements whose text is rarely repeated (multi-row inserts).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = [], cached: Bool = true) async throws -> [SQLiteRow] {
        try await submit(.statement(sql, binds, cached: cached))
    }

    /// Runs `body` in one `IMMEDIATE` transaction: committed when it returns, rolled back when it throws. No other
    /// statement of this connection runs in between.
    func transaction(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        _ = try await submit(.transaction { db in
            try body(db)
            return []
        })
    }

    /// `transaction`, returning the rows `body` returns (what a `RETURNING` inside it gave).
    func transactionReturning(_ body: @escaping @Sendable (Database) throws -> [SQLiteRow]) async throws -> [SQLiteRow] {
        try await submit(.transaction(body))
    }

    private func submit(_ work: Job.Work) async throws -> [SQLiteRow] {
        try await withCheckedThrowingContinuation { caller in
            let startDrain = backlog.withLock { backlog in
                backlog.jobs.append(Job(work: work, caller: caller))
                guard !backlog.draining else { return false }
                backlog.draining = true
                return true
            }
            if startDrain { queue.asyncWriteWithoutTransaction { [self] db in drain(db) } }
        }
    }

    /// Runs the backlog in groups until it is empty.
    private func drain(_ db: Database) {
        while true {
            let jobs = backlog.withLock { backlog -> [Job] in
                if backlog.jobs.isEmpty { backlog.draining = false }
                defer { backlog.jobs.removeAll(keepingCapacity: true) }
                return backlog.jobs
            }
            guard !jobs.isEmpty else { return }
            counts.withLock {
                $0.groups += 1
                $0.jobs += jobs.count
            }
            Self.runGroup(jobs, in: db)
        }
    }

    /// One job alone runs as it is; several share one `IMMEDIATE` transaction, a transaction job inside it as a
    /// savepoint. If an error ends the transaction itself (I/O, full disk), every job of the group gets it.
    private static func runGroup(_ jobs: [Job], in db: Database) {
        if jobs.count == 1, let job = jobs.first {
            job.caller.resume(with: Result { try perform(job.work, in: db, grouped: false) })
            return
        }
        var results: [Result<[SQLiteRow], any Error>] = []
        do {
            try Bracket.transaction.open(db)
            for job in jobs {
                results.append(Result { try perform(job.work, in: db, grouped: true) })
                if case .failure(let error) = results.last, !db.isInsideTransaction { throw error }
            }
            try Bracket.transaction.close(db)
        } catch {
            Bracket.transaction.undo(db)
            for job in jobs { job.caller.resume(throwing: error) }
            return
        }
        for (job, result) in zip(jobs, results) { job.caller.resume(with: result) }
    }

    private static func perform(_ work: Job.Work, in db: Database, grouped: Bool) throws -> [SQLiteRow] {
        switch work {
        case .statement(let sql, let binds, let cached):
            return try run(sql, binds, cached: cached, in: db)
        case .transaction(let body) where grouped:
            return try Bracket.savepoint.around(body, in: db)
        case .transaction(let body):
            return try Bracket.transaction.around(body, in: db)
        }
    }

    /// The statements that open and close a transaction or a savepoint, run through the statement cache: GRDB's
    /// `inTransaction`, `inSavepoint`, `beginTransaction` and `commit` compile theirs again on every call, which
    /// cost as much as a turn's inserts. GRDB still sees each one (it tracks transactions and savepoints by
    /// what a statement does, not by how it was run).
    private enum Bracket {
        case transaction, savepoint

        var begin: String { self == .transaction ? "BEGIN IMMEDIATE TRANSACTION" : "SAVEPOINT job" }
        var end: String { self == .transaction ? "COMMIT TRANSACTION" : "RELEASE SAVEPOINT job" }

        func open(_ db: Database) throws { try db.cachedStatement(sql: begin).execute() }
        func close(_ db: Database) throws { try db.cachedStatement(sql: end).execute() }

        /// Undoes what was done since `open` and leaves the transaction or savepoint, if it is still open.
        func undo(_ db: Database) {
            guard db.isInsideTransaction else { return }
            switch self {
            case .transaction:
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute()
            case .savepoint:
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT job").execute()
                try? db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            }
        }

        func around(_ body: (Database) throws -> [SQLiteRow], in db: Database) throws -> [SQLiteRow] {
            try open(db)
            do {
                let rows = try body(db)
                try close(db)
                return rows
            } catch {
                undo(db)
                throw error
            }
        }
    }

    /// Runs statements on a connection already held (`transaction`'s body).
    @discardableResult
    static func run(_ sql: String, _ binds: [SQLiteData] = [], cached: Bool = true, in db: Database) throws -> [SQLiteRow] {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        // Every caller binds exactly the statement's parameters, in order: GRDB's check runs in debug builds (the
        // tests) only.
        let arguments = StatementArguments(binds.map(\.databaseValue))
        assert((try? statement.validateArguments(arguments)) != nil, "\(binds.count) values for the parameters of \(sql)")
        statement.setUncheckedArguments(arguments)
        // Most statements return no rows (an insert, an update without RETURNING): run them without a cursor.
        guard statement.columnCount > 0 else {
            try statement.execute()
            return []
        }
        return try Row.fetchAll(statement).map(SQLiteRow.init)
    }

    /// A `PASSIVE` checkpoint on this connection, between two of its groups: how many frames the log holds and
    /// how many of them are now in the database file.
    func checkpoint() async throws -> (logFrames: Int, copiedFrames: Int) {
        let result = try await queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        return (result.walFrameCount, result.checkpointedFrameCount)
    }

    /// Starts a fully copied log again from its beginning with a write of its own — the database header's
    /// `user_version`, set to what it is — so that the fsync SQLite gives a restarted log's header is paid by this
    /// job rather than by the next request's commit. SQLite restarts the log only inside a write transaction
    /// that finds every frame copied and no reader on the log; otherwise this appends one frame and the log
    /// starts again at a later round.
    ///
    /// Like `checkpoint()`, it runs between two groups without being one (`committed` counts requests' writes).
    func startLogAgain() async throws {
        try await queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                try db.execute(sql: "PRAGMA user_version = \(version)")
                return .commit
            }
        }
    }

    func close() throws {
        try queue.close()
    }
}

extension DatabaseError {
    /// A `UNIQUE`, `NOT NULL`, `CHECK` or foreign-key constraint refused the statement.
    var isConstraintViolation: Bool { resultCode == .SQLITE_CONSTRAINT }
}
