import Foundation
import GRDB
import Testing
@testable import CaseKB

@Suite("Crash signatures")
struct SignatureTests {
    func frame(_ s: String) -> StackFrame { StackExtractor.parseCallSite(s[...], inline: false, allowBareModule: true)! }

    @Test("normalisation: offsets out, kernel aliases, case, templates, symbol-less and bare-address frames")
    func normalisation() {
        let n = FrameNormalizer.shared
        #expect(n.normalize(frame("nt!KiPageFault+0x42e")) == "nt!kipagefault")
        #expect(n.normalize(frame("ntkrnlmp!KiPageFault")) == "nt!kipagefault")
        #expect(n.normalize(frame("ntoskrnl!KiPageFault+0x1")) == "nt!kipagefault")
        #expect(n.normalize(frame("nwifi!Dot11SendCompletion+0x4b")) == n.normalize(frame("NWIFI!dot11sendcompletion")))
        #expect(n.normalize(frame("chrome!base::RefCounted<a,b<c> >::Release+0x36")) == "chrome!base::refcounted<…>::release")
        #expect(n.normalize(frame("gscfmgr+0xaa39")) == "gscfmgr")
        #expect(n.normalize(frame("Netwtw08")) == "netwtw08")
        #expect(n.normalize(frame("0x3200360035")) == "<bad-address>")
    }

    @Test("tiers: ignore drops, maybe is kept only before a definite frame, thread bases go")
    func tiers() {
        let n = FrameNormalizer.shared
        #expect(n.tier(frame("nt!KeBugCheckEx")) == .ignore)
        #expect(n.tier(frame("nt!KiRetireDpcList+0x1f4")) == .ignore)
        #expect(n.tier(frame("nt!KeExpandKernelStackAndCalloutInternal$filt$0+0x16")) == .ignore)
        #expect(n.tier(frame("ndis!ndisDataPathExpandStackCallback+0x3e")) == .maybe)
        #expect(n.tier(frame("nwifi!Dot11SendCompletion")) == .definite)
        let frames = ["nt!KeBugCheckEx", "nt!KiPageFault+0x42e", "0x3200360035", "nwifi!Dot11SendCompletion+0x4b", "nwifi!Pt6SendComplete+0x1d",
                      "ndis!ndisCallSendCompleteHandler+0x33", "ndis!ndisDataPathExpandStackCallback+0x3e", "nt!KeExpandKernelStackAndCalloutInternal+0x78",
                      "ndis!NdisFSendNetBufferListsComplete+0x28dc4", "vwifimf+0x1f92", "nt!KiRetireDpcList"].map(frame)
        #expect(n.relevantFrames(frames) == ["nwifi!dot11sendcompletion", "nwifi!pt6sendcomplete", "ndis!ndiscallsendcompletehandler",
                                             "ndis!ndisdatapathexpandstackcallback", "nt!keexpandkernelstackandcalloutinternal",
                                             "ndis!ndisfsendnetbufferlistscomplete", "vwifimf"])
        // a trailing maybe frame with nothing definite after it is dropped
        #expect(n.relevantFrames(["nwifi!Dot11SendCompletion", "nt!KeExpandKernelStackAndCalloutEx"].map(frame)) == ["nwifi!dot11sendcompletion"])
    }

    @Test("keys of a crash: bucket, core, blame, pool, edges, families; rules versioned")
    func keys() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")).first)
        let s = CrashSignature(CaseKnowledge.build(c), texts: c.messages.map(\.newText))
        #expect(s.blame.first == "vwifimf")
        #expect(s.pool.contains("Filt"))
        #expect(s.edges.contains("nwifi!dot11sendcompletion>nwifi!pt6sendcomplete"))
        #expect(s.coreKeys.contains("nwifi!dot11sendcompletion|nwifi!pt6sendcomplete|ndis!ndiscallsendcompletehandler"))
        #expect(s.exactKeys.contains("0x0000001E|nwifi!dot11sendcompletion"))
        #expect(s.families.contains("memory-access") && s.families.contains("verifier"))
        #expect(FrameNormalizer.rulesVersion.count == 16)
    }
}

