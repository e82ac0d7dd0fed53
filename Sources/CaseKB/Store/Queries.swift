import Foundation
import GRDB

/// Filters of `casekb search` and `casekb cases`.
public struct SearchFilters: Sendable {
    public var bugcheck: String?
    public var module: String?
    public var tag: String?
    public var action: String?
    public var since: Date?
    public var until: Date?
    public init(bugcheck: String? = nil, module: String? = nil, tag: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.bugcheck = bugcheck; self.module = module; self.tag = tag; self.action = action; self.since = since; self.until = until
    }

    /// `0x000000D1` from `d1`, `0xD1`, `0x000000d1`, `DRIVER_IRQL_NOT_LESS_OR_EQUAL`.
    public static func normalizeBugcheck(_ s: String) -> String? {
        let t = s.trimmingSpaces()
        if let code = BugcheckTable.shared.codes[t.uppercased()] { return BugcheckTable.format(code) }
        guard let v = Hex.parse(Substring(t)), v <= 0xFFFF_FFFF else { return nil }
        return BugcheckTable.format(UInt32(v))
    }
}

/// One search hit (`casekb search --json` → `results[]`).
public struct SearchHit: Codable, Sendable {
    public var `case`: String
    public var subject: String
    public var message: Int
    public var from: String
    public var sent: String?
    public var snippet: String
    public var score: Double
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(`case`, forKey: .case); try c.encode(subject, forKey: .subject); try c.encode(message, forKey: .message)
        try c.encode(from, forKey: .from); try c.encode(sent, forKey: .sent); try c.encode(snippet, forKey: .snippet); try c.encode(score, forKey: .score)
    }
}

public struct SearchResult: Codable, Sendable {
    public var results: [SearchHit]
    public var total: Int
}

/// One row of `casekb cases --json`.
public struct CaseSummary: Codable, Sendable {
    public var `case`: String
    public var subject: String
    public var firstSent: String?
    public var lastSent: String?
    public var messages: Int
    public var bugchecks: [String]
    public var culprits: [String]
    enum CodingKeys: String, CodingKey { case `case`, subject, messages, bugchecks, culprits; case firstSent = "first_sent"; case lastSent = "last_sent" }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(`case`, forKey: .case); try c.encode(subject, forKey: .subject); try c.encode(firstSent, forKey: .firstSent)
        try c.encode(lastSent, forKey: .lastSent); try c.encode(messages, forKey: .messages); try c.encode(bugchecks, forKey: .bugchecks)
        try c.encode(culprits, forKey: .culprits)
    }
}

public struct Stats: Codable, Sendable {
    public struct Count: Codable, Sendable { public var name: String; public var label: String?; public var cases: Int }
    public var cases: Int
    public var messages: Int
    public var files: Int
    public var attachments: Int
    public var stacks: Int
    public var recommendations: Int
    public var topBugchecks: [Count]
    public var topCulprits: [Count]
    public var databaseBytes: Int
    enum CodingKeys: String, CodingKey {
        case cases, messages, files, attachments, stacks, recommendations
        case topBugchecks = "top_bugchecks", topCulprits = "top_culprits", databaseBytes = "database_bytes"
    }
}

extension KnowledgeBase {
    func filterSQL(_ f: SearchFilters, caseColumn: String, sentColumn: String?) throws -> (String, [DatabaseValueConvertible?]) {
        var sql = ""
        var args: [DatabaseValueConvertible?] = []
        if let b = f.bugcheck {
            guard let code = SearchFilters.normalizeBugcheck(b) else { throw SearchText.QueryError(description: "--bugcheck \(b) is not a bugcheck code or name") }
            sql += " AND \(caseColumn) IN (SELECT case_id FROM bugchecks WHERE code = ? AND role = 'crash')"
            args.append(code)
        }
        if let m = f.module {
            let key = FrameRules.canonicalModule(m)
            sql += " AND \(caseColumn) IN (SELECT case_id FROM modules WHERE name_key = ? UNION SELECT case_id FROM culprits WHERE name_key = ?)"
            args += [key, key]
        }
        if let t = f.tag {
            sql += " AND \(caseColumn) IN (SELECT case_id FROM pool_tags WHERE tag = ?)"
            args.append(t)
        }
        if let a = f.action {
            sql += " AND \(caseColumn) IN (SELECT case_id FROM recommendations WHERE action = ?)"
            args.append(a)
        }
        if let s = f.since, let col = sentColumn { sql += " AND \(col) >= ?"; args.append(KnowledgeBase.millis(s)) }
        if let u = f.until, let col = sentColumn { sql += " AND \(col) < ?"; args.append(KnowledgeBase.millis(u)) }
        return (sql, args)
    }

