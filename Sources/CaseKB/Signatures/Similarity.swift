import Foundation
import GRDB

/// How sure a similar-case answer is: calibrated thresholds on the normalised score (tuned on Corpus/eval).
public enum Confidence: String, Sendable, Codable {
    case strong, possible, none

    /// Thresholds on the similarity (score / the query's own score), from `casekb eval-similar` on Corpus/eval.
    public static let strongThreshold = 0.5
    public static let possibleThreshold = 0.29

    public init(similarity: Double) {
        self = similarity >= Confidence.strongThreshold ? .strong : (similarity >= Confidence.possibleThreshold ? .possible : .none)
    }

    /// Strong also when the evidence corroborates itself: a shared call chain (two edges or more) together with the
    /// same culprit or the same suspect pool tag, above the possible threshold.
    public init(similarity: Double, shared: [String: [String]]) {
        self.init(similarity: similarity, sharedEdges: shared["edge"]?.count ?? 0,
                  sharesBlameOrPool: !(shared["blame"] ?? []).isEmpty || !(shared["pool"] ?? []).isEmpty)
    }

    init(similarity: Double, sharedEdges: Int, sharesBlameOrPool: Bool) {
        self.init(similarity: similarity)
        if self == .possible, sharedEdges >= 2, sharesBlameOrPool { self = .strong }
    }

    var order: Int { self == .strong ? 2 : (self == .possible ? 1 : 0) }
}

/// One prior case that looks like the query, with why.
public struct SimilarCase: Sendable, Codable {
    public struct Advice: Sendable, Codable {
        public var action: String
        public var target: String?
        public var message: Int
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(action, forKey: .action); try c.encode(target, forKey: .target); try c.encode(message, forKey: .message)
        }
        enum CodingKeys: String, CodingKey { case action, target, message }
    }
    public var `case`: String
    public var subject: String
    public var score: Double
    public var confidence: Confidence
    public var reasons: [String]
    public var recommendations: [Advice]
    public var bugchecks: [String]
    /// The case's row id in the knowledge base it was found in (not part of the JSON).
    var caseID: Int64 = 0

    enum CodingKeys: String, CodingKey { case `case`, subject, score, confidence, reasons, recommendations, bugchecks }
}

/// The JSON of `casekb similar --json`.
public struct SimilarResult: Sendable, Codable {
    public struct Query: Sendable, Codable {
        public var bugchecks: [String]
        public var frames: [String]
        public var culprits: [String]
        public var poolTags: [String]
        enum CodingKeys: String, CodingKey { case bugchecks, frames, culprits; case poolTags = "pool_tags" }
    }
    public var query: Query
    public var results: [SimilarCase]
    /// `strong`, `possible` or `none`: the best result's confidence (`none` when nothing credible was found).
    public var confidence: Confidence
}

/// Scores prior cases against a crash signature: position-aware frame similarity weighted by corpus IDF (FaST /
/// TraceSim-like), shared call edges, culprit, suspect pool tag, bucket keys, and bugcheck family as soft evidence.
public struct SimilarityScorer: Sendable {
    public struct Weights: Sendable {
        public var frame = 1.0, edge = 1.2, blame = 2.0, pool = 1.5, exact = 0.6, core = 1.0, family = 0.3, module = 0.8
    }
    public var weights = Weights()
    public init() {}

    /// Terms of a case with positions (frames), as stored.
    public struct CaseTerms: Sendable {
        public var byKind: [String: [String: Int]] = [:]
        public init() {}
        public init(_ s: CrashSignature) {
            for (k, t) in s.terms {
                let pos = k == "frame" ? s.frames.firstIndex(of: t) : (k == "blame" ? s.blame.firstIndex(of: t) : (k == "module" ? s.modules.firstIndex(of: t) : 0))
                byKind[k, default: [:]][t] = byKind[k]?[t] ?? pos ?? 0
            }
        }
    }

    /// Raw score of candidate `c` for query `q`; `idf(kind, term)`. `shared` lists the terms they share, by kind.
    public func score(_ q: CrashSignature, _ c: CaseTerms, idf: (String, String) -> Double) -> (score: Double, shared: [String: [String]]) {
        var shared: [String: [String]] = [:]
        let s = score(q, c, idf: idf) { kind, term in shared[kind, default: []].append(term) }
        return (s, shared)
    }

