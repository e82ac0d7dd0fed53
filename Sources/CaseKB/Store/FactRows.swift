import GRDB
import Synchronization

/// A case's facts and signature terms laid out as the rows the writer inserts. Built on a worker thread with the
/// rest of a rebuild plan (JSON arrays encoded, call sites parsed, values in column order), so the one writer
/// thread — the bottleneck of a rebuild — only binds values and steps statements.
struct FactRows: Sendable {
    /// One fact row without its case id (the writer binds that first), and the text spans it came from (its
    /// provenance rows, written once its row id is known).
    struct Row: Sendable {
        var values: [SQLValue]
        var spans: [TextSpan] = []
    }

    /// A call stack's row and its frames' rows (`frameWidth` values each, without the stack id).
    struct StackRows: Sendable {
        var row: Row
        var frames: [SQLValue]
    }

    static let frameColumns = ["position", "module", "function", "offset", "address", "is_inline"]

    var bugchecks: [Row] = []
    var stacks: [StackRows] = []
    var poolTags: [Row] = []
    var modules: [Row] = []
    var culprits: [Row] = []
    var recommendations: [Row] = []
    var entities: [Row] = []
    /// The case's signature terms (by kind, term → position), as a lookup reads them back from `signature_terms`:
    /// written as those rows, and handed to the link phase as they are.
    var signatureTerms: SimilarityScorer.CaseTerms?

    init(knowledge k: CaseKnowledge?, signature: CrashSignature?) {
        if let k {
            for (role, list) in [("crash", k.bugchecks), ("mention", k.bugcheckMentions)] {
                for b in list {
                    bugchecks.append(Row(values: [.text(b.code), SQLValue(b.name), .text(KnowledgeBase.json(b.args)), .text(KnowledgeBase.json(b.argMeanings)),
                                                  .text(b.writtenAs), .text(role), .text(KnowledgeBase.json(b.messages))], spans: [b.source]))
                }
            }
            for s in k.stacks {
                var frames: [SQLValue] = []
                frames.reserveCapacity(s.frames.count * FactRows.frameColumns.count)
                for (pos, text) in s.frames.enumerated() {
                    let inline = s.inlineFrames.contains(pos)
                    let f = StackExtractor.parseCallSite(text[...], inline: inline, allowBareModule: true)
                    frames += [SQLValue(pos), SQLValue(f?.module), SQLValue(f?.function), SQLValue(f?.offset.map { Int64(bitPattern: $0) }),
                               SQLValue(f?.address), SQLValue(inline)]
                }
                stacks.append(StackRows(row: Row(values: [.text(s.command), .text(KnowledgeBase.json(s.frames)), .text(KnowledgeBase.json(s.inlineFrames)),
                                                          .text(KnowledgeBase.json(s.messages))], spans: s.sources),
                                        frames: frames))
            }
            for p in k.poolTags {
                poolTags.append(Row(values: [.text(p.tag), SQLValue(p.owner), SQLValue(p.suspect), .text(KnowledgeBase.json(p.blocks)),
                                             .text(KnowledgeBase.json(p.messages))], spans: [p.source]))
            }
            for m in k.modules {
                modules.append(Row(values: [.text(m.name), .text(FrameRules.canonicalModule(m.name)), SQLValue(m.image), SQLValue(m.path),
                                            SQLValue(m.timestamp), SQLValue(m.checksum), SQLValue(m.imageSize), SQLValue(m.fileVersion),
                                            .text(KnowledgeBase.json(m.origins)), SQLValue(m.thirdParty), .text(KnowledgeBase.json(m.messages))],
                                   spans: [m.source]))
            }
            for (rank, c) in k.culpritDetails.enumerated() {
                culprits.append(Row(values: [SQLValue(rank + 1), .text(c.module), .text(FrameRules.canonicalModule(c.module)), .real(c.score),
                                             .text(KnowledgeBase.json(c.evidence))]))
            }
            for r in k.recommendations {
                recommendations.append(Row(values: [SQLValue(r.message), .text(r.action), SQLValue(r.target), .text(r.text)], spans: [r.source]))
            }
            let e = k.entities
            for (kind, values) in [("kb", e.kb), ("error_code", e.errorCodes), ("os_version", e.osVersions), ("machine_model", e.machineModels), ("ndis_filter", e.ndisFilters)] {
                for v in values {
                    entities.append(Row(values: [.text(kind), .text(v), .null], spans: e.sources["\(kind):\(v)"].map { [$0] } ?? []))
                }
            }
            for (key, values) in e.analyzeFields.sorted(by: { $0.key < $1.key }) {   // the same order every run
                for v in values { entities.append(Row(values: [.text("analyze_field"), .text(v), .text(key)])) }
            }
        }
        signatureTerms = signature.map(SimilarityScorer.CaseTerms.init)
    }
}

/// Writes a case's facts into the fact tables (replacing what was there).
enum FactWriter {
    static let factTables = ["bugchecks", "stacks", "pool_tags", "modules", "culprits", "recommendations", "entities", "provenance", "signature_terms"]

