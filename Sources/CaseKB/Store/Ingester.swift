import Foundation
import GRDB

/// What one `ingest` run did.
public struct IngestSummary: Codable, Sendable {
    public var files = 0
    public var skipped = 0
    public var failed = 0
    public var replaced = 0
    public var messages = 0
    public var duplicates = 0
    public var casesNew = 0
    public var casesUpdated = 0
    /// Cases from earlier runs whose similar-case links were computed again because an older, similar case arrived.
    public var casesRelinked = 0
    public var errors: [String] = []
    public var warnings: [String] = []
    public var seconds = 0.0
    /// Time the writer waited for parsed files, and time spent writing (for benchmarks).
    public var waitSeconds = 0.0
    public var writeSeconds = 0.0
    public var linkSeconds = 0.0
    public var rebuildSeconds = 0.0
    /// Time the writer waited for case plans and for computed links.
    public var planWaitSeconds = 0.0
    public var linkWaitSeconds = 0.0
    public var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }

    enum CodingKeys: String, CodingKey {
        case files, skipped, failed, replaced, messages, duplicates, errors, warnings, seconds
        case casesNew = "cases_new", casesUpdated = "cases_updated", casesRelinked = "cases_relinked", messagesPerSecond = "messages_per_second"
    }
    public init() {}
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        files = try c.decode(Int.self, forKey: .files); skipped = try c.decode(Int.self, forKey: .skipped)
        failed = try c.decode(Int.self, forKey: .failed); replaced = try c.decode(Int.self, forKey: .replaced)
        messages = try c.decode(Int.self, forKey: .messages); duplicates = try c.decode(Int.self, forKey: .duplicates)
        casesNew = try c.decode(Int.self, forKey: .casesNew); casesUpdated = try c.decode(Int.self, forKey: .casesUpdated)
        casesRelinked = try c.decodeIfPresent(Int.self, forKey: .casesRelinked) ?? 0
        errors = try c.decode([String].self, forKey: .errors); warnings = try c.decode([String].self, forKey: .warnings)
        seconds = try c.decode(Double.self, forKey: .seconds)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(files, forKey: .files); try c.encode(skipped, forKey: .skipped); try c.encode(failed, forKey: .failed)
        try c.encode(replaced, forKey: .replaced); try c.encode(messages, forKey: .messages); try c.encode(duplicates, forKey: .duplicates)
        try c.encode(casesNew, forKey: .casesNew); try c.encode(casesUpdated, forKey: .casesUpdated)
        try c.encode(casesRelinked, forKey: .casesRelinked); try c.encode(errors, forKey: .errors)
        try c.encode(warnings, forKey: .warnings); try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        try c.encode(messagesPerSecond.rounded(), forKey: .messagesPerSecond)
    }
}

/// Progress of a running ingest, reported about twice a second.
public struct IngestProgress: Sendable {
    public var filesDone: Int
    public var filesTotal: Int
    public var messages: Int
    public var errors: Int
    public var seconds: Double
}

/// Ingest: read files (in parallel with the writer), skip unchanged ones, replace changed ones, thread new mail into
/// cases, store messages, facts and the full-text index. Every batch is one transaction, so a killed ingest leaves the
/// database as it was after the last committed batch, and rerunning the command finishes the job.
public final class Ingester: @unchecked Sendable {
    let kb: KnowledgeBase
    public var redact = true
    /// Files per transaction.
    public var batchFiles = 200
    /// How many files the parsing threads may run ahead of the writer (bounds the memory parsed mail holds).
    public var parseWindow = 400
    public var progress: (@Sendable (IngestProgress) -> Void)?

    public init(_ kb: KnowledgeBase) { self.kb = kb }

    /// Facts of the messages written in this run, by row id and packed, so the rebuild need not extract them again;
    /// capped in bytes, so a very large ingest's memory stays bounded (beyond the cap the rebuild extracts again).
    var factsCache: [Int64: PackedFacts] = [:]
    var factsCacheBytes = 0
    /// About 0.4 KB a message on the generated corpus: a first import of about 120,000 messages.
    public var factsCacheByteLimit = 48_000_000

    /// Signatures of the cases rebuilt in this run, as `storedSignature` would read them back, so linking need not
    /// read them again. Written by the writer during the rebuild; read by the link workers, which start after it.
    var rebuiltSignatures: [Int64: (signature: CrashSignature, firstSent: Int64?)] = [:]
    /// The terms of `rebuiltSignatures`, each string held once: cases share most of their frames, edges and modules,
    /// so the signatures of a large first import take a fraction of the memory (see `interned`).
    var signatureStrings = Set<String>()

    /// `s` with every term the same string object as the equal term of the signatures kept before it.
    func interned(_ s: CrashSignature) -> CrashSignature {
        func shared(_ terms: inout [String]) {
            for k in terms.indices { terms[k] = signatureStrings.insert(terms[k]).memberAfterInsert }
        }
        var s = s
        shared(&s.exactKeys); shared(&s.coreKeys); shared(&s.blame); shared(&s.pool); shared(&s.frames)
        shared(&s.edges); shared(&s.bugchecks); shared(&s.families); shared(&s.modules)
        return s
    }

    /// Set while a run fills a knowledge base that held no messages when it began (see `FreshRunIndex`).
    var freshIndex: FreshRunIndex?
    /// Messages a first import has put in each case so far (merged cases add up), all run long: a message stored
    /// now is its case's latest unless it arrived out of order, which the case rebuild corrects.
    var runCaseSizes: [Int64: Int]?