    /// The terms `q` shares with a case, by kind, in the order `score` meets them: what the reasons list, without
    /// the weights (no term's frequency looked up).
    public func sharedTerms(_ q: CrashSignature, _ c: CaseTerms) -> [String: [String]] {
        var shared: [String: [String]] = [:]
        _ = score(q, c, idf: { _, _ in 1 }) { kind, term in shared[kind, default: []].append(term) }
        return shared
    }

    /// The raw score alone, each shared term reported to `share` (a self-score needs none collected).
    func score(_ q: CrashSignature, _ c: CaseTerms, idf: (String, String) -> Double, share: (String, String) -> Void) -> Double {
        // one dictionary per kind, looked up once, not once per term
        let frames = c.byKind["frame"] ?? [:], edges = c.byKind["edge"] ?? [:], blame = c.byKind["blame"] ?? [:]
        let pool = c.byKind["pool"] ?? [:], exact = c.byKind["exact"] ?? [:], core = c.byKind["core"] ?? [:]
        let families = c.byKind["family"] ?? [:], modules = c.byKind["module"] ?? [:]
        var s = 0.0
        for (i, f) in q.frames.enumerated() {
            guard let j = frames[f] else { continue }
            let pos = 1.0 / (1.0 + 0.15 * Double(i)) * 1.0 / (1.0 + 0.1 * Double(abs(i - j)))
            s += weights.frame * idf("frame", f) * pos
            share("frame", f)
        }
        for e in q.edges where edges[e] != nil { s += weights.edge * idf("edge", e); share("edge", e) }
        for (r, b) in q.blame.enumerated() {
            guard let theirRank = blame[b] else { continue }
            s += weights.blame * idf("blame", b) / (1.0 + Double(r) + Double(theirRank) * 0.5)
            share("blame", b)
        }
        for p in q.pool where pool[p] != nil { s += weights.pool * idf("pool", p); share("pool", p) }
        for k in q.exactKeys where exact[k] != nil { s += weights.exact * idf("exact", k); share("exact", k) }
        for k in q.coreKeys where core[k] != nil { s += weights.core * idf("core", k); share("core", k) }
        for f in q.families where families[f] != nil { s += weights.family; share("family", f) }
        for (i, m) in q.modules.enumerated() where modules[m] != nil {
            s += weights.module * idf("module", m) / (1.0 + 0.3 * Double(i))
            share("module", m)
        }
        return s
    }

    /// Reasons an engineer can check in seconds.
    public static func reasons(_ shared: [String: [String]], query q: CrashSignature, other: (bugchecks: [String], frames: [String])) -> [String] {
        var out: [String] = []
        let frames = shared["frame"] ?? []
        let edges = shared["edge"] ?? []
        if !edges.isEmpty {
            // the longest chain of shared edges, innermost first: a ← b ← c
            var chain: [String] = []
            for f in q.frames where frames.contains(f) {
                if chain.isEmpty || edges.contains(chain.last! + ">" + f) { chain.append(f) } else if chain.count < 2 { chain = [f] } else { break }
            }
            if chain.count >= 2 { out.append("same call chain: " + chain.joined(separator: " ← ")) }
        }
        if out.isEmpty, !frames.isEmpty { out.append("shared frames: " + frames.prefix(4).joined(separator: ", ")) }
        else if frames.count > 3 { out.append("\(frames.count) relevant frames in common") }
        if let b = shared["blame"], !b.isEmpty { out.append("same culprit: " + b.joined(separator: ", ")) }
        else if let m = shared["module"], !m.isEmpty { out.append("same third-party module on the stack: " + m.joined(separator: ", ")) }
        if let p = shared["pool"], !p.isEmpty {
            out.append("same suspect pool tag: " + p.joined(separator: ", "))
        }
        let mine = q.bugchecks.isEmpty ? "none written" : q.bugchecks.joined(separator: ", ")
        let theirs = other.bugchecks.isEmpty ? "none written" : other.bugchecks.joined(separator: ", ")
        if q.bugchecks.isEmpty && other.bugchecks.isEmpty {
            // nothing to say
        } else if Set(q.bugchecks).intersection(other.bugchecks).isEmpty {
            let fam = shared["family"].map { " (same family: \($0.joined(separator: ", ")))" } ?? " (different bugchecks: the match rests on the stack and blame)"
            out.append("bugchecks: this \(mine); that \(theirs)\(fam)")
        } else {
            out.append("bugchecks: this \(mine); that \(theirs)")
        }
        return out
    }
}

