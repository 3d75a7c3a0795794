import GRDB

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
/// Statements run one at a time on GRDB's serial queue, and their prepared form is cached by SQL text. The
/// queue's thread works through whatever turns have queued back to back, off the tasks' cooperative threads
/// (which must stay free for streaming). sqlite-nio, before, prepared every statement afresh and handed each
/// one to a thread pool, then an event loop, then back to the task.
final class SQLiteConnection: Sendable {
    private let queue: DatabaseQueue

    /// Opens (and creates) the database at `path`, or a private in-memory one for `":memory:"`. A file database
    /// runs in WAL mode with checkpoints left to `WALCheckpointer` when `manualCheckpoints` is set.
    init(path: String, label: String, manualCheckpoints: Bool = false) throws {
        var configuration = Configuration()
        configuration.label = label
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let file = path != ":memory:"
        configuration.prepareDatabase { db in
            guard file else { return }
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            // In WAL mode NORMAL syncs at checkpoints instead of every commit: a crash of Sluice loses nothing,
            // a power cut may lose the last commits, and the database never corrupts. Saves an fsync per write
            // on the path to the first token.
            try db.execute(sql: "PRAGMA synchronous=NORMAL")
            // Checkpoints (and their fsyncs, 10–30 ms here) run beside the writes, not inside whichever write
            // crossed the WAL's size limit while every other turn's statements queued behind it.
            if manualCheckpoints { try db.execute(sql: "PRAGMA wal_autocheckpoint=0") }
        }
        queue = file ? try DatabaseQueue(path: path, configuration: configuration) : try DatabaseQueue(configuration: configuration)
    }

    /// Runs one statement with `binds` for its parameters and returns its rows (those of `RETURNING` too).
    /// `cached: false` for statements whose text is rarely repeated (multi-row inserts).
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = [], cached: Bool = true) async throws -> [SQLiteRow] {
        try await queue.writeWithoutTransaction { db in try Self.run(sql, binds, cached: cached, in: db) }
    }

    /// Runs `body` in one `IMMEDIATE` transaction: committed when it returns, rolled back when it throws. No other
    /// statement of this connection runs in between.
    func transaction(_ body: @escaping @Sendable (Database) throws -> Void) async throws {
        try await queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try body(db)
                return .commit
            }
        }
    }

    /// Runs statements on a connection already held (`transaction`'s body).
    @discardableResult
    static func run(_ sql: String, _ binds: [SQLiteData] = [], cached: Bool = true, in db: Database) throws -> [SQLiteRow] {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let arguments = StatementArguments(binds.map(\.databaseValue))
        return try Row.fetchAll(statement, arguments: arguments).map(SQLiteRow.init)
    }

    /// Runs `sql`, several statements allowed (a checkpoint, a pragma).
    func execute(_ sql: String) async throws {
        try await queue.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    func close() throws {
        try queue.close()
    }
}

extension DatabaseError {
    /// A `UNIQUE`, `NOT NULL`, `CHECK` or foreign-key constraint refused the statement.
    var isConstraintViolation: Bool { resultCode == .SQLITE_CONSTRAINT }
}