    /// The position (1-based, by time) a message stored now in `caseID` takes if it is the case's latest; 0 when
    /// unknown (a run into a knowledge base that held mail), left to the rebuild.
    func nextPosition(in caseID: Int64) -> Int {
        guard runCaseSizes != nil else { return 0 }
        runCaseSizes?[caseID, default: 0] += 1
        return runCaseSizes?[caseID] ?? 0
    }

    /// The time written into the rows of the transaction being written (`ingested_at`, `updated_at`): taken once a
    /// transaction, as its rows become visible together.
    var transactionTime = ""

    /// A new case's key until its rebuild names it: unique across runs (a killed run leaves its pending keys behind,
    /// and the next run replaces them) without a random UUID per case.
    let pendingKeyPrefix = "pending:" + UUID().uuidString + ":"
    var pendingKeys = 0

    /// What a case rebuild reads of a stored message to order its case and name it.
    struct StoredMessage: Sendable {
        var id: Int64
        var sent: Int64?
        var subject: String
        /// The root of its thread as it knows it: the first of its References, else its own Message-ID.
        var rootID: String?
        var sourceIndex: Int
        var position: Int
        var path: String
        /// Its case numbers, as its `case:` keys hold them (first seen first).
        var caseNumbers: [String] = []
    }

    /// The messages a first import stored, by case (merged cases merged here too), so its case rebuild plans from
    /// memory instead of reading every message back; nil in a run into a knowledge base that held mail, and dropped
    /// (the rebuild then reads the database) past `runMessagesLimit` messages, so memory stays bounded.
    var runMessages: [Int64: [StoredMessage]]?
    var runMessageCount = 0
    public var runMessagesLimit = 110_000

    /// Keys the first-import index may hold before the run asks the database instead.
    var freshIndexLimit = FreshRunIndex.defaultLimit

    /// A file read, hashed, parsed, redacted and extracted, ready to write.
    struct Prepared: Sendable {
        var path: String
        var size: Int
        var sha: String
        var unchanged: Bool
        var result: FileReadResult
        /// Per message: its facts (new text and text attachments), packed for the rebuild.
        var facts: [PackedFacts] = []
        var fts: [(String, String, String)]
        /// Per message, computed on the parsing threads: its thread keys, dedup key and references as JSON.
        var keys: [ThreadKeys] = []
        var dedupKeys: [String] = []
        var referencesJSON: [String] = []
    }

    func prepare(_ path: String, known: [String: (String, Int)]) -> Prepared {
        // one read for the hash and the parse (a file too large to hold is hashed and parsed as a stream)
        let contents: [UInt8]?
        let hashed: (hex: String, size: Int)
        switch FileBytes.read(path, limit: MailReader.maxMessageBytes) {
        case .contents(let bytes): contents = bytes; hashed = (SHA256.hex(bytes), bytes.count)
        case .tooLarge, .failed: contents = nil; hashed = (try? SHA256.file(path)) ?? (hex: "", size: 0)
        }
        if let k = known[path], k.0 == hashed.hex, k.1 == hashed.size, !hashed.hex.isEmpty {
            return Prepared(path: path, size: hashed.size, sha: hashed.hex, unchanged: true,
                            result: FileReadResult(path: path, format: nil, size: hashed.size, messages: [], diagnostics: []), fts: [])
        }
        let result = MailReader.read(path: path, contents: contents, redactor: redact ? Redactor.shared : nil)
        let extractor = MessageExtractor()
        var packed: [PackedFacts] = []
        var fts: [(String, String, String)] = []
        var keys: [ThreadKeys] = [], dedupKeys: [String] = [], references: [String] = []
        for m in result.messages {
            packed.append(PackedFacts(extractor.extract(m, index: 1)))
            keys.append(ThreadKeys(m))
            dedupKeys.append(ThreadKeys.dedupKey(m))
            references.append(KnowledgeBase.json(m.references))
            fts.append(Ingester.ftsForms(subject: m.subject, newText: m.newText, attachments: m.attachments.compactMap(\.text)))
        }
        return Prepared(path: path, size: hashed.size, sha: hashed.hex, unchanged: false, result: result, facts: packed, fts: fts,
                        keys: keys, dedupKeys: dedupKeys, referencesJSON: references)
    }

    static func ftsForms(subject: String, newText: String, attachments: [String]) -> (String, String, String) {
        (SearchText.indexForm(subject), SearchText.indexForm(newText), SearchText.indexForm(attachments.joined(separator: "\n")))
    }