/// A signature term: its kind and text.
struct TermKey: Hashable, Sendable { var kind: String; var term: String }

/// Weights summed per case id in an array indexed by the id (case ids are row ids, small and dense), with the ids
/// touched listed: a lookup adds thousands of postings, and a dictionary hashed every one of them.
final class CandidateWeights {
    private var weights: [Double] = []
    private var touched: [Int64] = []

    /// Add `weight` to case `id`. Weights must be positive: a zero entry means "not touched".
    func add(_ id: Int64, _ weight: Double) { add([id], weight) }

    /// Add `weight` to every case of `ids` (one term's postings), as adding them one by one would: the weights are
    /// reached once for the list, not once (and one exclusivity check) per posting.
    func add(_ ids: [Int64], _ weight: Double) {
        guard let top = ids.max(), top >= 0 else { return }
        if Int(top) >= weights.count { weights.append(contentsOf: repeatElement(0, count: max(Int(top) + 1, weights.count * 2) - weights.count)) }
        var firstTouched: [Int64] = []
        weights.withUnsafeMutableBufferPointer { w in
            for id in ids where id >= 0 {
                if w[Int(id)] == 0 { firstTouched.append(id) }
                w[Int(id)] += weight
            }
        }
        touched += firstTouched
    }

    /// How many distinct cases were given a weight since the last `clear` (a removed one still counts).
    var count: Int { touched.count }

    /// Drop case `id` from the candidates (after the adds: adding it again would list it twice).
    func remove(_ id: Int64) {
        if id >= 0, Int(id) < weights.count { weights[Int(id)] = 0 }
    }

    /// The `k` best candidates, as `KnowledgeBase.best` orders them.
    func best(_ k: Int) -> [Int64] {
        KnowledgeBase.best(k, entries: touched.lazy.filter { self.weights[Int($0)] > 0 }.map { (id: $0, weight: self.weights[Int($0)]) })
    }

    func clear() {
        for id in touched { weights[Int(id)] = 0 }
        touched.removeAll(keepingCapacity: true)
    }
}

/// What lookups read again and again during one read snapshot (ingest links thousands of cases against the same
/// candidates): document frequencies and index entries of terms, candidates' terms and signatures, start dates, and
/// the few columns a result shows. One per thread; not thread-safe. Bounded, so memory does not grow with the
/// knowledge base: a full table is emptied and refilled by the popular entries.
public final class TermFrequencies: @unchecked Sendable {
    var map: [TermKey: Int] = [:]
    var postings: [TermKey: [Int64]] = [:]
    var candidates: [Int64: Candidate] = [:]
    var firstSent: [Int64: Int64?] = [:]
    var summaries: [Int64: CaseSummary] = [:]
    /// The candidate cases of one lookup and their summed weights (reused: emptied at the start of each lookup).
    let candidateWeights = CandidateWeights()
    /// Ids of the terms scored so far (candidates hold them: both are emptied together when it grows past `termLimit`).
    let termTable = TermTable()
    static let limit = 2_000
    static let termLimit = 200_000
    public init() {}

    /// A candidate case as scoring needs it: its stored terms, the signature they spell, and that signature interned.
    /// A class: a lookup takes it from the cache and keeps it for its results, one reference each time, not a copy
    /// of every list it holds.
    final class Candidate {
        let terms: SimilarityScorer.CaseTerms
        let signature: CrashSignature
        let interned: InternedSignature
        init(terms: SimilarityScorer.CaseTerms, signature: CrashSignature, interned: InternedSignature) {
            self.terms = terms; self.signature = signature; self.interned = interned
        }
    }
    /// What a result shows of a case besides its score.
    struct CaseSummary {
        var key: String
        var subject: String
        var bugchecks: [String]
    }

