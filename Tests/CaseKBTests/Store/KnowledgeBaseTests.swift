import Foundation
import GRDB
import Testing
@testable import CaseKB

@Suite("Knowledge base")
struct KnowledgeBaseTests {
    func counts(_ kb: KnowledgeBase) throws -> [String: Int] {
        try kb.pool.read { db in
            var out: [String: Int] = [:]
            for t in ["cases", "messages", "source_files", "attachments", "bugchecks", "stacks", "recommendations", "message_keys", "case_ids"] {
                out[t] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(t)") ?? -1
            }
            // FTS rows of a contentless table: count the docsize shadow table
            out["fts"] = try Int.fetchOne(db, sql: "SELECT count(*) FROM message_fts_docsize") ?? -1
            return out
        }
    }

    @Test("a reader holding the new file for a moment does not fail the first ingest's open: the lock is waited out")
    func lockWaitedOut() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("kb.sqlite").path
        // another connection reads the new (still rollback-journal) file inside a transaction: it holds a shared
        // lock, and switching the file to WAL needs it alone (a `casekb stats` racing a first `casekb ingest`)
        var config = Configuration()
        config.allowsUnsafeTransactions = true   // the transaction stays open across accesses, on purpose
        let reader = try DatabaseQueue(path: path, configuration: config)
        try reader.inDatabase { db in try db.execute(sql: "BEGIN; SELECT count(*) FROM sqlite_master;") }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { try? reader.inDatabase { db in try db.execute(sql: "COMMIT") } }
        let kb = try KnowledgeBase(path: path)
        #expect(try kb.pool.read { db in try db.tableExists("messages") })
    }

    /// Every table, index and trigger with its SQL, and the indexes still waiting to be rebuilt after a first import.
    static func schema(_ kb: KnowledgeBase) throws -> (objects: [String], suspended: Int) {
        try kb.pool.read { db in
            (try String.fetchAll(db, sql: "SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master ORDER BY type, name"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM kb_meta WHERE key LIKE 'suspended_index:%'") ?? 0)
        }
    }

    @Test("a first import builds its random-key indexes once, at the end; an import killed without them gets them back at the next open")
    func suspendedIndexesComeBack() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let migrated = try Self.schema(KnowledgeBase(path: dir.appendingPathComponent("empty.sqlite").path))
        #expect(migrated.objects.contains { $0.hasPrefix("index message_keys_key:") })
        let imported = try KnowledgeBase(path: dir.appendingPathComponent("imported.sqlite").path)
        _ = try Ingester(imported).run(paths: [Fixtures.corpus("threads")])
        #expect(try Self.schema(imported) == migrated)
        // the indexes were sorted in a small cache; the writer's own cache is back to its size afterwards
        #expect(try imported.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") } == -32000)
        // a run killed while its indexes were suspended: they are gone, and their statements are kept
        let killedPath = dir.appendingPathComponent("killed.sqlite").path
        do {
            let killed = try KnowledgeBase(path: killedPath)
            try killed.pool.write { db in try KnowledgeBase.suspendIndexes(KnowledgeBase.bulkLoadedIndexes, db: db) }
            let left = try Self.schema(killed)
            #expect(left.suspended == KnowledgeBase.bulkLoadedIndexes.count)
            #expect(left.objects.count == migrated.objects.count - KnowledgeBase.bulkLoadedIndexes.count)
        }
        // a reader does not touch the schema; the next writer's open restores it exactly
        #expect(try Self.schema(KnowledgeBase(path: killedPath, readOnly: true)).suspended == KnowledgeBase.bulkLoadedIndexes.count)
        #expect(try Self.schema(KnowledgeBase(path: killedPath)) == migrated)
    }

    @Test("migrations create every table on an empty file; opening again changes nothing")
    func migrations() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("kb.sqlite").path
        let kb = try KnowledgeBase(path: path)
        let tables = try kb.pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table') ORDER BY name") }
        for t in ["source_files", "cases", "case_ids", "messages", "message_keys", "attachments", "bugchecks", "stacks", "stack_frames",
                  "pool_tags", "modules", "culprits", "recommendations", "entities", "provenance", "message_fts"] {
            #expect(tables.contains(t), "\(t)")
        }
        let journal = try kb.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
        _ = try KnowledgeBase(path: path)
        #expect(try kb.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") } == (try KnowledgeBase.migrations()).count)
        #expect(throws: KnowledgeBase.StoreError.self) { try KnowledgeBase(path: dir.appendingPathComponent("missing.sqlite").path, readOnly: true) }
    }

    @Test("ingest → show round trip of the seed, re-ingest changes nothing, search finds it")
    func seedRoundTrip() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        let seed = Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")
        let first = try Ingester(kb).run(paths: [seed])
        #expect(first.messages == 28)
        #expect(first.casesNew == 1)
        let before = try counts(kb)
        let again = try Ingester(kb).run(paths: [seed])
        #expect(again.skipped == 1)
        #expect(again.messages == 0)
        #expect(try counts(kb) == before)

        let (thread, k) = try kb.show("CAS-02698-C5V4N5")
        #expect(thread.messages.count == 28)
        #expect(thread.caseIDs == ["CAS-02698-C5V4N5", "REG:120081126000849"])
        #expect(try kb.show("REG:120081126000849").thread.key == "CAS-02698-C5V4N5")
        let direct = CaseKnowledge.build(try #require(Fixtures.cases(seed).first))
        #expect(k.bugchecks.map(\.code) == direct.bugchecks.map(\.code))
        #expect(k.culprits == ["vwifimf", "gscfmgr"])
        #expect(k.stacks.count == direct.stacks.count)
        #expect(thread.messages[12].newText == (try #require(Fixtures.cases(seed).first)).messages[12].newText)
        #expect(try kb.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM bugchecks WHERE code = '0x0000001E'") } == 1)
        #expect(try kb.pool.read { db in try String.fetchOne(db, sql: "SELECT owner FROM pool_tags WHERE tag = 'Filt'") } == "vwifimf.sys")

        for q in ["蓝屏", "驱动", "vwifimf", "Dot11SendCompletion", "KB4559003", "special pool", "网盘拷文件", "蓝"] {
            let r = try kb.search(q)
            #expect(r.results.first?.case == "CAS-02698-C5V4N5", "\(q)")
            #expect(r.total > 0)
        }
        let snippet = try kb.search("KB4559003").results.first?.snippet ?? ""
        #expect(snippet.contains("[KB 4559003]"))
        // filters
        #expect(try kb.search("蓝屏", filters: SearchFilters(bugcheck: "fc")).total > 0)
        #expect(try kb.search("蓝屏", filters: SearchFilters(bugcheck: "0x133")).total == 0)
        #expect(try kb.search("蓝屏", filters: SearchFilters(module: "vwifimf.sys")).total > 0)
        #expect(try kb.search("蓝屏", filters: SearchFilters(tag: "Filt")).total > 0)
        #expect(try kb.search("蓝屏", filters: SearchFilters(action: "uninstall_driver")).total > 0)
        #expect(try kb.search("蓝屏", filters: SearchFilters(since: MailDate.parse("2020-09-01"))).total == 2)
        // cases and stats
        let list = try kb.cases()
        #expect(list.first?.case == "CAS-02698-C5V4N5")
        #expect(list.first?.culprits == ["vwifimf", "gscfmgr"])
        #expect(try kb.stats().topCulprits.first?.name == "vwifimf")
    }

    @Test("malformed queries give plain errors", arguments: ["\"special pool", "AND OR", "-vwifimf", "   ", "\"\""])
    func malformed(_ q: String) {
        #expect(throws: SearchText.QueryError.self) { try SearchText.matchExpression(q) }
    }

    @Test("odd but valid queries never reach FTS5 unquoted")
    func quoting() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.corpus("threads/mbox")])
        for q in ["NEAR(a b)", "col:vwifimf", "a* OR", "^start", "vwifimf AND", "(unbalanced", "0x800f0922", "KB5005565 -KB5005260", "x\"y\"z"] {
            _ = try kb.search(q)
        }
        #expect(try kb.search("0x800f0922").total == 2)
        #expect(try kb.search("KB5005565 -KB5005260").total == 1)
    }

    @Test("a changed file replaces what it contributed; a failing file does not stop the others")
    func replaceAndFailures() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        let mail = dir.appendingPathComponent("in/a.eml")
        try FileManager.default.createDirectory(at: mail.deletingLastPathComponent(), withIntermediateDirectories: true)
        func write(_ body: String) throws {
            try "From: a@example.com\nSubject: CAS-12345-ABCDEF vmswitch crash\nDate: Mon, 15 May 2023 02:14:55 +0200\nMessage-ID: <a1@example.com>\n\n\(body)\n".write(to: mail, atomically: false, encoding: .utf8)
        }
        try write("first version mentions wombat")
        try FileManager.default.copyItem(atPath: Fixtures.corpus("bad-input/invalid-base64.eml"), toPath: dir.appendingPathComponent("in/bad.eml").path)
        let s1 = try Ingester(kb).run(paths: [dir.appendingPathComponent("in").path])
        #expect(s1.failed == 1)
        #expect(s1.errors.contains { $0.contains("bad.eml") && $0.contains("invalid base64") })
        #expect(s1.messages == 1)
        #expect(try kb.search("wombat").total == 1)
        try write("second version mentions platypus instead")
        let s2 = try Ingester(kb).run(paths: [dir.appendingPathComponent("in").path])
        #expect(s2.replaced == 1)
        #expect(s2.failed == 1)   // still reported
        #expect(try kb.search("wombat").total == 0)
        #expect(try kb.search("platypus").total == 1)
        let c = try counts(kb)
        #expect(c["messages"] == 1)
        #expect(c["fts"] == 1)
        #expect(c["cases"] == 1)
    }

    /// A knowledge base holding `threads` generated case threads, ingested from a maildir written in `dir`.
    func generatedKnowledgeBase(seed: UInt64, threads: Int, in dir: URL) throws -> KnowledgeBase {
        let mail = dir.appendingPathComponent("mail").path
        _ = try CorpusGenerator(seed: seed).write(threads: threads, to: mail, layout: .maildir)
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [mail])
        return kb
    }

    @Test("a word in more messages than the ranking window: exact total, the page ranked among the newest matches")
    func rankingWindow() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try generatedKnowledgeBase(seed: 21, threads: 30, in: dir)
        for query in ["蓝屏", "driver", "驱动"] {
            let all = try kb.search(query, limit: 1000, rankingWindow: 100_000)
            #expect(all.total > 12, "\(query)")
            let windowed = try kb.search(query, limit: 5, rankingWindow: 10)
            // the total does not depend on the window
            #expect(windowed.total == all.total, "\(query)")
            #expect(windowed.results.count == 5)
            // every hit is among the 10 newest matches (highest row ids), in bm25 order among them
            let newest = try kb.pool.read { db in
                try Int64.fetchAll(db, sql: "SELECT rowid FROM message_fts WHERE message_fts MATCH ? ORDER BY rowid DESC LIMIT 10", arguments: [try SearchText.matchExpression(query).match])
            }
            let bm25 = try kb.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT rowid, bm25(message_fts, 5.0, 1.0, 0.5) AS r FROM message_fts WHERE message_fts MATCH ? AND rowid >= ? ORDER BY r, rowid DESC LIMIT 5",
                                 arguments: [try SearchText.matchExpression(query).match, newest.min() ?? 0])
            }
            let ranked = bm25.map { $0["rowid"] as Int64 }
            // the scores are bm25's, though a one-word query ranks without bm25's own IDF walk
            #expect(windowed.results.map(\.score) == bm25.map { (-($0["r"] as Double) * 1000).rounded() / 1000 }, "\(query)")
            let pageIDs = try windowed.results.map { hit in
                try kb.pool.read { db in
                    try Int64.fetchOne(db, sql: "SELECT m.id FROM messages m JOIN cases c ON c.id = m.case_id WHERE c.key = ? AND m.position = ?", arguments: [hit.case, hit.message]) ?? -1
                }
            }
            #expect(pageIDs == ranked, "\(query)")
            #expect(Set(pageIDs).isSubset(of: Set(newest)), "\(query)")
            // a later page still works past the window (the window grows to cover it)
            #expect(try kb.search(query, limit: 5, offset: 10, rankingWindow: 10).results.count == min(5, all.total - 10))
        }
    }

    @Test("one-word ranking without the IDF walk: casekb_tf × IDF is bm25, bit for bit, on every matching row")
    func termFrequencyRankIsBM25() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try generatedKnowledgeBase(seed: 5, threads: 20, in: dir)
        var compared = 0
        for word in ["蓝屏", "driver", "驱动", "vwifimf", "windbg"] {
            let match = try SearchText.matchExpression(word).match
            try kb.pool.read { db in
                let documents = try Int64.fetchOne(db, sql: "SELECT doc FROM message_fts_vocab WHERE term = ?", arguments: [word.lowercased()]) ?? 0
                let rows = try Row.fetchAll(db, sql: """
                    SELECT bm25(message_fts, 5.0, 1.0, 0.5) AS bm25, casekb_tf(message_fts, 5.0, 1.0, 0.5) AS tf, casekb_fts_rows(message_fts) AS n
                    FROM message_fts WHERE message_fts MATCH ?
                    """, arguments: [match])
                #expect(rows.count == Int(documents), "\(word)")
                for r in rows {
                    let idf = TermFrequencyRank.inverseDocumentFrequency(documents: documents, rows: r["n"])
                    #expect((r["tf"] as Double) * idf == r["bm25"] as Double, "\(word)")
                    compared += 1
                }
            }
        }
        #expect(compared > 50)
    }

    @Test("cases rebuilt but not yet linked when an ingest stopped are linked by the next run, exactly as in one run")
    func unfinishedLinksAreFinished() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.corpus("eval")])
        func state() throws -> (links: [String], pending: Int) {
            try kb.pool.read { db in
                (try String.fetchAll(db, sql: "SELECT case_id || ' ' || linked_case_id || ' ' || score || ' ' || confidence || ' ' || reasons FROM case_links ORDER BY case_id, linked_case_id"),
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE dirty != 0") ?? -1)
            }
        }
        // one run links with the signatures it has just built; the rerun reads them back from the database
        let clean = try state()
        #expect(clean.links.count > 5)
        #expect(clean.links.contains { $0.contains("bugchecks: this") })
        #expect(clean.pending == 0)
        // what a kill between the rebuild and the link phase leaves behind
        try kb.pool.write { db in
            try db.execute(sql: "UPDATE cases SET dirty = 2")
            try db.execute(sql: "DELETE FROM case_links")
        }
        let rerun = try Ingester(kb).run(paths: [Fixtures.corpus("eval")])
        #expect(rerun.messages == 0)
        let after = try state()
        #expect(after.links == clean.links)
        #expect(after.pending == 0)
    }

    @Test("older cases arriving in a later run are linked from the newer cases already stored, as in one run")
    func olderCasesArriveLater() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // the evaluation set split by date: the newer half first, the older half in a second run
        let files = try FileManager.default.contentsOfDirectory(atPath: Fixtures.corpus("eval")).filter { $0.hasSuffix(".eml") }
        let dated = files.compactMap { f -> (String, Date)? in
            guard let sent = Fixtures.cases(Fixtures.corpus("eval/" + f)).first?.messages.first?.sent else { return nil }
            return (f, sent)
        }.sorted { $0.1 < $1.1 }
        #expect(dated.count == files.count)
        let older = dir.appendingPathComponent("older"), newer = dir.appendingPathComponent("newer")
        for d in [older, newer] { try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true) }
        for (k, (f, _)) in dated.enumerated() {
            try FileManager.default.copyItem(atPath: Fixtures.corpus("eval/" + f), toPath: (k < dated.count / 2 ? older : newer).appendingPathComponent(f).path)
        }
        func links(_ kb: KnowledgeBase) throws -> Set<String> {
            try kb.pool.read { db in
                Set(try String.fetchAll(db, sql: "SELECT a.key || ' -> ' || b.key FROM case_links l JOIN cases a ON a.id = l.case_id JOIN cases b ON b.id = l.linked_case_id"))
            }
        }
        let once = try KnowledgeBase(path: dir.appendingPathComponent("once.sqlite").path)
        _ = try Ingester(once).run(paths: [older.path, newer.path])
        let twice = try KnowledgeBase(path: dir.appendingPathComponent("twice.sqlite").path)
        let first = try Ingester(twice).run(paths: [newer.path])
        #expect(first.casesRelinked == 0)
        let before = try links(twice)
        let second = try Ingester(twice).run(paths: [older.path])
        #expect(second.casesRelinked > 0)
        let expected = try links(once)
        #expect(try links(twice) == expected)
        #expect(expected.count > before.count)   // the older cases did add links to newer ones
        // and a rerun changes nothing
        let third = try Ingester(twice).run(paths: [older.path, newer.path])
        #expect(third.casesRelinked == 0)
        #expect(try links(twice) == expected)
    }

    @Test("a thread split over many files merges into one case, in any order")
    func mergeAcrossFiles() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        let files = try FileManager.default.subpathsOfDirectory(atPath: Fixtures.corpus("threads/maildir/support"))
            .filter { $0.contains("/") && !$0.hasPrefix("tmp") }.sorted().reversed()
        for f in files { _ = try Ingester(kb).run(paths: [Fixtures.corpus("threads/maildir/support/" + f)]) }
        let list = try kb.cases()
        #expect(list.count == 1)
        #expect(list.first?.case == "hv-node07-0515@woodgrove.example")
        #expect(list.first?.messages == 3)
        #expect(try kb.show("hv-node07-0515@woodgrove.example").thread.messages.map(\.from.display) == ["Tom Keller", "Sara Lind", "Tom Keller"])
    }

    @Test("a first import (thread keys and positions kept in memory) groups and orders mail exactly as an ingest into a knowledge base that holds mail")
    func firstImportGroupsLikeLaterRuns() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mail = dir.appendingPathComponent("mail").path
        _ = try CorpusGenerator(seed: 5).write(threads: 120, to: mail, layout: .maildir)
        // a thread with three case numbers of one pattern whose reply is read first: which number keys the case
        // depends on the order its numbers are gathered in
        let numbered = dir.appendingPathComponent("numbered")
        try FileManager.default.createDirectory(at: numbered, withIntermediateDirectories: true)
        try Data("""
            From: Li <li@example.com>\r\nSubject: RE: CAS-22222-BBBBBB CAS-11111-AAAAAA usb hub crash\r\n\
            Message-ID: <numbered-2@example.com>\r\nIn-Reply-To: <numbered-1@example.com>\r\n\
            References: <numbered-1@example.com>\r\nDate: Tue, 3 Jan 2023 11:00:00 +0000\r\n\r\nStill crashing after the update.\r\n
            """.utf8).write(to: numbered.appendingPathComponent("a-reply.eml"))
        try Data("""
            From: Wang <wang@example.com>\r\nSubject: CAS-33333-CCCCCC usb hub crash\r\nMessage-ID: <numbered-1@example.com>\r\n\
            Date: Tue, 3 Jan 2023 09:00:00 +0000\r\n\r\nThe machine bugchecks when the hub is plugged in.\r\n
            """.utf8).write(to: numbered.appendingPathComponent("b-first.eml"))
        let paths = [mail, numbered.path, Fixtures.corpus("threads"), Fixtures.corpus("eval")]
        /// Each case as the dedup keys of its messages in timeline order, leaving out the messages of `except`.
        func partition(_ kb: KnowledgeBase, except: String? = nil) throws -> Set<[String]> {
            try kb.pool.read { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT m.case_id, m.dedup_key, f.path FROM messages m JOIN source_files f ON f.id = m.source_file_id
                    ORDER BY m.case_id, m.position
                    """)
                var byCase: [Int64: [String]] = [:]
                for r in rows where except.map({ !(r["path"] as String).hasSuffix($0) }) ?? true {
                    byCase[r["case_id"], default: []].append(r["dedup_key"])
                }
                return Set(byCase.values)
            }
        }
        /// Whether every case numbers its messages 1, 2, … n in order of time (undated last).
        func positionsFollowTime(_ kb: KnowledgeBase) throws -> Bool {
            try kb.pool.read { db in
                var byCase: [Int64: [(position: Int, sent: Int64?)]] = [:]
                for r in try Row.fetchAll(db, sql: "SELECT case_id, position, sent FROM messages ORDER BY case_id, position") {
                    byCase[r["case_id"], default: []].append((r["position"], r["sent"]))
                }
                return byCase.values.allSatisfy { list in
                    list.map(\.position) == Array(1...list.count)
                        && zip(list, list.dropFirst()).allSatisfy { a, b in
                            switch (a.sent, b.sent) {
                            case let (x?, y?): return x <= y
                            case (nil, _?): return false
                            default: return true
                            }
                        }
                }
            }
        }
        let fresh = try KnowledgeBase(path: dir.appendingPathComponent("fresh.sqlite").path)
        let summary = try Ingester(fresh).run(paths: paths)
        #expect(try positionsFollowTime(fresh))
        #expect(summary.messages > 500)
        // the same mail into a knowledge base that already holds one unrelated case: every key is looked up in SQL
        let held = try KnowledgeBase(path: dir.appendingPathComponent("held.sqlite").path)
        let earlier = dir.appendingPathComponent("earlier.eml")
        try Data("""
            From: Ops <ops@example.com>\r\nSubject: printer offline\r\nMessage-ID: <earlier-1@example.com>\r\n\
            Date: Mon, 2 Jan 2023 09:00:00 +0000\r\n\r\nThe printer on floor 3 is offline.\r\n
            """.utf8).write(to: earlier)
        _ = try Ingester(held).run(paths: [earlier.path])
        _ = try Ingester(held).run(paths: paths)
        let expected = try partition(held, except: "earlier.eml")
        #expect(try partition(fresh) == expected)
        #expect(try positionsFollowTime(held))
        let freshCases = try fresh.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM cases") }
        #expect(expected.count == freshCases)
        // a first import whose key index fills up part-way and hands over to the database
        let handedOver = try KnowledgeBase(path: dir.appendingPathComponent("handover.sqlite").path)
        let small = Ingester(handedOver)
        small.freshIndexLimit = 400
        _ = try small.run(paths: paths)
        #expect(try partition(handedOver) == expected)
        #expect(try Self.schema(handedOver) == Self.schema(held))
        // a first import too large to plan its cases from memory reads its messages back: the same cases, keys and order
        let readBack = try KnowledgeBase(path: dir.appendingPathComponent("readback.sqlite").path)
        let bounded = Ingester(readBack)
        bounded.runMessagesLimit = 100
        // and keeps the facts of only its first few messages: the rest are extracted again from the stored text
        bounded.factsCacheByteLimit = 3_000
        _ = try bounded.run(paths: paths)
        /// Every fact of every case, by case key, with the message and span it came from.
        func facts(_ kb: KnowledgeBase) throws -> [String] {
            try kb.pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT c.key || ' ' || p.fact_table || ' ' || p.position || ' ' || p.field || ' ' || p.start || '-' || p.end || ' ' ||
                        coalesce((SELECT code || ' ' || args || ' ' || messages FROM bugchecks WHERE id = p.fact_id AND p.fact_table = 'bugchecks'),
                                 (SELECT group_concat(ifnull(f.module, '') || '!' || ifnull(f.function, '') || '+' || ifnull(f.offset, '') || ifnull(f.address, ''), ' ') FROM stack_frames f WHERE f.stack_id = p.fact_id AND p.fact_table = 'stacks'),
                                 (SELECT name || ' ' || ifnull(timestamp, '') FROM modules WHERE id = p.fact_id AND p.fact_table = 'modules'),
                                 (SELECT tag || ' ' || ifnull(owner, '') FROM pool_tags WHERE id = p.fact_id AND p.fact_table = 'pool_tags'),
                                 (SELECT action || ' ' || ifnull(target, '') FROM recommendations WHERE id = p.fact_id AND p.fact_table = 'recommendations'),
                                 (SELECT kind || ' ' || value FROM entities WHERE id = p.fact_id AND p.fact_table = 'entities'), '')
                    FROM provenance p JOIN cases c ON c.id = p.case_id ORDER BY 1
                    """)
            }
        }
        let freshFacts = try facts(fresh)
        #expect(freshFacts.count > 1_000)
        #expect(try facts(readBack) == freshFacts)
        func cases(_ kb: KnowledgeBase) throws -> [String] {
            try kb.pool.read { db in
                try String.fetchAll(db, sql: """
                    SELECT c.key || '|' || c.subject || '|' || ifnull(c.first_sent, '') || '|' || c.message_count || '|' || group_concat(m.id || ':' || m.position, ',')
                        || '|' || ifnull((SELECT group_concat(value, ',') FROM (SELECT value FROM case_ids WHERE case_id = c.id ORDER BY rowid)), '')
                    FROM cases c JOIN messages m ON m.case_id = c.id GROUP BY c.id ORDER BY c.id
                    """)
            }
        }
        #expect(try cases(readBack) == cases(fresh))
        // the numbered thread is one case holding its three numbers
        #expect(try cases(fresh).filter { ["CAS-11111-AAAAAA", "CAS-22222-BBBBBB", "CAS-33333-CCCCCC"].allSatisfy($0.contains) }.count == 1)
        #expect(try partition(readBack) == expected)
        #expect(try positionsFollowTime(handedOver))
    }

    @Test("show splits quoted text and signature from the stored body exactly as the ingest split the redacted mail")
    func quotesDerivedFromStoredBody() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        let paths = [Fixtures.corpus("threads"), Fixtures.corpus("eval")]
        _ = try Ingester(kb).run(paths: paths)
        var parsed: [String: Message] = [:]
        for file in MailReader.expand(paths).files {
            for m in MailReader.read(path: file).messages.map(Redactor.shared.redact) { parsed[ThreadKeys.dedupKey(m)] = m }
        }
        let keys = try kb.pool.read { db in try String.fetchAll(db, sql: "SELECT key FROM cases") }
        var compared = 0, withQuotes = 0, withSignature = 0, withHTMLHint = 0
        for key in keys {
            for m in try kb.show(key).thread.messages {
                let original = try #require(parsed[ThreadKeys.dedupKey(m)], "\(key)")
                #expect(m.newText == original.newText, "\(key)")
                #expect(m.quotedText == original.quotedText, "\(key)")
                #expect(m.signature == original.signature, "\(key)")
                compared += 1
                if !m.quotedText.isEmpty { withQuotes += 1 }
                if !m.signature.isEmpty { withSignature += 1 }
                if m.quoteStartLine != nil { withHTMLHint += 1 }
            }
        }
        #expect(compared > 60)
        #expect(withQuotes > 20 && withSignature > 10 && withHTMLHint >= 1)
    }

    /// The `casekb` binary beside the test binary.
    static var casekbBinary: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [dir.appendingPathComponent("casekb"), dir.deletingLastPathComponent().appendingPathComponent("casekb"),
                          Fixtures.packageRoot.appendingPathComponent(".build/debug/casekb")] where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        return nil
    }

    @Test("the casekb process sets SQLite up before its first connection: memory statistics (a global mutex per allocation) are off",
          .enabled(if: KnowledgeBaseTests.casekbBinary != nil, "needs the casekb binary (swift build)"))
    func sqliteSetUpInProcess() throws {
        let binary = try #require(Self.casekbBinary)
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["ingest", Fixtures.corpus("threads"), "--db", dir.appendingPathComponent("kb.sqlite").path]
        p.environment = ProcessInfo.processInfo.environment.merging(["CASEKB_TIMINGS": "1"]) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(text.contains("SQLite memory statistics: off"), "\(text)")
    }

    @Test("kill -9 during a large ingest, then a rerun, gives the same database as a clean run",
          .enabled(if: KnowledgeBaseTests.casekbBinary != nil, "needs the casekb binary (swift build)"))
    func killAndRerun() throws {
        let binary = try #require(Self.casekbBinary)
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let corpus = dir.appendingPathComponent("mail").path
        try CorpusGenerator(seed: 99).write(threads: 250, to: corpus, layout: .maildir)
        func run(_ db: String, killAfter: Double? = nil) throws -> Int32 {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["ingest", corpus, "--db", db, "--json"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if let t = killAfter {
                // wait until some batches are committed, then kill -9 in the middle of the run
                let deadline = Date().addingTimeInterval(60)
                while p.isRunning, Date() < deadline {
                    if let kb = try? KnowledgeBase(path: db, readOnly: true),
                       let n = try? kb.pool.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0 }), n > 0 { break }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                Thread.sleep(forTimeInterval: t)
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            }
            p.waitUntilExit()
            return p.terminationReason == .uncaughtSignal ? -p.terminationStatus : p.terminationStatus
        }
        let clean = dir.appendingPathComponent("clean.sqlite").path
        #expect(try run(clean) == 0)
        let killed = dir.appendingPathComponent("killed.sqlite").path
        let status = try run(killed, killAfter: 0.05)
        let partial = try counts(KnowledgeBase(path: killed, readOnly: true))
        let unfinishedCases = try KnowledgeBase(path: killed, readOnly: true).pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE dirty != 0") ?? 0
        }
        #expect(try run(killed) == 0)
        let a = try counts(KnowledgeBase(path: clean, readOnly: true))
        let b = try counts(KnowledgeBase(path: killed, readOnly: true))
        #expect(a == b)
        // the indexes the killed first import had suspended are all back
        #expect(try Self.schema(KnowledgeBase(path: killed, readOnly: true)) == Self.schema(KnowledgeBase(path: clean, readOnly: true)))
        #expect(a["messages"] ?? 0 > 800)
        // the kill really interrupted the first run — while it stored messages, or while it rebuilt and linked cases
        // (their dirty flags left for the rerun) — or the machine was fast enough to finish: then it proves idempotence
        if status == -SIGKILL { #expect((partial["messages"] ?? 0) < (a["messages"] ?? 0) || unfinishedCases > 0) }
    }
}