    /// Replace a case's facts and signature terms. `fresh`: the case was created by this run and has never had
    /// facts or terms, so there is nothing to delete.
    static func replace(caseID: Int64, rows: FactRows, fresh: Bool = false, db: Database) throws {
        if !fresh {
            for table in factTables {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE case_id = ?").run(in: db) { $0.bind(caseID) }
            }
        }
        // provenance rows and stack frames are written a few statements at a time (`KnowledgeBase.insertRows`)
        var provenance: [SQLValue] = []
        func insert(_ sql: String, table: String, _ list: [FactRows.Row]) throws {
            guard !list.isEmpty else { return }
            let statement = try db.cachedStatement(sql: sql)
            for r in list {
                try statement.run(in: db) { b in
                    b.bind(caseID)
                    for v in r.values { b.bind(v) }
                }
                if r.spans.isEmpty { continue }
                let id = db.lastInsertedRowID
                for s in r.spans {
                    provenance += [.integer(caseID), .text(table), .integer(id), SQLValue(s.message), .text(s.field), SQLValue(s.start), SQLValue(s.end)]
                }
            }
        }
        try insert("INSERT INTO bugchecks(case_id, code, name, args, arg_meanings, written_as, role, messages) VALUES (?,?,?,?,?,?,?,?)",
                   table: "bugchecks", rows.bugchecks)
        if !rows.stacks.isEmpty {
            let insertStack = try db.cachedStatement(sql: "INSERT INTO stacks(case_id, command, frames, inline_frames, messages) VALUES (?,?,?,?,?)")
            var frames: [SQLValue] = []
            for s in rows.stacks {
                try insertStack.run(in: db) { b in
                    b.bind(caseID)
                    for v in s.row.values { b.bind(v) }
                }
                let sid = db.lastInsertedRowID
                var k = 0
                while k < s.frames.count {
                    frames.append(.integer(sid))
                    frames += s.frames[k..<(k + FactRows.frameColumns.count)]
                    k += FactRows.frameColumns.count
                }
                for src in s.row.spans {
                    provenance += [.integer(caseID), .text("stacks"), .integer(sid), SQLValue(src.message), .text(src.field), SQLValue(src.start), SQLValue(src.end)]
                }
            }
            try KnowledgeBase.insertRows("stack_frames", columns: ["stack_id"] + FactRows.frameColumns, frames, db: db)
        }
        try insert("INSERT INTO pool_tags(case_id, tag, owner, suspect, blocks, messages) VALUES (?,?,?,?,?,?)", table: "pool_tags", rows.poolTags)
        try insert("""
            INSERT INTO modules(case_id, name, name_key, image, path, timestamp, checksum, image_size, file_version, origins, third_party, messages)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
            """, table: "modules", rows.modules)
        try insert("INSERT INTO culprits(case_id, rank, module, name_key, score, evidence) VALUES (?,?,?,?,?,?)", table: "culprits", rows.culprits)
        try insert("INSERT INTO recommendations(case_id, position, action, target, text) VALUES (?,?,?,?,?)", table: "recommendations", rows.recommendations)
        try insert("INSERT INTO entities(case_id, kind, value, key) VALUES (?,?,?,?)", table: "entities", rows.entities)
        try KnowledgeBase.insertRows("provenance", columns: ["case_id", "fact_table", "fact_id", "position", "field", "start", "end"], provenance, db: db)
        var terms: [SQLValue] = []
        for (kind, map) in rows.signatureTerms?.byKind ?? [:] {
            for (term, position) in map { terms += [.integer(caseID), .text(kind), .text(term), SQLValue(position)] }
        }
        try KnowledgeBase.insertRows("signature_terms", columns: ["case_id", "kind", "term", "position"], terms, orIgnore: true, db: db)
    }
}

extension KnowledgeBase {
    /// The text of a multi-row insert, by table head and row count (built once: a case's rows come in a handful of sizes).
    private static let multiRowSQL = Mutex<[String: String]>([:])

    /// Insert rows given as `values`, `columns.count` a row in column order, with multi-row statements
    /// (`INSERT … VALUES (…), (…), …`, up to 64 rows each): a case's stack frames, provenance spans and signature
    /// terms cost a few statements, not one a row.
    static func insertRows(_ table: String, columns: [String], _ values: [SQLValue], orIgnore: Bool = false, db: Database) throws {
        let width = columns.count
        guard width > 0, !values.isEmpty else { return }
        precondition(values.count % width == 0, "insertRows: \(values.count) values for \(width) columns")
        let perStatement = 64
        let head = "INSERT " + (orIgnore ? "OR IGNORE " : "") + "INTO \(table)(\(columns.joined(separator: ", "))) VALUES "
        let rows = values.count / width
        var start = 0
        while start < rows {
            let count = min(perStatement, rows - start)
            let key = head + String(count)
            let sql = multiRowSQL.withLock { memo in
                if let s = memo[key] { return s }
                let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ",") + ")"
                let s = head + Array(repeating: tuple, count: count).joined(separator: ",")
                memo[key] = s
                return s
            }
            try db.cachedStatement(sql: sql).run(in: db, values: values[(start * width)..<((start + count) * width)])
            start += count
        }
    }
}