    /// `table[key]`, else `load()` stored (the table emptied first when full).
    static func cached<K: Hashable, V>(_ table: inout [K: V], _ key: K, limit: Int = TermFrequencies.limit, _ load: () throws -> V) rethrows -> V {
        if let v = table[key] { return v }
        let v = try load()
        if table.count >= limit { table.removeAll(keepingCapacity: true) }
        table[key] = v
        return v
    }
}

extension KnowledgeBase {
    func caseTerms(_ caseID: Int64, db: Database) throws -> SimilarityScorer.CaseTerms {
        var t = SimilarityScorer.CaseTerms()
        for r in try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, term, position FROM signature_terms WHERE case_id = ?"), arguments: [caseID]) {
            t.byKind[r["kind"], default: [:]][r["term"]] = r["position"]
        }
        return t
    }

    /// Prior cases like the signature `q`, best first. Candidates come from the term index (rare terms first), so a
    /// lookup reads a few hundred index entries, never every case. `before` keeps only cases that started earlier;
    /// `excluding` drops one case (the query's own). `withAdvice: false` leaves the results' recommendations out
    /// (the ingest's links do not show them). `frequencies` caches what one read snapshot gives for many lookups.
    /// `credibleOnly` leaves out the results of confidence `.none` (ranked last), whose reasons are then never listed.
    public func similar(to q: CrashSignature, limit: Int = 5, excluding: Int64? = nil, before: Int64? = nil,
                        frequencies: TermFrequencies? = nil, candidates: Int = 60, withAdvice: Bool = true, credibleOnly: Bool = false,
                        db: Database) throws -> [SimilarCase] {
        let n = Double(try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM cases")) ?? 0)
        guard n > 0, !q.isEmpty else { return [] }
        let cache = frequencies ?? TermFrequencies()
        var idfCache: [TermKey: Double] = [:]
        func df(_ key: TermKey) throws -> Int {
            try TermFrequencies.cached(&cache.map, key, limit: 100_000) {
                try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM signature_terms WHERE kind = ? AND term = ?"), arguments: [key.kind, key.term]) ?? 0
            }
        }
        let qTerms = q.terms.map { TermKey(kind: $0.kind, term: $0.term) }
        var dfOf: [TermKey: Int] = [:]
        for key in qTerms {
            let d = try df(key)
            idfCache[key] = max(0.1, log((n + 1) / (Double(d) + 0.5)))
            if key.kind != "family" { dfOf[key] = d }
        }
        let idf: (String, String) -> Double = { k, t in idfCache[TermKey(kind: k, term: t)] ?? max(0.1, log(n + 1)) }
        // candidates: cases sharing the query's rarest informative terms (never more than a few hundred index reads)
        let prelim = cache.candidateWeights
        prelim.clear()
        let rarestFirst = qTerms.filter { $0.kind != "family" }.map { (key: $0, df: dfOf[$0] ?? 0) }.sorted { $0.df < $1.df }
        for (key, d) in rarestFirst {
            if d == 0 || Double(d) > max(50, n / 5) { continue }
            if prelim.count >= 300 && d > 20 { break }
            let ids = try TermFrequencies.cached(&cache.postings, key) {
                try Int64.fetchAll(db.cachedStatement(sql: "SELECT case_id FROM signature_terms WHERE kind = ? AND term = ? LIMIT 500"), arguments: [key.kind, key.term])
            }
            prelim.add(ids, idf(key.kind, key.term))
        }
        if let ex = excluding { prelim.remove(ex) }
        let scorer = SimilarityScorer()
        let selfScore = max(scorer.score(q, SimilarityScorer.CaseTerms(q), idf: idf, share: { _, _ in }), 1e-9)
        // a candidate's own terms that the query lacks are taken as rare (df 1): no index read for them
        let rareIDF = max(0.1, log((n + 1) / 1.5))
        // candidates are scored with interned terms (array reads, no string hashing); the shared terms behind the
        // reasons are listed for the results shown only
        let table = cache.termTable
        if table.count > TermFrequencies.termLimit { table.removeAll(); cache.candidates.removeAll(keepingCapacity: true) }
        let qInterned = InternedSignature(q, terms: nil, table: table)
        let qIDF = zip(InternedSignature.Kind.allCases, InternedSignature.lists(q)).flatMap { kind, list in list.map { idf(kind.name, $0) } }
        table.markQuery(qInterned, idf: qIDF)
        var scored: [(id: Int64, similarity: Double, confidence: Confidence, candidate: Int)] = []
        var scoredCandidates: [TermFrequencies.Candidate] = []
        for id in prelim.best(candidates) {
            if let b = before {
                let first = try TermFrequencies.cached(&cache.firstSent, id, limit: 100_000) {
                    try Int64.fetchOne(db.cachedStatement(sql: "SELECT first_sent FROM cases WHERE id = ?"), arguments: [id])
                }
                if let first, first >= b { continue }
            }
            let candidate = try TermFrequencies.cached(&cache.candidates, id) {
                let terms = try caseTerms(id, db: db)
                let signature = CrashSignature(terms: terms)
                return TermFrequencies.Candidate(terms: terms, signature: signature, interned: InternedSignature(signature, terms: terms, table: table))
            }
            table.markCandidate(candidate.interned)
            let overlap = table.scoreQueryAgainstCandidate(qInterned, idf: qIDF, weights: scorer.weights)
            let s = overlap.score
            let theirSelf = max(table.candidateSelfScore(candidate.interned, rareIDF: rareIDF, weights: scorer.weights), 1e-9)
            assert(s == scorer.score(q, candidate.terms, idf: idf).score, "interned score differs")
            assert(theirSelf == max(scorer.score(candidate.signature, candidate.terms, idf: { k, t in idfCache[TermKey(kind: k, term: t)] ?? rareIDF }, share: { _, _ in }), 1e-9),
                   "interned self-score differs")
            // the mean of the two coverages: how much of the query the case explains, and how much of the case the query does
            let similarity = min(1, (s / selfScore + s / theirSelf) / 2)
            scored.append((id, similarity, Confidence(similarity: similarity, sharedEdges: overlap.sharedEdges, sharesBlameOrPool: overlap.sharesBlameOrPool),
                           scoredCandidates.count))
            scoredCandidates.append(candidate)
        }
        scored.sort { a, b in
            let ca = a.confidence.order, cb = b.confidence.order
            if ca != cb { return ca > cb }
            return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id
        }
        return try scored.prefix(limit).filter { !credibleOnly || $0.confidence != .none }.map { id, sim, confidence, index in
            let candidate = scoredCandidates[index]
            let shared = scorer.sharedTerms(q, candidate.terms)
            assert(shared == scorer.score(q, candidate.terms, idf: idf).shared, "shared terms differ")
            let frames = candidate.signature.frames
            assert(confidence == Confidence(similarity: sim, shared: shared), "interned overlap differs")
            let summary = try TermFrequencies.cached(&cache.summaries, id) {
                let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT key, subject FROM cases WHERE id = ?"), arguments: [id])
                let bugchecks = try String.fetchAll(db.cachedStatement(sql: KnowledgeBase.crashCodesSQL), arguments: [id])
                return TermFrequencies.CaseSummary(key: row?["key"] ?? "?", subject: row?["subject"] ?? "", bugchecks: bugchecks)
            }
            let advice = withAdvice ? try Row.fetchAll(db.cachedStatement(sql: "SELECT action, target, position FROM recommendations WHERE case_id = ? ORDER BY position, id"), arguments: [id])
                .map { SimilarCase.Advice(action: $0["action"], target: $0["target"], message: $0["position"]) } : []
            return SimilarCase(case: summary.key, subject: summary.subject, score: (sim * 1000).rounded() / 1000,
                               confidence: confidence,
                               reasons: SimilarityScorer.reasons(shared, query: q, other: (summary.bugchecks, frames)),
                               recommendations: advice, bugchecks: summary.bugchecks, caseID: id)
        }
    }

    /// The `k` ids with the highest weight (ties: lower id first), best first — the first `k` of the whole table
    /// sorted, without sorting it (a lookup gathers thousands of ids and keeps a few dozen).
    static func best(_ k: Int, of weights: [Int64: Double]) -> [Int64] {
        best(k, entries: weights.lazy.map { (id: $0.key, weight: $0.value) })
    }

    /// `best(_:of:)` over any sequence of (id, weight) entries, ids distinct.
    static func best(_ k: Int, entries: some Sequence<(id: Int64, weight: Double)>) -> [Int64] {
        guard k > 0 else { return [] }
        var top: [(id: Int64, weight: Double)] = []
        top.reserveCapacity(k + 1)
        func before(_ a: (id: Int64, weight: Double), _ b: (id: Int64, weight: Double)) -> Bool {
            a.weight != b.weight ? a.weight > b.weight : a.id < b.id
        }
        for entry in entries {
            if top.count == k, let last = top.last, !before(entry, last) { continue }
            var at = top.count
            while at > 0, before(entry, top[at - 1]) { at -= 1 }
            top.insert(entry, at: at)
            if top.count > k { top.removeLast() }
        }
        return top.map(\.id)
    }

    /// The signature of any text with crash output: a bare `!analyze -v`, a `kc` paste, or a whole mail or thread file.
    public static func querySignature(text: String, path: String? = nil) -> (CrashSignature, CaseKnowledge) {
        var cases: [CaseThread] = []
        if let path { cases = ThreadParser.parse(paths: [path]).cases }
        if cases.isEmpty {
            let bytes = Array(text.utf8)
            if case .success = FormatDetector.detect(prefix: Array(bytes.prefix(FormatDetector.prefixSize)), fileSize: bytes.count) {
                let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("casekb-query-\(UUID().uuidString)")
                if FileManager.default.createFile(atPath: tmp.path, contents: Data(bytes)) {
                    cases = ThreadParser.parse(paths: [tmp.path]).cases
                    try? FileManager.default.removeItem(at: tmp)
                }
            }
        }
        if !cases.isEmpty {
            let all = cases.flatMap(\.messages)
            let extractor = MessageExtractor()
            let facts = all.enumerated().map { extractor.extract($1, index: $0 + 1) }
            let k = CaseKnowledge.build(facts)
            return (CrashSignature(k, texts: all.map(\.newText)), k)
        }
        let k = CaseKnowledge.build([MessageExtractor().extract(text: Redactor.shared.redact(text), message: 1, field: "query")])
        return (CrashSignature(k, texts: [text]), k)
    }

    /// `casekb similar`: prior cases for a query text.
    public func similar(text: String, path: String? = nil, limit: Int = 5) throws -> SimilarResult {
        let (sig, k) = KnowledgeBase.querySignature(text: text, path: path)
        let results = try pool.read { db in try similar(to: sig, limit: limit, db: db) }
        let best = results.first?.confidence ?? .none
        return SimilarResult(query: .init(bugchecks: sig.bugchecks, frames: sig.frames, culprits: k.culprits, poolTags: sig.pool),
                             results: results.filter { $0.confidence != .none || results.count <= 1 }.filter { $0.confidence != .none },
                             confidence: best)
    }

    /// Similar earlier cases linked at ingest (`show` lists them).
    public func links(_ key: String) throws -> [SimilarCase] {
        try pool.read { db in
            guard let id = try caseID(key, db: db) else { return [] }
            return try Row.fetchAll(db, sql: """
                SELECT c.key, c.subject, l.score, l.confidence, l.reasons, l.linked_case_id FROM case_links l JOIN cases c ON c.id = l.linked_case_id
                WHERE l.case_id = ? ORDER BY l.score DESC
                """, arguments: [id]).map { r in
                let lid: Int64 = r["linked_case_id"]
                let advice = try Row.fetchAll(db, sql: "SELECT action, target, position FROM recommendations WHERE case_id = ? ORDER BY position, id", arguments: [lid])
                    .map { SimilarCase.Advice(action: $0["action"], target: $0["target"], message: $0["position"]) }
                let bugchecks = try String.fetchAll(db, sql: KnowledgeBase.crashCodesSQL, arguments: [lid])
                return SimilarCase(case: r["key"], subject: r["subject"], score: r["score"], confidence: Confidence(rawValue: r["confidence"]) ?? .possible,
                                   reasons: KnowledgeBase.decode([String].self, r["reasons"]) ?? [], recommendations: advice, bugchecks: bugchecks)
            }
        }
    }
}