    public func run(paths: [String]) throws -> IngestSummary {
        let start = Date()
        var summary = IngestSummary()
        // signatures computed under other rules are recomputed
        try kb.pool.write { db in
            let version = try String.fetchOne(db, sql: "SELECT value FROM kb_meta WHERE key = 'signature_rules'")
            if version != FrameNormalizer.rulesVersion {
                try db.execute(sql: "UPDATE cases SET dirty = 1")
                try db.execute(sql: "INSERT OR REPLACE INTO kb_meta(key, value) VALUES ('signature_rules', ?)", arguments: [FrameNormalizer.rulesVersion])
            }
        }
        // files are known by their standardized paths (a file reached twice is read once)
        let (expanded, diags) = MailReader.expand(paths, standardized: true)
        var seen = Set<String>()
        let files = expanded.filter { seen.insert($0).inserted }
        for d in diags { summary.errors.append(d.description); summary.failed += 1 }
        summary.files = files.count
        let startsEmpty = try kb.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM (SELECT 1 FROM messages LIMIT 1)") == 0 }
        freshIndex = startsEmpty ? FreshRunIndex() : nil
        runCaseSizes = startsEmpty ? [:] : nil
        runMessages = startsEmpty ? [:] : nil
        runMessageCount = 0
        // a first import fills the random-key indexes at once, sorted, before linking reads them
        if startsEmpty { try kb.pool.write { db in try KnowledgeBase.suspendIndexes(KnowledgeBase.bulkLoadedIndexes, db: db) } }
        // what this run keeps in memory for itself is dropped however it ends
        defer { dropRunState() }
        let known: [String: (String, Int)] = try kb.pool.read { db in
            var map: [String: (String, Int)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT path, sha256, size FROM source_files") { map[row["path"]] = (row["sha256"], row["size"]) }
            return map
        }
        var done = 0
        var lastReport = Date.distantPast
        var allCreated = Set<Int64>(), allAffected = Set<Int64>()
        let pipeline = OrderedPipeline(files, window: parseWindow) { [self] _, path in prepare(path, known: known) }
        pipeline.start(workers: 2)
        defer { pipeline.cancel() }
        for batchStart in stride(from: 0, to: files.count, by: batchFiles) {
            let batchEnd = min(batchStart + batchFiles, files.count)
            let batchTime = Date()
            var waited = 0.0
            defer {
                summary.waitSeconds += waited
                summary.writeSeconds += Date().timeIntervalSince(batchTime) - waited
            }
            try kb.pool.write { db in
                self.transactionTime = MailDate.iso(Date())
                var affected = Set<Int64>()
                var created = Set<Int64>()
                for k in batchStart..<batchEnd {
                    let waitStart = Date()
                    let p = pipeline.take(k)
                    waited += Date().timeIntervalSince(waitStart)
                    try self.write(p, db: db, summary: &summary, affected: &affected, created: &created)
                }
                // the cases' facts are rebuilt once, at the end; `dirty` survives a crash and the next run finishes the job
                for id in affected { try db.cachedStatement(sql: "UPDATE cases SET dirty = 1 WHERE id = ?").execute(arguments: [id]) }
                allCreated.formUnion(created)
                allAffected.formUnion(affected)
            }
            done = batchEnd
            if let progress, Date().timeIntervalSince(lastReport) > 0.5 || done == files.count {
                lastReport = Date()
                progress(IngestProgress(filesDone: done, filesTotal: files.count, messages: summary.messages, errors: summary.failed, seconds: Date().timeIntervalSince(start)))
            }
        }
        dropRunState(.messages)
        // rebuild every dirty case (this run's, and any a killed run left behind), in transactions of 500,
        // then link each rebuilt case to its most similar earlier cases
        let rebuildStart = Date()
        summary.planWaitSeconds = try rebuildDirtyCases(createdInRun: allCreated)
        dropRunState(.rebuild)
        // link every rebuilt case (dirty = 2: this run's, and any a killed run rebuilt but did not link)
        let linkStart = Date()
        summary.rebuildSeconds = linkStart.timeIntervalSince(rebuildStart)
        // a case older than cases linked in earlier runs may be their new best earlier match: those cases are
        // marked to be linked again (in a transaction of their own, so a killed run leaves them marked)
        let refresh = try laterCasesToRelink()
        if !refresh.isEmpty {
            try kb.pool.write { db in
                for id in refresh { try db.cachedStatement(sql: "UPDATE cases SET dirty = 2 WHERE id = ? AND dirty = 0").execute(arguments: [id]) }
            }
        }
        summary.casesRelinked = refresh.count
        let toLink = try kb.pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM cases WHERE dirty = 2 ORDER BY id") }
        summary.linkWaitSeconds = try link(toLink)
        _ = try kb.pool.write { db in try KnowledgeBase.restoreSuspendedIndexes(db) }
        summary.writeSeconds += Date().timeIntervalSince(rebuildStart)
        summary.linkSeconds = Date().timeIntervalSince(linkStart)
        let existing = try kb.pool.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM cases")) }
        summary.casesNew = allCreated.intersection(existing).count
        summary.casesUpdated = allAffected.subtracting(allCreated).intersection(existing).count
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// Forget what the run kept in memory, stage by stage as each stops needing it: what only storing messages needed
    /// (`.messages`: the thread-key index), what only the case rebuild needed (`.rebuild`: every message's facts and
    /// place), and the rest at the end (`.all`). Its tens of thousands of objects are freed on a thread of their own,
    /// so the writer (and a CLI's exit, which frees everything at once) does not wait for them, one by one.
    func dropRunState(_ stage: RunStage = .all) {
        let dropped = DroppedState()
        dropped.value = (freshIndex, runCaseSizes)
        freshIndex = nil; runCaseSizes = nil
        if stage != .messages {
            dropped.value = (dropped.value, factsCache, runMessages)
            factsCache = [:]; factsCacheBytes = 0; runMessages = nil
        }
        if stage == .all {
            dropped.value = (dropped.value, rebuiltSignatures, signatureStrings)
            rebuiltSignatures = [:]; signatureStrings = []
        }
        Thread.detachNewThread { dropped.value = nil }
    }

    enum RunStage { case messages, rebuild, all }

    /// Rebuild every dirty case. Planned on both cores from snapshots taken as this phase begins (a plan reads only
    /// its case's messages, which the writer does not change but for their positions, which that case's own plan
    /// decides); applied by the one writer as the plans arrive, in id order, 500 cases a transaction.
    /// Returns the seconds the writer waited for plans.
    func rebuildDirtyCases(createdInRun: Set<Int64>) throws -> Double {
        let dirty = try kb.pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM cases WHERE dirty = 1 ORDER BY id") }
        guard !dirty.isEmpty else { return 0 }
        let planner = try onWorkerSnapshots(dirty) { [self] id, db, _ in try planRebuild(id, db: db) }
        defer { planner.cancel() }
        // the messages are all stored: a first import builds their indexes now, while the first plans are computed
        _ = try kb.pool.write { db in try KnowledgeBase.restoreSuspendedIndexes(db, only: KnowledgeBase.bulkLoadedMessageIndexes) }
        return try writeInOrder(planner, count: dirty.count, perTransaction: 500) { plan, db in
            var plan = plan
            // a case this run created has nothing stored to replace (see RebuildPlan.fresh)
            plan.fresh = createdInRun.contains(plan.caseID)
            try applyRebuild(plan, db: db)
        }
    }

    /// Link cases to their most similar earlier cases: computed on both cores from snapshots taken now, written by the
    /// one writer as they arrive, 2,000 cases a transaction. The links phase changes no signature, so the snapshots
    /// and the workers' caches stay true. Returns the seconds the writer waited.
    func link(_ ids: [Int64]) throws -> Double {
        guard !ids.isEmpty else { return 0 }
        let linker = try onWorkerSnapshots(ids) { [self] id, db, frequencies in try links(for: id, frequencies: frequencies, db: db) }
        defer { linker.cancel() }
        // a first import's remaining indexes (none of which linking reads) are built while the first links are computed
        _ = try kb.pool.write { db in try KnowledgeBase.restoreSuspendedIndexes(db) }
        return try writeInOrder(linker, count: ids.count, perTransaction: 2000) { l, db in
            try writeLinks(l, db: db)
            try db.cachedStatement(sql: "UPDATE cases SET dirty = 0 WHERE id = ?").run(in: db) { $0.bind(l.caseID) }
        }
    }

    /// Take a pipeline's results in order and write each with `write`, `perTransaction` results a transaction.
    /// Returns the seconds the writer waited for results.
    func writeInOrder<T>(_ pipeline: OrderedPipeline<Int64, Result<T, any Error>>, count: Int, perTransaction: Int,
                         _ write: (T, Database) throws -> Void) throws -> Double {
        var waited = 0.0
        for chunkStart in stride(from: 0, to: count, by: perTransaction) {
            try kb.pool.write { db in
                self.transactionTime = MailDate.iso(Date())
                for k in chunkStart..<min(chunkStart + perTransaction, count) {
                    let waitStart = Date()
                    let result = try pipeline.take(k).get()
                    waited += Date().timeIntervalSince(waitStart)
                    try write(result, db)
                }
            }
        }
        return waited
    }

    func write(_ p: Prepared, db: Database, summary: inout IngestSummary, affected: inout Set<Int64>, created: inout Set<Int64>) throws {
        if p.unchanged { summary.skipped += 1; return }
        for d in p.result.diagnostics {
            if d.severity == .error { summary.errors.append(d.description) } else { summary.warnings.append(d.description) }
        }
        if p.result.failed { summary.failed += 1; return }
        if p.result.diagnostics.contains(where: { $0.severity == .error }) { summary.failed += 1 }
        // a changed file replaces what it contributed (a first import, which started empty, has none to look up)
        if freshIndex == nil, let oldID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM source_files WHERE path = ?"), arguments: [p.path]) {
            try removeFile(oldID, db: db, affected: &affected)
            summary.replaced += 1
        }
        let error = p.result.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
        try db.cachedStatement(sql: "INSERT INTO source_files(path, size, sha256, format, messages, error, ingested_at) VALUES (?,?,?,?,?,?,?)").run(in: db) {
            $0.bind(p.path); $0.bind(p.size); $0.bind(p.sha); $0.bind(p.result.format?.rawValue); $0.bind(p.result.messages.count)
            $0.bind(error.isEmpty ? nil : error); $0.bind(transactionTime)
        }
        let fileID = db.lastInsertedRowID
        let order = p.result.messages.indices.sorted { (p.result.messages[$0].sent ?? .distantFuture) < (p.result.messages[$1].sent ?? .distantFuture) }
        for k in order {
            let m = p.result.messages[k]
            let dedup = p.dedupKeys[k]
            let isDuplicate = try freshIndex.map { $0.holds(dedupKey: dedup) }
                ?? (Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM messages WHERE dedup_key = ?"), arguments: [dedup]) != nil)
            if isDuplicate {
                summary.duplicates += 1
                continue
            }
            let keys = p.keys[k]
            var cases = Set<Int64>()
            for key in keys.linking {
                if key.hasPrefix("subjroot:") {
                    if let index = freshIndex {
                        if let c = index.earliestCase(ownedKey: key) { cases.insert(c) }
                    } else if let c = try Int64.fetchOne(db.cachedStatement(sql: """
                        SELECT m.case_id FROM message_keys k JOIN messages m ON m.id = k.message_id
                        WHERE k.key = ? AND k.linking = 0 ORDER BY m.sent LIMIT 1
                        """), arguments: [key]) { cases.insert(c) }
                } else if let index = freshIndex {
                    cases.formUnion(index.cases(linkingKey: key))
                } else {
                    for c in try Int64.fetchAll(db.cachedStatement(sql: """
                        SELECT DISTINCT m.case_id FROM message_keys k JOIN messages m ON m.id = k.message_id
                        WHERE k.key = ? AND k.linking = 1
                        """), arguments: [key]) { cases.insert(c) }
                }
            }
            let caseID: Int64
            if let keep = cases.min() {
                caseID = keep
                for other in cases where other != keep {
                    try db.cachedStatement(sql: "UPDATE messages SET case_id = ? WHERE case_id = ?").execute(arguments: [keep, other])
                    try db.cachedStatement(sql: "DELETE FROM cases WHERE id = ?").execute(arguments: [other])
                    freshIndex?.merge(other, into: keep)
                    if let moved = runCaseSizes?.removeValue(forKey: other) { runCaseSizes?[keep, default: 0] += moved }
                    if let moved = runMessages?.removeValue(forKey: other) { runMessages?[keep, default: []] += moved }
                    affected.remove(other)
                    if created.remove(other) != nil { created.insert(keep) }
                }
            } else {
                pendingKeys += 1
                try db.cachedStatement(sql: "INSERT INTO cases(key, subject, normalized_subject, updated_at) VALUES (?, ?, '', ?)").run(in: db) {
                    $0.bind(pendingKeyPrefix + String(pendingKeys)); $0.bind(m.subject); $0.bind(transactionTime)
                }
                caseID = db.lastInsertedRowID
                created.insert(caseID)
            }
            affected.insert(caseID)
            // in-order mail gets its final position now; the case rebuild moves only messages that arrived out of order
            let position = nextPosition(in: caseID)
            try db.cachedStatement(sql: """
                INSERT INTO messages(case_id, source_file_id, source_index, byte_offset, dedup_key, message_id, in_reply_to, refs,
                    from_name, from_address, sent, subject, body, new_text, quote_start_line, is_forwarded_copy, position)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                """).run(in: db) {
                    $0.bind(caseID); $0.bind(fileID); $0.bind(m.source.index); $0.bind(m.source.byteOffset); $0.bind(dedup); $0.bind(m.messageID)
                    $0.bind(m.inReplyTo); $0.bind(p.referencesJSON[k]); $0.bind(m.from.name); $0.bind(m.from.address); $0.bind(KnowledgeBase.millis(m.sent))
                    $0.bind(m.subject); $0.bind(m.body); $0.bind(m.newText); $0.bind(m.quoteStartLine); $0.bind(m.isForwardedCopy); $0.bind(position)
                }
            let messageRow = db.lastInsertedRowID
            if runMessages != nil {
                runMessageCount += 1
                if runMessageCount > runMessagesLimit {
                    runMessages = nil
                } else {
                    runMessages?[caseID, default: []].append(StoredMessage(
                        id: messageRow, sent: KnowledgeBase.millis(m.sent), subject: m.subject,
                        rootID: m.references.first ?? m.messageID, sourceIndex: m.source.index, position: position, path: p.path,
                        caseNumbers: keys.caseIDs))
                }
            }
            if k < p.facts.count, factsCacheBytes < factsCacheByteLimit {
                factsCache[messageRow] = p.facts[k]
                factsCacheBytes += p.facts[k].bytes.count
            }
            for a in m.attachments {
                try db.cachedStatement(sql: "INSERT INTO attachments(message_id, filename, content_type, size, text) VALUES (?,?,?,?,?)").run(in: db) {
                    $0.bind(messageRow); $0.bind(a.filename); $0.bind(a.contentType); $0.bind(a.size); $0.bind(a.text)
                }
            }
            for key in keys.linking where !key.hasPrefix("subjroot:") {
                try db.cachedStatement(sql: "INSERT INTO message_keys(message_id, key, linking) VALUES (?, ?, 1)").run(in: db) { $0.bind(messageRow); $0.bind(key) }
            }
            for key in keys.owned {
                try db.cachedStatement(sql: "INSERT INTO message_keys(message_id, key, linking) VALUES (?, ?, 0)").run(in: db) { $0.bind(messageRow); $0.bind(key) }
            }
            freshIndex?.record(dedupKey: dedup, sent: KnowledgeBase.millis(m.sent), caseID: caseID,
                               linking: keys.linking.filter { !$0.hasPrefix("subjroot:") }, owned: keys.owned)
            if let index = freshIndex, index.keyCount > freshIndexLimit {
                // from here on thread keys are looked up in the database, through its indexes over messages (those
                // over facts are still built once, sorted, after the case rebuild)
                freshIndex = nil
                try KnowledgeBase.restoreSuspendedIndexes(db, only: KnowledgeBase.bulkLoadedMessageIndexes)
            }
            let f = p.fts[k]
            try db.cachedStatement(sql: "INSERT INTO message_fts(rowid, subject, body, attachments) VALUES (?,?,?,?)").run(in: db) {
                $0.bind(messageRow); $0.bind(f.0); $0.bind(f.1); $0.bind(f.2)
            }
            summary.messages += 1
        }
    }

    /// Remove a file's messages (and their index entries); their cases are rebuilt, or deleted when empty.
    func removeFile(_ fileID: Int64, db: Database, affected: inout Set<Int64>) throws {
        runMessages = nil   // (never in a first import; kept true should that change)
        let rows = try Row.fetchAll(db, sql: "SELECT id, case_id, subject, new_text FROM messages WHERE source_file_id = ?", arguments: [fileID])
        for r in rows {
            let id: Int64 = r["id"]
            let texts = try String.fetchAll(db, sql: "SELECT text FROM attachments WHERE message_id = ? AND text IS NOT NULL ORDER BY id", arguments: [id])
            let f = Ingester.ftsForms(subject: r["subject"], newText: r["new_text"], attachments: texts)
            try db.execute(sql: "INSERT INTO message_fts(message_fts, rowid, subject, body, attachments) VALUES ('delete', ?, ?, ?, ?)", arguments: [id, f.0, f.1, f.2])
            try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
            affected.insert(r["case_id"])
        }
        try db.execute(sql: "DELETE FROM source_files WHERE id = ?", arguments: [fileID])
    }

    /// `body` for every id on two worker threads, each reading its own snapshot of the knowledge base as it is now
    /// (with its own cache of index reads), the results taken in the order of `ids` from the returned pipeline. A
    /// snapshot per worker, not a read transaction per id: a pooled read costs ≈ 0.1 ms. Cancel the pipeline when done.
    func onWorkerSnapshots<T: Sendable>(_ ids: [Int64], _ body: @escaping @Sendable (Int64, Database, TermFrequencies) throws -> T) throws
        -> OrderedPipeline<Int64, Result<T, any Error>> {
        let frequencies = [TermFrequencies(), TermFrequencies()]
        let snapshots = try frequencies.map { _ in try kb.workerSnapshot() }
        let pipeline = OrderedPipeline(ids, window: 400) { worker, id in
            Result { try snapshots[worker].read { db in try body(id, db, frequencies[worker]) } }
        }
        pipeline.start(workers: snapshots.count)
        return pipeline
    }

    /// A case recomputed from its messages, ready to write: order, key, subject, case numbers, facts and signature.
    struct RebuildPlan: Sendable {
        var caseID: Int64
        var empty = false
        /// The case was created by this run: it has no facts, ids or terms stored yet to replace.
        var fresh = false
        var messageCount = 0
        /// Messages whose position in the case (1-based, by time) is not the stored one.
        var moved: [(id: Int64, position: Int)] = []
        var key = ""
        var subject = ""
        var normalizedSubject = ""
        var firstSent: Int64?
        var lastSent: Int64?
        var ids: [String] = []
        /// The case's facts and signature terms as rows to insert (nil for an empty case).
        var rows: FactRows?
        /// The codes of its crash bugchecks, each once, in the order first stored (`KnowledgeBase.crashCodesSQL`).
        var crashBugchecks: [String] = []
    }

    /// Recompute a case from its messages (read only).
    func planRebuild(_ caseID: Int64, db: Database) throws -> RebuildPlan {
        var plan = RebuildPlan(caseID: caseID)
        // read straight from the cursor into values (a fetched Row array copies every text once more, and the sort
        // below would look columns up by name in every comparison)
        // (new text is read only where it is needed: see `newText`)
        var rows: [StoredMessage] = []
        if let stored = runMessages {
            rows = stored[caseID] ?? []
        } else {
            let cursor = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT m.id, m.sent, m.subject, m.message_id, CASE WHEN json_valid(m.refs) THEN json_extract(m.refs, '$[0]') END AS first_ref,
                       m.source_index, m.position, f.path
                FROM messages m JOIN source_files f ON f.id = m.source_file_id WHERE m.case_id = ?
                """), arguments: [caseID])
            while let r = try cursor.next() {
                rows.append(StoredMessage(id: r[0], sent: r[1], subject: r[2], rootID: r[4] ?? r[3], sourceIndex: r[5], position: r[6], path: r[7]))
            }
        }
        /// A message's new text: for facts not in the cache (messages of earlier runs), and for a case without stacks,
        /// whose frames can only come from prose. Most cases need neither, and their text is never read back.
        func newText(_ id: Int64) throws -> String {
            try String.fetchOne(db.cachedStatement(sql: "SELECT new_text FROM messages WHERE id = ?"), arguments: [id]) ?? ""
        }
        if rows.isEmpty { plan.empty = true; return plan }
        let sorted = rows.sorted { a, b in
            switch (a.sent, b.sent) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default:
                if a.path != b.path { return a.path < b.path }
                return a.sourceIndex < b.sourceIndex
            }
        }
        plan.messageCount = sorted.count
        for (k, r) in sorted.enumerated() where r.position != k + 1 { plan.moved.append((r.id, k + 1)) }
        // case numbers by pattern priority (ties: as the stored keys list them, message by stored position)
        var caseKeys: [String] = []
        if runMessages != nil {
            // what the query below reads, from memory: the messages in the order of the index it scans
            var seen = Set<String>()
            for r in rows.sorted(by: { ($0.position, $0.id) < ($1.position, $1.id) }) {
                for number in r.caseNumbers where seen.insert(number).inserted { caseKeys.append(number) }
            }
        } else {
            caseKeys = try String.fetchAll(db.cachedStatement(sql: """
                SELECT DISTINCT k.key FROM message_keys k JOIN messages m ON m.id = k.message_id WHERE m.case_id = ? AND k.key LIKE 'case:%'
                """), arguments: [caseID]).map { String($0.dropFirst(5)) }
        }
        plan.ids = CaseNumberFinder.shared.ordered(caseKeys)
        let first = sorted[0]
        plan.subject = first.subject
        plan.key = CaseGrouper.caseKey(caseIDs: plan.ids, rootIDs: sorted.map(\.rootID), subject: plan.subject, file: first.path)
        plan.normalizedSubject = SubjectNormalizer.shared.normalize(plan.subject, dropCaseIDs: plan.ids)
        let sents = sorted.compactMap(\.sent)
        plan.firstSent = sents.min()
        plan.lastSent = sents.max()
        // facts
        var perMessage = try sorted.enumerated().map { k, r -> MessageFacts in
            let facts = try factsCache[r.id]?.unpack() ?? KnowledgeBase.extractFacts(messageID: r.id, newText: newText(r.id), db: db)
            return facts.renumbered(k + 1)
        }
        perMessage[0].entities += MessageExtractor().extract(text: plan.subject, message: 1, field: "subject").entities
        let knowledge = CaseKnowledge.build(perMessage)
        let texts = knowledge.stacks.isEmpty ? try sorted.map { try newText($0.id) } : []
        plan.rows = FactRows(knowledge: knowledge, signature: CrashSignature(knowledge, texts: texts))
        var seenCodes = Set<String>()
        plan.crashBugchecks = knowledge.bugchecks.map(\.code).filter { seenCodes.insert($0).inserted }
        return plan
    }

    /// Write a recomputed case (the writer's part of a rebuild).
    func applyRebuild(_ plan: RebuildPlan, db: Database) throws {
        let caseID = plan.caseID
        if plan.empty {
            try db.execute(sql: "DELETE FROM cases WHERE id = ?", arguments: [caseID])
            return
        }
        for m in plan.moved {
            try db.cachedStatement(sql: "UPDATE messages SET position = ? WHERE id = ?").run(in: db) { $0.bind(m.position); $0.bind(m.id) }
        }
        var key = plan.key
        if try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM cases WHERE key = ? AND id != ?"), arguments: [key, caseID]) != nil { key += "#\(caseID)" }
        // dirty = 2: rebuilt, its similar-case links still to compute
        try db.cachedStatement(sql: "UPDATE cases SET key = ?, subject = ?, normalized_subject = ?, first_sent = ?, last_sent = ?, message_count = ?, updated_at = ?, dirty = 2 WHERE id = ?").run(in: db) {
            $0.bind(key); $0.bind(plan.subject); $0.bind(plan.normalizedSubject); $0.bind(plan.firstSent); $0.bind(plan.lastSent)
            $0.bind(plan.messageCount); $0.bind(transactionTime); $0.bind(caseID)
        }
        if !plan.fresh { try db.cachedStatement(sql: "DELETE FROM case_ids WHERE case_id = ?").run(in: db) { $0.bind(caseID) } }
        for id in plan.ids { try db.cachedStatement(sql: "INSERT INTO case_ids(case_id, value) VALUES (?, ?)").run(in: db) { $0.bind(caseID); $0.bind(id) } }
        if let rows = plan.rows { try FactWriter.replace(caseID: caseID, rows: rows, fresh: plan.fresh, db: db) }
        if let terms = plan.rows?.signatureTerms {
            rebuiltSignatures[caseID] = (interned(CrashSignature(terms: terms, bugchecks: plan.crashBugchecks)), plan.firstSent)
        }
    }

    /// A case's credible links to earlier cases, computed from a read snapshot.
    struct CaseLinks: Sendable {
        var caseID: Int64
        var links: [(caseID: Int64, score: Double, confidence: String, reasons: String)]
    }

    func links(for caseID: Int64, frequencies: TermFrequencies?, db: Database) throws -> CaseLinks {
        var out = CaseLinks(caseID: caseID, links: [])
        let rebuilt = rebuiltSignatures[caseID]
        let sig = try rebuilt?.signature ?? storedSignature(caseID, db: db)
        guard !sig.isEmpty else { return out }
        // earlier cases only; a case without dates is compared with every other case
        let first = try rebuilt.map(\.firstSent) ?? Int64.fetchOne(db.cachedStatement(sql: "SELECT first_sent FROM cases WHERE id = ?"), arguments: [caseID])
        for s in try kb.similar(to: sig, limit: 5, excluding: caseID, before: first, frequencies: frequencies, candidates: 25, withAdvice: false, credibleOnly: true, db: db) {
            out.links.append((s.caseID, s.score, s.confidence.rawValue, KnowledgeBase.json(s.reasons)))
        }
        return out
    }

    /// A stored case's signature: its signature terms and crash bugchecks.
    func storedSignature(_ caseID: Int64, db: Database) throws -> CrashSignature {
        let bugchecks = try String.fetchAll(db.cachedStatement(sql: KnowledgeBase.crashCodesSQL), arguments: [caseID])
        return CrashSignature(terms: try kb.caseTerms(caseID, db: db), bugchecks: bugchecks)
    }

    /// Cases linked in earlier runs that started after a case now waiting to be linked and look like it: their
    /// links to earlier cases were computed without it. Nothing to do (and no lookup) when every waiting case is
    /// newer than every linked one — the usual run, new mail after old.
    func laterCasesToRelink() throws -> [Int64] {
        let older: [(Int64, Int64)] = try kb.pool.read { db in
            guard let newestLinked = try Int64.fetchOne(db, sql: "SELECT max(first_sent) FROM cases WHERE dirty = 0") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT id, first_sent FROM cases WHERE dirty = 2 AND first_sent < ? ORDER BY id", arguments: [newestLinked])
                .map { ($0[0], $0[1]) }
        }
        guard !older.isEmpty else { return [] }
        let firstSent = Dictionary(older, uniquingKeysWith: { a, _ in a })
        let finder = try onWorkerSnapshots(older.map(\.0)) { id, db, frequencies -> [Int64] in
            let sig = try self.storedSignature(id, db: db)
            guard !sig.isEmpty, let first = firstSent[id] else { return [] }
            var out: [Int64] = []
            for s in try self.kb.similar(to: sig, limit: 10, excluding: id, before: nil, frequencies: frequencies, candidates: 25, withAdvice: false, credibleOnly: true, db: db) {
                guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, first_sent, dirty FROM cases WHERE key = ?"), arguments: [s.case]) else { continue }
                let other: Int64 = row[0], otherFirst: Int64? = row[1], otherDirty: Int = row[2]
                if otherDirty == 0, let otherFirst, otherFirst > first { out.append(other) }
            }
            return out
        }
        defer { finder.cancel() }
        let later = try older.indices.map { try finder.take($0).get() }
        return Array(Set(later.flatMap { $0 })).sorted()
    }

    func writeLinks(_ l: CaseLinks, db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM case_links WHERE case_id = ?").run(in: db) { $0.bind(l.caseID) }
        for link in l.links {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO case_links(case_id, linked_case_id, score, confidence, reasons) VALUES (?,?,?,?,?)").run(in: db) {
                $0.bind(l.caseID); $0.bind(link.caseID); $0.bind(link.score); $0.bind(link.confidence); $0.bind(link.reasons)
            }
        }
    }
}

/// What a run frees on a thread of its own (see `Ingester.dropRunState`).
final class DroppedState: @unchecked Sendable {
    var value: Any?
}

/// Which case holds a thread key, kept in memory while a run fills an empty knowledge base: the answers the
/// `message_keys` queries would give, without two queries per key. A first import is where ingest speed matters
/// most; a run that starts with messages stored asks the database, which also knows the earlier runs' keys. Bounded:
/// past a limit of keys the run drops it and asks the database (which holds every key) for the rest, so a very large
/// first import keeps its memory flat.
///
/// Keys are held as 128-bit hashes (about 50 bytes a key, against 150 for the strings): two keys of one run share a
/// hash with a probability below 10⁻²⁵, so a thread is never merged with another by accident.
final class FreshRunIndex {
    /// Keys held at most by default (a first import of about 115,000 messages at five keys a message; about 30 MB).
    static let defaultLimit = 600_000
    private(set) var keyCount = 0
    /// The cases of the messages holding a linking key: the first inline, any others after it.
    private struct Holders {
        var first: Int64
        var more: [Int64] = []
    }
    private var linking: [KeyHash: Holders] = [:]
    private var earliestOwner: [KeyHash: (sent: Int64?, caseID: Int64)] = [:]
    private var dedupKeys = Set<KeyHash>()
    /// Cases merged away, each pointing at the case that absorbed it.
    private var mergedInto: [Int64: Int64] = [:]

    /// A key's two 64-bit SipHash values (of this process's seed), under two different prefixes.
    struct KeyHash: Hashable {
        let low: UInt64
        let high: UInt64
        init(_ key: String) {
            var a = Hasher(), b = Hasher()
            a.combine(UInt8(1)); a.combine(key)
            b.combine(UInt8(2)); b.combine(key)
            low = UInt64(UInt(bitPattern: a.finalize()))
            high = UInt64(UInt(bitPattern: b.finalize()))
        }
    }

    func resolve(_ id: Int64) -> Int64 {
        var x = id
        while let next = mergedInto[x] { x = next }
        return x
    }

    func holds(dedupKey: String) -> Bool { dedupKeys.contains(KeyHash(dedupKey)) }

    /// Cases of the messages holding `key` as a linking key.
    func cases(linkingKey key: String) -> [Int64] {
        guard let h = linking[KeyHash(key)] else { return [] }
        return ([h.first] + h.more).map(resolve)
    }

    /// The case of the earliest message (undated first, like SQLite's NULLs) owning `key`.
    func earliestCase(ownedKey key: String) -> Int64? { earliestOwner[KeyHash(key)].map { resolve($0.caseID) } }

    func merge(_ other: Int64, into keep: Int64) { if other != keep { mergedInto[other] = keep } }

    func record(dedupKey: String, sent: Int64?, caseID: Int64, linking keys: [String], owned: [String]) {
        dedupKeys.insert(KeyHash(dedupKey))
        keyCount += 1 + keys.count + owned.count
        for key in keys {
            let h = KeyHash(key)
            if let i = linking.index(forKey: h) {
                // a case already listed adds nothing (lookups take the set of cases); others are appended in place
                if linking.values[i].first != caseID && !linking.values[i].more.contains(caseID) { linking.values[i].more.append(caseID) }
            } else {
                linking[h] = Holders(first: caseID)
            }
        }
        for key in owned {
            let h = KeyHash(key)
            if let e = earliestOwner[h] {
                let earlier: Bool
                switch (sent, e.sent) {
                case let (a?, b?): earlier = a < b
                case (nil, _?): earlier = true
                default: earlier = false
                }
                if !earlier { continue }
            }
            earliestOwner[h] = (sent, caseID)
        }
    }
}
