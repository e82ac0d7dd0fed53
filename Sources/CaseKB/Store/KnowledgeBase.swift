import Foundation
import GRDB
import CSQLiteSetup

/// The SQLite knowledge base (GRDB, WAL): opening and migrating it, and the shared helpers of ingest and queries.
public final class KnowledgeBase: @unchecked Sendable {
    public let path: String
    public let pool: DatabasePool

    public enum StoreError: Error, CustomStringConvertible {
        case schemaMissing
        case notFound(String)
        public var description: String {
            switch self {
            case .schemaMissing: return "casekb's schema files are missing from the installed resources"
            case .notFound(let what): return what
            }
        }
    }

    /// The database path: `--db`, else `$CASEKB_DB`, else `./casekb.sqlite`.
    public static func defaultPath(_ explicit: String?) -> String {
        if let e = explicit, !e.isEmpty { return e }
        if let env = ProcessInfo.processInfo.environment["CASEKB_DB"], !env.isEmpty { return env }
        return "casekb.sqlite"
    }

    /// The numbered migration files of `Schema/`, in order.
    static func migrations() throws -> [(name: String, sql: String)] {
        guard let dir = Bundle.module.url(forResource: "Schema", withExtension: nil) else { throw StoreError.schemaMissing }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        guard !names.isEmpty else { throw StoreError.schemaMissing }
        return try names.map { ($0, try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8)) }
    }

    /// SQLite's process-wide settings, made once, before this process opens its first connection: memory statistics
    /// off, so SQLite's allocations stop taking a global mutex (2–3 % of an ingest's CPU, measured with perf), and
    /// statement journals in memory instead of temporary files (see `casekb_sqlite_configure`).
    static let sqliteConfigured: Bool = casekb_sqlite_configure() == 0

    /// Whether SQLite still keeps memory statistics in this process (it does when something opened SQLite before the
    /// first knowledge base). Reported by `CASEKB_TIMINGS=1 casekb ingest`.
    public static var sqliteMemoryStatisticsEnabled: Bool { casekb_sqlite_memory_statistics_enabled() != 0 }

    /// Open (creating and migrating as needed). `readOnly` opens without migrating, for servers and queries.
    public init(path: String, readOnly: Bool = false) throws {
        _ = KnowledgeBase.sqliteConfigured
        self.path = path
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.readonly = readOnly
        // a lock held for a moment by another process (a reader opening the file while a first ingest switches it to
        // WAL and migrates it, another ingest committing) is waited out, not reported as an error at once
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA cache_size = -32000")
            try TermFrequencyRank.register(db)
        }
        if readOnly && !FileManager.default.fileExists(atPath: path) {
            throw StoreError.notFound("no knowledge base at \(path): run `casekb ingest` first, or pass --db")
        }
        pool = try DatabasePool(path: path, configuration: config)
        if readOnly {
            let migrated = try pool.read { db in try db.tableExists("grdb_migrations") && db.tableExists("messages") }
            if !migrated { throw StoreError.notFound("\(path) is not a casekb knowledge base (run `casekb ingest` first)") }
        } else {
            // indexes a killed first import left suspended come back before anything else reads or migrates
            _ = try pool.write { db in try KnowledgeBase.restoreSuspendedIndexes(db) }
            var migrator = DatabaseMigrator()
            for m in try KnowledgeBase.migrations() {
                migrator.registerMigration(m.name) { db in try db.execute(sql: m.sql) }
            }
            try migrator.migrate(pool)
        }
    }

    /// Indexes over keys that arrive in random order (times, thread keys, module names, entity values), which a first
    /// import builds once, sorted, after filling their tables, instead of row by row (each row-by-row insert lands on
    /// a random page of the index). No query of the import itself reads them: it keeps thread keys in memory
    /// (`FreshRunIndex`), and linking reads none of them. (The signature-term index is kept: linking needs it at
    /// once, and building it there would keep one core idle; filled row by row it costs less.)
    static let bulkLoadedIndexes = bulkLoadedMessageIndexes + ["modules_name", "culprits_name", "pool_tags_tag",
                                                              "entities_value", "case_ids_value"]
    /// The ones over messages, complete once the messages are stored: built while the case rebuild is planned.
    static let bulkLoadedMessageIndexes = ["messages_sent", "message_keys_key"]

    /// Drop `names` until `restoreSuspendedIndexes`, keeping each one's `CREATE INDEX` statement in `kb_meta`, in the
    /// same transaction: however a run ends, the next open (or the run itself) recreates exactly what was dropped.
    static func suspendIndexes(_ names: [String], db: Database) throws {
        for name in names {
            guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", arguments: [name]) else { continue }
            try db.execute(sql: "INSERT OR REPLACE INTO kb_meta(key, value) VALUES (?, ?)", arguments: [suspendedIndexKey + name, sql])
            try db.execute(sql: "DROP INDEX " + name.quotedDatabaseIdentifier)
        }
    }

    static let suspendedIndexKey = "suspended_index:"
    /// The page cache (and so the sort memory) while suspended indexes are built: 8 MB.
    static let sortingCacheSize = -8000

    /// Recreate the indexes `suspendIndexes` dropped (when none are: one lookup), or those of them in `only`.
    /// Returns how many it recreated.
    @discardableResult
    static func restoreSuspendedIndexes(_ db: Database, only: [String]? = nil) throws -> Int {
        guard try db.tableExists("kb_meta") else { return 0 }
        let suspended = try Row.fetchAll(db, sql: "SELECT key, value FROM kb_meta WHERE key LIKE ? ORDER BY key", arguments: [suspendedIndexKey + "%"])
            .map { row -> (key: String, name: String, sql: String) in
                let key: String = row[0]
                return (key, String(key.dropFirst(suspendedIndexKey.count)), row[1])
            }
            .filter { only?.contains($0.name) ?? true }
        guard !suspended.isEmpty else { return 0 }
        // SQLite sorts an index's keys in as much memory as the page cache may take: a smaller cache while the
        // indexes are built sorts in runs through a temporary file instead of raising the peak memory of an ingest
        let cacheSize = try Int.fetchOne(db, sql: "PRAGMA cache_size")
        if cacheSize != nil { try db.execute(sql: "PRAGMA cache_size = \(sortingCacheSize)") }
        defer { if let cacheSize { try? db.execute(sql: "PRAGMA cache_size = \(cacheSize)") } }
        for (key, name, sql) in suspended {
            let exists = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?)", arguments: [name]) ?? false
            if !exists { try db.execute(sql: sql) }
            try db.execute(sql: "DELETE FROM kb_meta WHERE key = ?", arguments: [key])
        }
        return suspended.count
    }

    /// A read-only connection fixed on the database as it is now, for one worker thread of a long read-mostly phase
    /// (planning or linking cases). Its page cache is small: a worker reads each case once, so a large cache would
    /// only hold pages it will not read again.
    func workerSnapshot() throws -> DatabaseSnapshot {
        let snapshot = try pool.makeSnapshot()
        try snapshot.read { db in try db.execute(sql: "PRAGMA cache_size = -4000") }
        return snapshot
    }

    /// A database error as one plain line, without SQL.
    public static func describe(_ error: any Error) -> String {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED: return "the knowledge base is busy (another writer holds it); try again"
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the knowledge base file is damaged or not a SQLite database"
            case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN: return "cannot open or write the knowledge base file (permissions or path)"
            case .SQLITE_FULL: return "the disk is full"
            default: return "database error: \(e.message ?? "code \(e.resultCode.rawValue)")"
            }
        }
        return "\(error)"
    }

    /// Size of the database file and its WAL, in bytes.
    public var sizeOnDisk: Int {
        [path, path + "-wal"].reduce(0) { $0 + (((try? FileManager.default.attributesOfItem(atPath: $1)[.size]) as? Int) ?? 0) }
    }

    static let encoder: JSONEncoder = { let e = JSONEncoder(); e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]; return e }()
    /// A case's crash bugcheck codes, each once, in the order first stored (the order a signature lists them in).
    static let crashCodesSQL = "SELECT code FROM bugchecks WHERE case_id = ? AND role = 'crash' GROUP BY code ORDER BY min(id)"

    static func json<T: Encodable>(_ v: T) -> String { (try? String(decoding: encoder.encode(v), as: UTF8.self)) ?? "null" }
    static func decode<T: Decodable>(_ type: T.Type, _ s: String) -> T? { try? JSONDecoder().decode(type, from: Data(s.utf8)) }

    // The arrays written with every fact row (arguments, message lists, frames) are encoded by hand: JSONEncoder
    // was half the cost of rebuilding a case. Same output as the encoder (RFC 8259 escapes, `/` not escaped).
    static func json(_ v: [String]) -> String {
        var out = "["
        out.reserveCapacity(v.reduce(2) { $0 + $1.utf8.count + 3 })
        for (k, s) in v.enumerated() { if k > 0 { out += "," }; appendJSONString(s, to: &out) }
        return out + "]"
    }

    static func json(_ v: [String?]) -> String {
        var out = "["
        for (k, s) in v.enumerated() {
            if k > 0 { out += "," }
            if let s { appendJSONString(s, to: &out) } else { out += "null" }
        }
        return out + "]"
    }

    /// `!pool` blocks as the encoder writes them (keys sorted).
    static func json(_ v: [PoolBlock]) -> String {
        var out = "["
        for (k, b) in v.enumerated() {
            if k > 0 { out += "," }
            out += "{\"address\":"; appendJSONString(b.address, to: &out)
            out += ",\"allocated\":" + (b.allocated ? "true" : "false")
            out += ",\"size\":"; appendJSONString(b.size, to: &out)
            out += ",\"starred\":" + (b.starred ? "true" : "false")
            out += ",\"tag\":"; appendJSONString(b.tag, to: &out)
            out += "}"
        }
        return out + "]"
    }

    static func json(_ v: [Int]) -> String { "[" + v.map(String.init).joined(separator: ",") + "]" }

    static func appendJSONString(_ s: String, to out: inout String) {
        out += "\""
        if !ByteText.withBytes(s, { p in p.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C } }) {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
                }
            }
        }
        out += "\""
    }

    static func millis(_ d: Date?) -> Int64? { d.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } }
    static func date(_ ms: Int64?) -> Date? { ms.map { Date(timeIntervalSince1970: Double($0) / 1000) } }
}

extension KnowledgeBase {
    /// How many of a query's newest matches are ranked when it matches more (see `search`).
    public static let rankingWindow = 1000

    /// The ranking function: bm25 with the subject weighted 5× and attachments 0.5× (the schema's `rank` setting).
    static let bm25 = "bm25(message_fts, 5.0, 1.0, 0.5)"
    /// bm25 with the same weights, less the IDF factor, for one-word queries (`TermFrequencyRank`).
    static let termFrequencyRank = "casekb_tf(message_fts, 5.0, 1.0, 0.5)"

    /// A stored message's facts, extracted again from its new text and text attachments (as at ingest: the stored
    /// text is already redacted, so the facts are the same).
    static func extractFacts(messageID: Int64, newText: String, db: Database) throws -> MessageFacts {
        let extractor = MessageExtractor()
        var f = extractor.extract(text: newText, message: 1, field: "new_text")
        for a in try Row.fetchAll(db.cachedStatement(sql: "SELECT filename, text FROM attachments WHERE message_id = ? AND text IS NOT NULL ORDER BY id"), arguments: [messageID]) {
            let name: String? = a["filename"]
            f.append(extractor.extract(text: a["text"], message: 1, field: "attachment:" + (name ?? "attachment")))
        }
        return f
    }
}
