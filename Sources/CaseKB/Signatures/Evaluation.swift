import Foundation
import GRDB

/// Leave-one-out evaluation of similar-case lookup on a labelled set (`labels.tsv`: `file<TAB>group`), with the two
/// baselines the design notes compare against: an exact WinDbg-style bucket (bugcheck + first relevant frame) and
/// TF-IDF cosine over frames.
public enum SimilarityEvaluation {
    public struct Figures: Codable, Sendable {
        public var recallAt1: Double
        public var recallAt5: Double
        public var mrr: Double
        /// ROC-AUC of the top score separating queries with a known root cause from queries whose cause is new.
        public var newVsKnownAUC: Double
        enum CodingKeys: String, CodingKey { case mrr; case recallAt1 = "r_at_1"; case recallAt5 = "r_at_5"; case newVsKnownAUC = "new_vs_known_auc" }
    }

    public struct QueryResult: Codable, Sendable {
        public var file: String
        public var group: String
        public var known: Bool
        public var rank: Int?
        public var topScore: Double
        public var topConfidence: String
        public var topCase: String?
    }

    public struct Report: Codable, Sendable {
        public var queries: Int
        public var knownQueries: Int
        public var casekb: Figures
        public var bucketBaseline: Figures
        public var tfidfBaseline: Figures
        public var strongThreshold: Double
        public var possibleThreshold: Double
        /// Share of new-cause queries answered "none", and of known-cause queries answered "strong" or "possible".
        public var newAnsweredNone: Double
        public var knownAnsweredCredible: Double
        public var perQuery: [QueryResult]
        enum CodingKeys: String, CodingKey {
            case queries, casekb
            case knownQueries = "known_queries", bucketBaseline = "bucket_baseline", tfidfBaseline = "tfidf_baseline"
            case strongThreshold = "strong_threshold", possibleThreshold = "possible_threshold"
            case newAnsweredNone = "new_answered_none", knownAnsweredCredible = "known_answered_credible", perQuery = "per_query"
        }

        public var text: String {
            func row(_ name: String, _ f: Figures) -> String {
                String(format: "  %-28@ R@1 %.3f  R@5 %.3f  MRR %.3f  new-vs-known AUC %.3f", name as NSString, f.recallAt1, f.recallAt5, f.mrr, f.newVsKnownAUC)
            }
            var s = "leave-one-out over \(queries) threads (\(knownQueries) with a known root cause, \(queries - knownQueries) new):\n"
            s += row("casekb similar", casekb) + "\n" + row("exact bucket (bugcheck+frame)", bucketBaseline) + "\n" + row("TF-IDF over frames", tfidfBaseline) + "\n"
            s += String(format: "  confidence: %.0f%% of known-cause queries answered strong/possible, %.0f%% of new-cause queries answered none (thresholds strong ≥ %.2f, possible ≥ %.2f)\n",
                        knownAnsweredCredible * 100, newAnsweredNone * 100, strongThreshold, possibleThreshold)
            for q in perQuery where q.known && q.rank != 1 {
                s += "  miss: \(q.file) (\(q.group)) ranked \(q.rank.map(String.init) ?? "not found"); top \(q.topCase ?? "-") \(String(format: "%.2f", q.topScore))\n"
            }
            for q in perQuery where !q.known && q.topConfidence != "none" {
                s += "  false alarm: \(q.file) (\(q.group)) → \(q.topCase ?? "-") \(q.topConfidence) \(String(format: "%.2f", q.topScore))\n"
            }
            return s
        }
    }

    static func figures(ranks: [(known: Bool, rank: Int?, top: Double)]) -> Figures {
        let known = ranks.filter(\.known)
        let n = Double(max(known.count, 1))
        let r1 = Double(known.filter { $0.rank == 1 }.count) / n
        let r5 = Double(known.filter { ($0.rank ?? 99) <= 5 }.count) / n
        let mrr = known.reduce(0.0) { $0 + ($1.rank.map { 1.0 / Double($0) } ?? 0) } / n
        let pos = ranks.filter(\.known).map(\.top), neg = ranks.filter { !$0.known }.map(\.top)
        var auc = 0.0
        for p in pos { for q in neg { auc += p > q ? 1 : (p == q ? 0.5 : 0) } }
        auc = pos.isEmpty || neg.isEmpty ? 0 : auc / Double(pos.count * neg.count)
        return Figures(recallAt1: r1, recallAt5: r5, mrr: mrr, newVsKnownAUC: auc)
    }