@Suite("Stored JSON")
struct StoredJSONTests {
    @Test("a case's !analyze fields are stored in field-name order, whatever order the hashing of this process gives")
    func analyzeFieldOrder() {
        var k = CaseKnowledge()
        let names = ["SYMBOL_NAME", "IMAGE_NAME", "FAILURE_BUCKET_ID", "MODULE_NAME", "BUILDLAB_STR", "PROCESS_NAME", "OS_VERSION"]
        for (n, name) in names.enumerated() { k.entities.analyzeFields[name] = ["v\(n)a", "v\(n)b"] }
        let rows = FactRows(knowledge: k, signature: nil).entities.filter { row in
            if case .text("analyze_field")? = row.values.first { return true }
            return false
        }
        let stored = rows.map { row -> String in
            if case .text(let name) = row.values[2], case .text(let value) = row.values[1] { return name + "=" + value }
            return "?"
        }
        #expect(stored == names.sorted().flatMap { name in k.entities.analyzeFields[name, default: []].map { name + "=" + $0 } })
    }

    @Test("hand-encoded arrays decode back to the same values")
    func roundTrip() throws {
        let strings = ["plain", "quote \" and \\ backslash", "line\nbreak\ttab\r", "control \u{01}\u{1F}", "蓝屏 0x50", "", "/slash/", "emoji 🧪"]
        #expect(try JSONDecoder().decode([String].self, from: Data(KnowledgeBase.json(strings).utf8)) == strings)
        let optionals: [String?] = ["Arg1 meaning", nil, "x\"y"]
        #expect(try JSONDecoder().decode([String?].self, from: Data(KnowledgeBase.json(optionals).utf8)) == optionals)
        #expect(try JSONDecoder().decode([Int].self, from: Data(KnowledgeBase.json([1, 22, -3]).utf8)) == [1, 22, -3])
        #expect(KnowledgeBase.json([String]()) == "[]")
        // the encoder's exact text, as stored before these were written by hand
        let blocks = [PoolBlock(address: "fffff96b05ee0f78", size: "30", allocated: true, tag: "Io", starred: false),
                      PoolBlock(address: "ffff\"x\\", size: "1f0", allocated: false, tag: "蓝\u{01}/", starred: true)]
        for list in [blocks, [], [blocks[1]]] {
            #expect(KnowledgeBase.json(list) == String(decoding: try KnowledgeBase.encoder.encode(list), as: UTF8.self))
        }
        #expect(KnowledgeBase.json(strings) == String(decoding: try KnowledgeBase.encoder.encode(strings), as: UTF8.self))
    }
}

