import GRDB
import GRDBSQLite

/// One value for a hot insert, bound straight to SQLite. GRDB's `StatementArguments` boxes every value as an
/// existential and converts it to a `DatabaseValue` first: on the ingest's ~300k rows per 18k messages that was a
/// third of the time spent in multi-row inserts. Rows made of these are plain enums, cheap to build and to bind.
enum SQLValue: Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    init(_ v: Int64?) { self = v.map { .integer($0) } ?? .null }
    init(_ v: Int?) { self = v.map { .integer(Int64($0)) } ?? .null }
    init(_ v: Bool?) { self = v.map { .integer($0 ? 1 : 0) } ?? .null }
    init(_ v: Double?) { self = v.map { .real($0) } ?? .null }
    init(_ v: String?) { self = v.map { .text($0) } ?? .null }
}

/// Binds values to a prepared statement's parameters in order (`?1`, `?2`, …).
struct ParameterBinder {
    fileprivate let statement: SQLiteStatement
    fileprivate var index: Int32 = 1
    fileprivate var failure: Int32 = SQLITE_OK

    /// SQLite copies bound text before the call returns (Swift strings need not outlive it).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    mutating func bind(_ value: SQLValue) {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(statement, index)
        case .integer(let v): rc = sqlite3_bind_int64(statement, index, v)
        case .real(let v): rc = sqlite3_bind_double(statement, index, v)
        case .text(var s):
            rc = s.withUTF8 { p in
                // an empty buffer may have no address, and a NULL pointer would bind NULL, not ''
                p.isEmpty ? sqlite3_bind_text(statement, index, "", 0, ParameterBinder.transient)
                          : sqlite3_bind_text(statement, index, p.baseAddress, Int32(p.count), ParameterBinder.transient)
            }
        }
        if rc != SQLITE_OK, failure == SQLITE_OK { failure = rc }
        index += 1
    }

    mutating func bind(_ v: Int64?) { bind(SQLValue(v)) }
    mutating func bind(_ v: Int?) { bind(SQLValue(v)) }
    mutating func bind(_ v: Bool?) { bind(SQLValue(v)) }
    mutating func bind(_ v: Double?) { bind(SQLValue(v)) }
    mutating func bind(_ v: String?) { bind(SQLValue(v)) }
}

extension Statement {
    /// Execute a statement that returns no rows, its parameters bound by `bind` (in order). For the ingest's
    /// per-row inserts and updates; errors are GRDB's `DatabaseError`s, as `execute(arguments:)` throws.
    func run(in db: Database, _ bind: (inout ParameterBinder) -> Void) throws {
        let statement = sqliteStatement
        sqlite3_reset(statement)
        var binder = ParameterBinder(statement: statement)
        bind(&binder)
        if binder.failure != SQLITE_OK {
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: binder.failure), message: "could not bind parameter \(binder.index - 1)", sql: sql)
        }
        var rc = sqlite3_step(statement)
        while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
        if rc != SQLITE_DONE {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message, sql: sql)
        }
        sqlite3_reset(statement)
    }

    /// Execute with `values` bound in order.
    func run(in db: Database, values: some Sequence<SQLValue>) throws {
        try run(in: db) { b in for v in values { b.bind(v) } }
    }
}
