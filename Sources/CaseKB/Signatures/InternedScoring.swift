/// Signature terms as small integers, for the scoring loop of a similar-case lookup. The ingest links thousands of
/// cases, each against 25 candidates, scoring every pair twice (the query against the candidate and the candidate
/// against itself); with terms as strings, hashing them was half the time of a link. Interned, a term's idf and a
/// candidate's position of it are array reads. The scores are those of `SimilarityScorer.score` to the last bit:
/// the same terms, in the same order, through the same arithmetic.
struct InternedSignature {
    /// The signature's lists by kind (`Kind` order), each term as its id, in the signature's order.
    var ids: [[Int]]
    /// The stored position of each term (frames and modules: stack order; blame: rank), aligned with `ids`.
    var positions: [[Int]]

    /// The term kinds in the order the scorer adds them up.
    enum Kind: Int, CaseIterable {
        case frame, edge, blame, pool, exact, core, family, module
        var name: String {
            switch self {
            case .frame: "frame"
            case .edge: "edge"
            case .blame: "blame"
            case .pool: "pool"
            case .exact: "exact"
            case .core: "core"
            case .family: "family"
            case .module: "module"
            }
        }
    }

    /// A signature's lists in `Kind` order.
    static func lists(_ s: CrashSignature) -> [[String]] {
        [s.frames, s.edges, s.blame, s.pool, s.exactKeys, s.coreKeys, s.families, s.modules]
    }

    /// `signature` interned in `table`, the positions read from its stored `terms` (none for a query: only a
    /// candidate's positions are read).
    init(_ signature: CrashSignature, terms: SimilarityScorer.CaseTerms?, table: TermTable) {
        var ids: [[Int]] = [], positions: [[Int]] = []
        for (kind, list) in zip(Kind.allCases, InternedSignature.lists(signature)) {
            ids.append(list.map { table.id(kind.name, $0) })
            if let stored = terms?.byKind[kind.name] { positions.append(list.map { stored[$0] ?? 0 }) }
            else { positions.append(Array(repeating: 0, count: list.count)) }
        }
        self.ids = ids
        self.positions = positions
    }
}

/// Term ids for one worker's lookups, and the scratch marks scoring uses: which terms the current query holds (with
/// their idf) and which the current candidate holds (with their position). Not thread-safe: one per worker.
final class TermTable {
    private var table: [TermKey: Int] = [:]
    private var queryMark: [Int] = []
    private var queryIDF: [Double] = []
    private var candidateMark: [Int] = []
    private var candidatePosition: [Int] = []
    private var queryGeneration = 0
    private var candidateGeneration = 0

    var count: Int { table.count }

    func id(_ kind: String, _ term: String) -> Int {
        let key = TermKey(kind: kind, term: term)
        if let id = table[key] { return id }
        let id = table.count
        table[key] = id
        queryMark.append(0); queryIDF.append(0); candidateMark.append(0); candidatePosition.append(0)
        return id
    }

    /// Forget every id (the interned signatures made with them must be dropped too).
    func removeAll() {
        table.removeAll(keepingCapacity: true)
        queryMark.removeAll(keepingCapacity: true); queryIDF.removeAll(keepingCapacity: true)
        candidateMark.removeAll(keepingCapacity: true); candidatePosition.removeAll(keepingCapacity: true)
    }

    /// Mark the query's terms with their idf (`idf`, aligned with `q.ids`).
    func markQuery(_ q: InternedSignature, idf: [[Double]]) {
        queryGeneration += 1
        for (list, values) in zip(q.ids, idf) {
            for (id, v) in zip(list, values) { queryMark[id] = queryGeneration; queryIDF[id] = v }
        }
    }

    func markCandidate(_ c: InternedSignature) {
        candidateGeneration += 1
        for (list, positions) in zip(c.ids, c.positions) {
            for (id, p) in zip(list, positions) where candidateMark[id] != candidateGeneration {
                // the first occurrence's position, as `CaseTerms` keeps it
                candidateMark[id] = candidateGeneration
                candidatePosition[id] = p
            }
        }
    }

    /// What a candidate shares with the query, as far as the ranking needs it before reasons are written.
    struct Overlap {
        var score = 0.0
        var sharedEdges = 0
        var sharesBlameOrPool = false
    }

    /// `SimilarityScorer.score(q, c, idf:)` for the marked query `q` (its idf per term in `idf`) and the marked candidate.
    func scoreQueryAgainstCandidate(_ q: InternedSignature, idf: [[Double]], weights w: SimilarityScorer.Weights) -> Overlap {
        var o = Overlap()
        var s = 0.0
        for (i, id) in q.ids[0].enumerated() where candidateMark[id] == candidateGeneration {
            let j = candidatePosition[id]
            let pos = 1.0 / (1.0 + 0.15 * Double(i)) * 1.0 / (1.0 + 0.1 * Double(abs(i - j)))
            s += w.frame * idf[0][i] * pos
        }
        for (k, id) in q.ids[1].enumerated() where candidateMark[id] == candidateGeneration { s += w.edge * idf[1][k]; o.sharedEdges += 1 }
        for (r, id) in q.ids[2].enumerated() where candidateMark[id] == candidateGeneration {
            s += w.blame * idf[2][r] / (1.0 + Double(r) + Double(candidatePosition[id]) * 0.5)
            o.sharesBlameOrPool = true
        }
        for (k, id) in q.ids[3].enumerated() where candidateMark[id] == candidateGeneration { s += w.pool * idf[3][k]; o.sharesBlameOrPool = true }
        for (k, id) in q.ids[4].enumerated() where candidateMark[id] == candidateGeneration { s += w.exact * idf[4][k] }
        for (k, id) in q.ids[5].enumerated() where candidateMark[id] == candidateGeneration { s += w.core * idf[5][k] }
        for id in q.ids[6] where candidateMark[id] == candidateGeneration { s += w.family }
        for (i, id) in q.ids[7].enumerated() where candidateMark[id] == candidateGeneration {
            s += w.module * idf[7][i] / (1.0 + 0.3 * Double(i))
        }
        o.score = s
        return o
    }

    /// `SimilarityScorer.score(c.signature, c.terms, idf:)` for the marked candidate against itself, a term's idf
    /// being the marked query's when the query holds it, else `rareIDF`.
    func candidateSelfScore(_ c: InternedSignature, rareIDF: Double, weights w: SimilarityScorer.Weights) -> Double {
        @inline(__always) func idf(_ id: Int) -> Double { queryMark[id] == queryGeneration ? queryIDF[id] : rareIDF }
        var s = 0.0
        for (i, id) in c.ids[0].enumerated() {
            let j = candidatePosition[id]
            let pos = 1.0 / (1.0 + 0.15 * Double(i)) * 1.0 / (1.0 + 0.1 * Double(abs(i - j)))
            s += w.frame * idf(id) * pos
        }
        for id in c.ids[1] { s += w.edge * idf(id) }
        for (r, id) in c.ids[2].enumerated() { s += w.blame * idf(id) / (1.0 + Double(r) + Double(candidatePosition[id]) * 0.5) }
        for id in c.ids[3] { s += w.pool * idf(id) }
        for id in c.ids[4] { s += w.exact * idf(id) }
        for id in c.ids[5] { s += w.core * idf(id) }
        for _ in c.ids[6] { s += w.family }
        for (i, id) in c.ids[7].enumerated() { s += w.module * idf(id) / (1.0 + 0.3 * Double(i)) }
        return s
    }
}