@Suite("Direct binding")
struct DirectBindingTests {
    @Test("values bound straight to SQLite read back as GRDB's arguments would store them; SQLite errors still surface")
    func sameAsArguments() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        let texts: [String?] = ["", nil, "蓝屏 0x9F", String(repeating: "长", count: 5000), "nul\u{0}inside"]
        try kb.pool.write { db in
            try db.execute(sql: "CREATE TABLE t(k INTEGER PRIMARY KEY, n INTEGER, r REAL, s TEXT, b INTEGER, u TEXT UNIQUE)")
            let direct = try db.cachedStatement(sql: "INSERT INTO t(k, n, r, s, b, u) VALUES (?,?,?,?,?,?)")
            for (i, text) in texts.enumerated() {
                try direct.run(in: db) {
                    $0.bind(i); $0.bind(i == 1 ? nil : Int64(i) * -7_000_000_000); $0.bind(i == 2 ? nil : 0.5 + Double(i))
                    $0.bind(text); $0.bind(i % 2 == 0); $0.bind("u\(i)")
                }
                try db.execute(sql: "INSERT INTO t(k, n, r, s, b, u) VALUES (?,?,?,?,?,?)",
                               arguments: [i + 100, i == 1 ? nil : Int64(i) * -7_000_000_000, i == 2 ? nil : 0.5 + Double(i), text, i % 2 == 0, "v\(i)"])
            }
            // a constraint violation is a DatabaseError, and the statement stays usable
            #expect(throws: DatabaseError.self) { try direct.run(in: db) { $0.bind(50); $0.bind(1); $0.bind(1.0); $0.bind("x"); $0.bind(true); $0.bind("u0") } }
            try direct.run(in: db, values: [.integer(51), .null, .real(2), .text(""), .integer(0), .text("u51")])
        }
        try kb.pool.read { db in
            for i in texts.indices {
                let a = try Row.fetchOne(db, sql: "SELECT n, r, s, typeof(s) AS ts, b, length(s) AS ls FROM t WHERE k = ?", arguments: [i])
                let b = try Row.fetchOne(db, sql: "SELECT n, r, s, typeof(s) AS ts, b, length(s) AS ls FROM t WHERE k = ?", arguments: [i + 100])
                #expect(a == b, "row \(i)")
            }
            #expect(try String.fetchOne(db, sql: "SELECT typeof(s) FROM t WHERE k = 0") == "text")   // '' is not NULL
            #expect(try String.fetchOne(db, sql: "SELECT s FROM t WHERE k = 51") == "")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == texts.count * 2 + 1)
        }
    }
}