    public static func run(directory: String) throws -> Report {
        let labelsPath = (directory as NSString).appendingPathComponent("labels.tsv")
        guard let labelText = try? String(contentsOfFile: labelsPath, encoding: .utf8) else {
            throw KnowledgeBase.StoreError.notFound("\(labelsPath): no labels file (file<TAB>group per line)")
        }
        var labels: [(String, String)] = []
        for e in DataFile.entries(fromText: labelText) {
            let p = e.value.split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
            if p.count >= 2 { labels.append((URL(fileURLWithPath: (directory as NSString).appendingPathComponent(p[0])).standardizedFileURL.path, p[1])) }
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("casekb-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let kb = try KnowledgeBase(path: tmp.appendingPathComponent("eval.sqlite").path)
        _ = try Ingester(kb).run(paths: labels.map(\.0))
        return try kb.pool.read { db in
            // the case of each labelled file
            var caseOf: [String: Int64] = [:]
            for (file, _) in labels {
                if let id = try Int64.fetchOne(db, sql: "SELECT m.case_id FROM messages m JOIN source_files f ON f.id = m.source_file_id WHERE f.path = ? LIMIT 1", arguments: [file]) { caseOf[file] = id }
            }
            let groupOfCase = Dictionary(labels.compactMap { l in caseOf[l.0].map { ($0, l.1) } }, uniquingKeysWith: { a, _ in a })
            let keyOfCase = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, key FROM cases").map { ($0["id"] as Int64, $0["key"] as String) })
            let idOfKey = Dictionary(keyOfCase.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            var allTerms: [Int64: SimilarityScorer.CaseTerms] = [:]
            for id in keyOfCase.keys { allTerms[id] = try kb.caseTerms(id, db: db) }
            let n = Double(keyOfCase.count)
            var frameDF: [String: Int] = [:]
            for t in allTerms.values { for f in (t.byKind["frame"] ?? [:]).keys { frameDF[f, default: 0] += 1 } }

            var ours: [(Bool, Int?, Double)] = [], bucket: [(Bool, Int?, Double)] = [], tfidf: [(Bool, Int?, Double)] = []
            var per: [QueryResult] = []
            for (file, group) in labels {
                guard let q = caseOf[file], let terms = allTerms[q] else { continue }
                let relevant = Set(groupOfCase.filter { $0.key != q && $0.value == group }.map(\.key))
                let known = !relevant.isEmpty
                // casekb
                let sig = CrashSignature(terms: terms, bugchecks: try String.fetchAll(db, sql: KnowledgeBase.crashCodesSQL, arguments: [q]))
                let results = try kb.similar(to: sig, limit: 50, excluding: q, db: db)
                let ranked = results.compactMap { idOfKey[$0.case] }
                let rank = ranked.firstIndex(where: relevant.contains).map { $0 + 1 }
                ours.append((known, rank, results.first?.score ?? 0))
                per.append(QueryResult(file: (file as NSString).lastPathComponent, group: group, known: known, rank: rank,
                                       topScore: results.first?.score ?? 0, topConfidence: results.first?.confidence.rawValue ?? "none", topCase: results.first?.case))
                // bucket baseline: same exact key, ties in case order
                let myExact = Set((terms.byKind["exact"] ?? [:]).keys)
                let bucketHits = allTerms.filter { $0.key != q && !myExact.isDisjoint(with: ($0.value.byKind["exact"] ?? [:]).keys) }.map(\.key).sorted()
                bucket.append((known, bucketHits.firstIndex(where: relevant.contains).map { $0 + 1 }, bucketHits.isEmpty ? 0 : 1))
                // TF-IDF cosine over frames
                func vector(_ t: SimilarityScorer.CaseTerms) -> [String: Double] {
                    var v: [String: Double] = [:]
                    for f in (t.byKind["frame"] ?? [:]).keys { v[f] = log((n + 1) / (Double(frameDF[f] ?? 0) + 0.5)) }
                    return v
                }
                let qv = vector(terms)
                let qn = sqrt(qv.values.reduce(0) { $0 + $1 * $1 })
                var cos: [(Int64, Double)] = []
                for (id, t) in allTerms where id != q {
                    let v = vector(t)
                    let dot = qv.reduce(0.0) { $0 + $1.value * (v[$1.key] ?? 0) }
                    let vn = sqrt(v.values.reduce(0) { $0 + $1 * $1 })
                    if dot > 0, qn > 0, vn > 0 { cos.append((id, dot / (qn * vn))) }
                }
                cos.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
                tfidf.append((known, cos.firstIndex(where: { relevant.contains($0.0) }).map { $0 + 1 }, cos.first?.1 ?? 0))
            }
            let known = per.filter(\.known), new = per.filter { !$0.known }
            return Report(queries: per.count, knownQueries: known.count,
                          casekb: figures(ranks: ours.map { ($0.0, $0.1, $0.2) }), bucketBaseline: figures(ranks: bucket.map { ($0.0, $0.1, $0.2) }),
                          tfidfBaseline: figures(ranks: tfidf.map { ($0.0, $0.1, $0.2) }),
                          strongThreshold: Confidence.strongThreshold, possibleThreshold: Confidence.possibleThreshold,
                          newAnsweredNone: new.isEmpty ? 0 : Double(new.filter { $0.topConfidence == "none" }.count) / Double(new.count),
                          knownAnsweredCredible: known.isEmpty ? 0 : Double(known.filter { $0.topConfidence != "none" }.count) / Double(known.count),
                          perQuery: per)
        }
    }
}
