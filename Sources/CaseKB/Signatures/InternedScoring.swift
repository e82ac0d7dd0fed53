/// Signature terms as small integers, for the scoring loop of a similar-case lookup. The ingest links thousands of
/// cases, each against 25 candidates, scoring every pair twice (the query against the candidate and the candidate
/// against itself); with terms as strings, hashing them was half the time of a link. Interned, a term's idf and a
/// candidate's position of it are array reads. The scores are those of `SimilarityScorer.score` to the last bit:
/// the same terms, in the same order, through the same arithmetic.
struct InternedSignature {
    /// The signature's terms as ids, list after list in `Kind` order, each list in the signature's order.
    var ids: [Int]
    /// The stored position of each term (frames and modules: stack order; blame: rank), aligned with `ids`.
    var positions: [Int]
    /// Where each kind's list starts in `ids` (and, last, where the lists end).
    var starts: [Int]

    func range(_ kind: Kind) -> Range<Int> { starts[kind.rawValue]..<starts[kind.rawValue + 1] }

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
        ids = []; positions = []; starts = []
        for (kind, list) in zip(Kind.allCases, InternedSignature.lists(signature)) {
            starts.append(ids.count)
            let stored = terms?.byKind[kind.name]
            for term in list {
                ids.append(table.id(kind.name, term))
                positions.append(stored?[term] ?? 0)
            }
        }
        starts.append(ids.count)
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
    func markQuery(_ q: InternedSignature, idf: [Double]) {
        queryGeneration += 1
        for (id, v) in zip(q.ids, idf) { queryMark[id] = queryGeneration; queryIDF[id] = v }
    }

    func markCandidate(_ c: InternedSignature) {
        candidateGeneration += 1
        let generation = candidateGeneration
        // the arrays reached once for the signature, not once (and one exclusivity check) per term
        candidateMark.withUnsafeMutableBufferPointer { mark in
            candidatePosition.withUnsafeMutableBufferPointer { position in
                for k in c.ids.indices where mark[c.ids[k]] != generation {
                    // the first occurrence's position, as `CaseTerms` keeps it
                    mark[c.ids[k]] = generation
                    position[c.ids[k]] = c.positions[k]
                }
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
    func scoreQueryAgainstCandidate(_ q: InternedSignature, idf: [Double], weights w: SimilarityScorer.Weights) -> Overlap {
        var o = Overlap()
        var s = 0.0
        @inline(__always) func shared(_ k: Int) -> Bool { candidateMark[q.ids[k]] == candidateGeneration }
        let frames = q.range(.frame)
        for k in frames where shared(k) {
            let i = k - frames.lowerBound, j = candidatePosition[q.ids[k]]
            let pos = 1.0 / (1.0 + 0.15 * Double(i)) * 1.0 / (1.0 + 0.1 * Double(abs(i - j)))
            s += w.frame * idf[k] * pos
        }
        for k in q.range(.edge) where shared(k) { s += w.edge * idf[k]; o.sharedEdges += 1 }
        let blame = q.range(.blame)
        for k in blame where shared(k) {
            s += w.blame * idf[k] / (1.0 + Double(k - blame.lowerBound) + Double(candidatePosition[q.ids[k]]) * 0.5)
            o.sharesBlameOrPool = true
        }
        for k in q.range(.pool) where shared(k) { s += w.pool * idf[k]; o.sharesBlameOrPool = true }
        for k in q.range(.exact) where shared(k) { s += w.exact * idf[k] }
        for k in q.range(.core) where shared(k) { s += w.core * idf[k] }
        for k in q.range(.family) where shared(k) { s += w.family }
        let modules = q.range(.module)
        for k in modules where shared(k) { s += w.module * idf[k] / (1.0 + 0.3 * Double(k - modules.lowerBound)) }
        o.score = s
        return o
    }

    /// `SimilarityScorer.score(c.signature, c.terms, idf:)` for the marked candidate against itself, a term's idf
    /// being the marked query's when the query holds it, else `rareIDF`.
    func candidateSelfScore(_ c: InternedSignature, rareIDF: Double, weights w: SimilarityScorer.Weights) -> Double {
        @inline(__always) func idf(_ k: Int) -> Double { queryMark[c.ids[k]] == queryGeneration ? queryIDF[c.ids[k]] : rareIDF }
        var s = 0.0
        let frames = c.range(.frame)
        for k in frames {
            let i = k - frames.lowerBound, j = candidatePosition[c.ids[k]]
            let pos = 1.0 / (1.0 + 0.15 * Double(i)) * 1.0 / (1.0 + 0.1 * Double(abs(i - j)))
            s += w.frame * idf(k) * pos
        }
        for k in c.range(.edge) { s += w.edge * idf(k) }
        let blame = c.range(.blame)
        for k in blame { s += w.blame * idf(k) / (1.0 + Double(k - blame.lowerBound) + Double(candidatePosition[c.ids[k]]) * 0.5) }
        for k in c.range(.pool) { s += w.pool * idf(k) }
        for k in c.range(.exact) { s += w.exact * idf(k) }
        for k in c.range(.core) { s += w.core * idf(k) }
        for _ in c.range(.family) { s += w.family }
        let modules = c.range(.module)
        for k in modules { s += w.module * idf(k) / (1.0 + 0.3 * Double(k - modules.lowerBound)) }
        return s
    }
}