@Suite("Similar-case lookup")
struct SimilarLookupTests {
    /// The seed thread split into one case per message (except `skip`), as separate .eml files.
    static func splitSeed(into dir: URL, skip: Int) throws -> [Int: String] {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")).first)
        var keys: [Int: String] = [:]
        for (i, m) in c.messages.enumerated() where i + 1 != skip {
            let n = i + 1
            let date = m.sent.map { d -> String in
                let iso = MailDate.iso(d)
                return "\(iso.prefix(10)) \(iso.dropFirst(11).prefix(8))"
            } ?? ""
            let eml = "From: \(m.from.display.replacingOccurrences(of: " ", with: "."))@example.com\nSubject: seed message \(n)\nDate: \(date) +0000\nMessage-ID: <seed-\(n)@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n\(m.newText)\n"
            try eml.write(to: dir.appendingPathComponent("m\(n).eml"), atomically: false, encoding: .utf8)
            keys[n] = "seed-\(n)@example.com"
        }
        return keys
    }

    @Test("the 0xFC analysis of seed message 19 finds the 0x1E dumps and the message-13 stack first, strongly")
    func crossBugcheck() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mail = dir.appendingPathComponent("mail")
        try FileManager.default.createDirectory(at: mail, withIntermediateDirectories: true)
        let keys = try Self.splitSeed(into: mail, skip: 19)
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [mail.path])
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")).first)
        let r = try kb.similar(text: c.messages[18].newText, limit: 5)
        #expect(r.query.bugchecks == ["0x000000FC"])
        let top = r.results.prefix(4).map(\.case)
        let expected = Set([13, 14, 22, 25].compactMap { keys[$0] })
        #expect(Set(top) == expected, "\(top)")
        #expect(r.results.first?.confidence == .strong)
        let first = try #require(r.results.first)
        #expect(first.reasons.contains { $0.hasPrefix("same call chain: nwifi!dot11sendcompletion ← nwifi!pt6sendcomplete") })
        #expect(first.reasons.contains { $0.contains("bugchecks: this 0x000000FC") })
        #expect(r.results.contains { $0.recommendations.contains { $0.action == "uninstall_driver" && $0.target == "vwifimf.sys" } })
        // the links made at ingest: message 25's case links to the earlier 0x1E / kc cases
        let links = try kb.links(try #require(keys[25]))
        #expect(links.contains { $0.case == keys[22] && $0.confidence == .strong })
    }

    @Test("nothing credible gives confidence none and no results")
    func noMatch() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.corpus("threads")])
        let query = """
        VIDEO_TDR_FAILURE (116)
        STACK_TEXT:
        ffffb581`0ea3fc88 fffff804`7cc3b6a2     : 00000000`00000116 00000000`00000001 00000000`00001e00 fffff804`7d6fb320 : nt!KeBugCheckEx
        ffffb581`0ea3fc90 fffff804`7cac9f03     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : dxgkrnl!TdrResetFromTimeout+0x15
        ffffb581`0ea3fcf0 fffff804`7cac99ea     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : amdkmdag+0x1a2b3c
        """
        let r = try kb.similar(text: query)
        #expect(r.confidence == .none)
        #expect(r.results.isEmpty)
        #expect(r.query.bugchecks == ["0x00000116"])
    }

    @Test("JSON contract of casekb similar")
    func json() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.corpus("threads")])
        let r = try kb.similar(text: "0: kd> kc\n # Call Site\n00 nt!KeBugCheckEx\n01 nt!KiPageFault\n02 nwifi!Dot11SendCompletion\n03 nwifi!Pt6SendComplete\n04 ndis!ndisCallSendCompleteHandler\n")
        let data = try JSONEncoder().encode(r)
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let q = try #require(obj["query"] as? [String: Any])
        for key in ["bugchecks", "frames", "culprits", "pool_tags"] { #expect(q[key] != nil, "\(key)") }
        let results = try #require(obj["results"] as? [[String: Any]])
        let first = try #require(results.first)
        for key in ["case", "subject", "score", "confidence", "reasons", "recommendations"] { #expect(first[key] != nil, "\(key)") }
        let cases = results.compactMap { $0["case"] as? String }
        #expect(cases.contains("CAS-02698-C5V4N5"))
        #expect(cases.contains("20230508101203.4F1A@contoso-fin.example"))
        #expect(!cases.contains("SR#120030623000481"))
    }

    @Test("interned scoring gives the string scorer's scores to the last bit, on every pair of Corpus/eval signatures")
    func internedScoresMatch() throws {
        let dir = Fixtures.corpus("eval")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".eml") }.sorted()
        let signatures = try files.map { f -> CrashSignature in
            let text = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
            return KnowledgeBase.querySignature(text: text, path: f).0
        }.filter { !$0.isEmpty }
        #expect(signatures.count >= 20)
        let scorer = SimilarityScorer()
        let table = TermTable()
        // made-up idfs, different per term, so a term scored with the wrong idf shows
        func idf(_ kind: String, _ term: String) -> Double { 0.1 + Double((kind + term).utf8.reduce(0) { ($0 &* 31 &+ Int($1)) % 1000 }) / 97 }
        let rare = 7.25
        var shared = 0
        for q in signatures {
            let qi = InternedSignature(q, terms: nil, table: table)
            let qIDF = zip(InternedSignature.Kind.allCases, InternedSignature.lists(q)).flatMap { kind, list in list.map { idf(kind.name, $0) } }
            let qKeys = Set(q.terms.map { $0.kind + "\u{1}" + $0.term })
            table.markQuery(qi, idf: qIDF)
            for c in signatures {
                // a candidate as stored: its terms with positions, and the signature they spell
                let terms = SimilarityScorer.CaseTerms(c)
                let stored = CrashSignature(terms: terms)
                let ci = InternedSignature(stored, terms: terms, table: table)
                table.markCandidate(ci)
                let overlap = table.scoreQueryAgainstCandidate(qi, idf: qIDF, weights: scorer.weights)
                let expected = scorer.score(q, terms, idf: idf)
                #expect(overlap.score == expected.score)
                #expect(overlap.sharedEdges == expected.shared["edge"]?.count ?? 0)
                #expect(overlap.sharesBlameOrPool == !((expected.shared["blame"] ?? []) + (expected.shared["pool"] ?? [])).isEmpty)
                let theirIDF: (String, String) -> Double = { k, t in qKeys.contains(k + "\u{1}" + t) ? idf(k, t) : rare }
                #expect(table.candidateSelfScore(ci, rareIDF: rare, weights: scorer.weights) == scorer.score(stored, terms, idf: theirIDF, share: { _, _ in }))
                if expected.score > 0 { shared += 1 }
            }
        }
        #expect(shared > signatures.count)   // pairs that share terms, not only each with itself
    }

    @Test("the k best candidates are the first k of the full sort, ties by lower id")
    func bestCandidates() {
        var weights: [Int64: Double] = [:]
        var seed: UInt64 = 7
        for id in 1...3000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            weights[Int64(id)] = Double((seed >> 33) % 40) / 4   // few distinct weights: many ties
        }
        let sorted = weights.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        for k in [0, 1, 25, 60, 3000, 5000] {
            #expect(KnowledgeBase.best(k, of: weights) == Array(sorted.prefix(k)))
        }
        // the per-id array a lookup gathers into: summed postings, a removed case, and reuse after clearing
        let gathered = CandidateWeights()
        for round in 0..<2 {
            gathered.clear()
            var expected: [Int64: Double] = [:]
            for (id, w) in weights where id % 3 != Int64(round) {
                for part in [w * 0.25, w * 0.75] where w > 0 {
                    gathered.add(id, part)
                    expected[id, default: 0] += part
                }
            }
            gathered.remove(2)
            expected[2] = nil
            #expect(gathered.best(60) == KnowledgeBase.best(60, of: expected))
            #expect(gathered.best(5000) == KnowledgeBase.best(5000, of: expected))
        }
        // postings added a term's list at a time, as a lookup adds them (ids beyond the array's size grow it)
        gathered.clear()
        var expected: [Int64: Double] = [:]
        let lists: [[Int64]] = [[5, 9, 2, 7], [9, 11, 5], [], [2, 40, 9000]]
        for (n, list) in lists.enumerated() {
            let w = Double(n + 1) * 0.5
            gathered.add(list, w)
            for id in list { expected[id, default: 0] += w }
        }
        #expect(gathered.count == Set(lists.flatMap { $0 }).count)
        #expect(gathered.best(60) == KnowledgeBase.best(60, of: expected))
    }

    @Test("leave-one-out on Corpus/eval beats both baselines (R@1 ≥ 0.9, MRR ≥ 0.93)")
    func evaluation() throws {
        let r = try SimilarityEvaluation.run(directory: Fixtures.corpus("eval"))
        #expect(r.queries == 26)
        #expect(r.casekb.recallAt1 >= 0.9)
        #expect(r.casekb.mrr >= 0.93)
        #expect(r.casekb.recallAt1 > r.bucketBaseline.recallAt1)
        #expect(r.casekb.recallAt1 >= r.tfidfBaseline.recallAt1)
        #expect(r.casekb.newVsKnownAUC >= 0.9)
    }
}