    /// Ranked full-text search (bm25, subject weighted 5×) with filters; snippets mark the matched words.
    /// `marks` wrap each match in the snippet (`[` `]` by default; the web UI uses private-use characters).
    public func search(_ query: String, filters: SearchFilters = SearchFilters(), limit: Int = 20, offset: Int = 0,
                       marks: (String, String) = ("[", "]"), rankingWindow: Int = KnowledgeBase.rankingWindow) throws -> SearchResult {
        let (match, terms) = try SearchText.matchExpression(query)
        let (filterSQL, filterArgs) = try filterSQL(filters, caseColumn: "m.case_id", sentColumn: "m.sent")
        let filtered = !filterSQL.isEmpty
        let restrict = filtered ? " AND rowid IN (SELECT m.id FROM messages m WHERE 1 = 1" + filterSQL + ")" : ""
        let args = StatementArguments([match] + filterArgs)
        let window = max(rankingWindow, offset + limit)
        // a one-word query without filters: its total is the word's document count, which is also bm25's IDF input
        let oneWord = filtered ? nil : SearchText.singleToken(match)
        var totalCount: BackgroundRead<Int>?
        var rowCount: Int64 = 0
        var page = try pool.read { db -> SearchResult in
            // Rank inside FTS5, then fetch the page's rows. bm25 costs a few microseconds per matching row, so a word
            // found in tens of thousands of messages (蓝屏) is ranked among its newest `rankingWindow` matches only:
            // the page is then the best of the most recent matches, and the total stays exact.
            let bounded = try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM message_fts WHERE message_fts MATCH ?" + restrict + " LIMIT ?)",
                                           arguments: args + [window + 1]) ?? 0
            var newest = ""
            var newestArgs: StatementArguments = []
            var ranking = KnowledgeBase.bm25
            if bounded > window {
                // The exact total walks every match (≈ 5 ms for a word in 60,000 messages, as long as the ranking):
                // it is counted on a second reader while this one ranks the page.
                totalCount = BackgroundRead(pool) { db in
                    // (a database opened read-only before migration 004 has no vocabulary table: count instead)
                    if let oneWord, let docs = try? Int.fetchOne(db, sql: "SELECT doc FROM message_fts_vocab WHERE term = ?", arguments: [oneWord]) {
                        return docs
                    }
                    return try Int.fetchOne(db, sql: "SELECT count(*) FROM message_fts WHERE message_fts MATCH ?" + restrict, arguments: args) ?? 0
                }
                if let threshold = try Int64.fetchOne(db, sql: "SELECT rowid FROM message_fts WHERE message_fts MATCH ?" + restrict + " ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                                                      arguments: args + [window - 1]) {
                    newest = " AND rowid >= ?"
                    newestArgs = [threshold]
                }
                // one word: rank without bm25's own walk of the word's documents (the IDF is applied below)
                if oneWord != nil {
                    ranking = KnowledgeBase.termFrequencyRank
                    rowCount = try Int64.fetchOne(db, sql: "SELECT casekb_fts_rows(message_fts) FROM message_fts WHERE message_fts MATCH ? LIMIT 1",
                                                  arguments: args) ?? 0
                }
            }
            let page = try Row.fetchAll(db, sql: "SELECT rowid AS id, \(ranking) AS rank FROM message_fts WHERE message_fts MATCH ?" + restrict + newest
                                        + " ORDER BY rank, rowid DESC LIMIT ? OFFSET ?", arguments: args + newestArgs + [limit, offset])
            var hits: [SearchHit] = []
            for p in page {
                let id: Int64 = p["id"]
                guard let r = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT c.key, c.subject, m.position, m.from_name, m.from_address, m.sent, m.new_text, m.subject AS msubject
                    FROM messages m JOIN cases c ON c.id = m.case_id WHERE m.id = ?
                    """), arguments: [id]) else { continue }
                let newText: String = r["new_text"]
                var snippet = SearchText.snippet(newText, terms: terms, marks: marks)
                if !SearchText.containsAny(newText, terms: terms) {
                    // matched in the subject or an attachment
                    let subject: String = r["msubject"]
                    if SearchText.containsAny(subject, terms: terms) { snippet = SearchText.snippet(subject, terms: terms, marks: marks) }
                    else if let att = try String.fetchOne(db.cachedStatement(sql: "SELECT group_concat(text, char(10)) FROM attachments WHERE message_id = ?"), arguments: [id]),
                            SearchText.containsAny(att, terms: terms) {
                        snippet = SearchText.snippet(att, terms: terms, marks: marks)
                    }
                }
                // the raw rank for now; made a score below, once a one-word query's IDF is known
                hits.append(SearchHit(case: r["key"], subject: r["subject"], message: r["position"],
                                      from: (r["from_name"] as String?) ?? (r["from_address"] as String?) ?? "(unknown)",
                                      sent: KnowledgeBase.date(r["sent"]).map(MailDate.iso), snippet: snippet, score: p["rank"]))
            }
            return SearchResult(results: hits, total: bounded)
        }
        // joined outside the read, so a search never holds a reader while it waits for another
        if let totalCount { page.total = try totalCount.value() }
        let idf = rowCount > 0 ? TermFrequencyRank.inverseDocumentFrequency(documents: Int64(page.total), rows: rowCount) : 1
        for i in page.results.indices {
            // (−rank · IDF is bm25's own product: the same double, bit for bit)
            let rank = rowCount > 0 ? page.results[i].score * idf : page.results[i].score
            page.results[i].score = (-rank * 1000).rounded() / 1000
        }
        return page
    }

    /// Facet counts for a query: bugchecks and culprits among the cases it matches.
    public func facets(_ query: String, filters: SearchFilters = SearchFilters()) throws -> (bugchecks: [(String, Int)], culprits: [(String, Int)]) {
        let (match, _) = try SearchText.matchExpression(query)
        let (filterSQL, filterArgs) = try filterSQL(filters, caseColumn: "m.case_id", sentColumn: "m.sent")
        return try pool.read { db in
            let cases = "SELECT DISTINCT m.case_id FROM message_fts JOIN messages m ON m.id = message_fts.rowid WHERE message_fts MATCH ?" + filterSQL
            let args = StatementArguments([match] + filterArgs)
            let b = try Row.fetchAll(db, sql: "SELECT code, count(DISTINCT case_id) AS n FROM bugchecks WHERE role = 'crash' AND case_id IN (\(cases)) GROUP BY code ORDER BY n DESC, code LIMIT 10", arguments: args)
                .map { ($0["code"] as String, $0["n"] as Int) }
            let c = try Row.fetchAll(db, sql: "SELECT max(module) AS m, count(DISTINCT case_id) AS n FROM culprits WHERE case_id IN (\(cases)) GROUP BY name_key ORDER BY n DESC, m LIMIT 10", arguments: args)
                .map { ($0["m"] as String, $0["n"] as Int) }
            return (b, c)
        }
    }

    /// The case id for a key or any of its case numbers.
    func caseID(_ key: String, db: Database) throws -> Int64? {
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM cases WHERE key = ?", arguments: [key]) { return id }
        return try Int64.fetchOne(db, sql: "SELECT case_id FROM case_ids WHERE value = ? LIMIT 1", arguments: [key])
    }

    /// A case as stored: its messages and facts (the contract of `casekb show --json`).
    public func show(_ key: String) throws -> (thread: CaseThread, knowledge: CaseKnowledge) {
        try pool.read { db in
            guard let id = try caseID(key, db: db) else { throw StoreError.notFound("no case \(key) in \(path)") }
            guard let c = try Row.fetchOne(db, sql: "SELECT * FROM cases WHERE id = ?", arguments: [id]) else { throw StoreError.notFound("no case \(key)") }
            let ids = try String.fetchAll(db, sql: "SELECT value FROM case_ids WHERE case_id = ?", arguments: [id])
            let orderedIDs = CaseNumberFinder.shared.ordered(ids)
            var messages: [Message] = []
            var facts: [MessageFacts] = []
            for r in try Row.fetchAll(db, sql: """
                SELECT m.*, f.path, f.format FROM messages m JOIN source_files f ON f.id = m.source_file_id WHERE m.case_id = ? ORDER BY m.position
                """, arguments: [id]) {
                let attachments = try Row.fetchAll(db, sql: "SELECT filename, content_type, size, text FROM attachments WHERE message_id = ? ORDER BY id", arguments: [r["id"] as Int64])
                    .map { Attachment(filename: $0["filename"], contentType: $0["content_type"], size: $0["size"], text: $0["text"]) }
                var m = Message(source: SourceLocation(file: r["path"], format: MailFormat(rawValue: r["format"] ?? "eml") ?? .eml, index: r["source_index"], byteOffset: r["byte_offset"]),
                                messageID: r["message_id"], inReplyTo: r["in_reply_to"], references: KnowledgeBase.decode([String].self, r["refs"]) ?? [],
                                from: MailAddress(name: r["from_name"], address: r["from_address"]), sent: KnowledgeBase.date(r["sent"]),
                                subject: r["subject"], body: "", attachments: attachments, isForwardedCopy: r["is_forwarded_copy"])
                // quoted text and signature are split again from the stored body (see Schema/005_quotes_derived.sql)
                m.quoteStartLine = r["quote_start_line"]
                m = m.withBody(r["body"])
                m.newText = r["new_text"]
                messages.append(m)
                facts.append(MessageExtractor().extract(m, index: messages.count))
            }
            let subject: String = c["subject"]
            if !facts.isEmpty { facts[0].entities += MessageExtractor().extract(text: subject, message: 1, field: "subject").entities }
            let thread = CaseThread(key: c["key"], caseIDs: orderedIDs, subject: subject, normalizedSubject: c["normalized_subject"], messages: messages)
            return (thread, CaseKnowledge.build(facts))
        }
    }

    /// Cases, most recently active first.
    public func cases(since: Date? = nil, until: Date? = nil, limit: Int = 50) throws -> [CaseSummary] {
        try pool.read { db in
            var sql = "SELECT id, key, subject, first_sent, last_sent, message_count FROM cases WHERE 1 = 1"
            var args: [DatabaseValueConvertible?] = []
            if let s = since { sql += " AND last_sent >= ?"; args.append(KnowledgeBase.millis(s)) }
            if let u = until { sql += " AND first_sent < ?"; args.append(KnowledgeBase.millis(u)) }
            sql += " ORDER BY last_sent DESC, id DESC LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { r in
                let id: Int64 = r["id"]
                return CaseSummary(case: r["key"], subject: r["subject"],
                                   firstSent: KnowledgeBase.date(r["first_sent"]).map(MailDate.iso), lastSent: KnowledgeBase.date(r["last_sent"]).map(MailDate.iso),
                                   messages: r["message_count"],
                                   bugchecks: try String.fetchAll(db, sql: KnowledgeBase.crashCodesSQL, arguments: [id]),
                                   culprits: try String.fetchAll(db, sql: "SELECT module FROM culprits WHERE case_id = ? ORDER BY rank", arguments: [id]))
            }
        }
    }

    public func stats(top: Int = 10) throws -> Stats {
        let size = sizeOnDisk
        return try pool.read { db in
            func count(_ table: String) throws -> Int { try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
            let bugchecks = try Row.fetchAll(db, sql: """
                SELECT code, max(name) AS name, count(DISTINCT case_id) AS n FROM bugchecks WHERE role = 'crash' GROUP BY code ORDER BY n DESC, code LIMIT ?
                """, arguments: [top]).map { Stats.Count(name: $0["code"], label: $0["name"], cases: $0["n"]) }
            let culprits = try Row.fetchAll(db, sql: """
                SELECT max(module) AS module, count(DISTINCT case_id) AS n, avg(rank) AS r FROM culprits GROUP BY name_key ORDER BY n DESC, r, name_key LIMIT ?
                """, arguments: [top]).map { Stats.Count(name: $0["module"], label: nil, cases: $0["n"]) }
            return Stats(cases: try count("cases"), messages: try count("messages"), files: try count("source_files"), attachments: try count("attachments"),
                         stacks: try count("stacks"), recommendations: try count("recommendations"), topBugchecks: bugchecks, topCulprits: culprits, databaseBytes: size)
        }
    }
}
