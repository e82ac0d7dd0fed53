import Foundation

/// Frame normalisation and the skip tiers of `Resources/stack-frames.txt`, as triage.ini has them:
/// `ignore` (bugcheck and exception plumbing, thread bases), `maybe` (prefix frames that only matter with their
/// callee), `definite` (everything else: frames that say something about the crash).
public enum FrameTier: String, Sendable { case ignore, maybe, definite }

public struct FrameNormalizer: Sendable {
    public static let shared = FrameNormalizer()

    /// The version of the rules: a hash of the data files signatures depend on. Stored signatures computed under
    /// another version are recomputed.
    public static let rulesVersion: String = {
        var h = SHA256()
        for name in ["stack-frames.txt", "microsoft-modules.txt", "bugcheck-families.txt"] {
            h.update(Array(((try? DataFile.text(name)) ?? "").utf8))
        }
        h.update(Array("signature-algorithm-3".utf8))
        return String(h.finalizeHex().prefix(16))
    }()

    /// `nt!KiPageFault+0x42e` → `nt!kipagefault`; `ntkrnlmp!X` → `nt!x`; `gscfmgr+0xaa39` → `gscfmgr`;
    /// `0x3200360035` → `<bad-address>`; templates `a<b,c>::f` → `a<…>::f`.
    public func normalize(_ f: StackFrame) -> String {
        if f.address != nil { return "<bad-address>" }
        let module = FrameRules.canonicalModule(f.module ?? "?")
        guard var fn = f.function?.lowercased() else { return module }
        guard fn.utf8.contains(where: { $0 == 0x3C || $0 == 0x3E }) else { return module + "!" + fn }
        // collapse template arguments
        var out = ""
        var depth = 0
        for c in fn {
            if c == "<" { if depth == 0 { out += "<…>" }; depth += 1; continue }
            if c == ">" { depth = max(0, depth - 1); continue }
            if depth == 0 { out.append(c) }
        }
        fn = out
        return module + "!" + fn
    }

    public func tier(_ f: StackFrame) -> FrameTier {
        if f.address != nil { return .maybe }
        switch FrameRules.shared.role(f) {
        case .irrelevant?, .threadBase?: return .ignore
        case .prefix?: return .maybe
        case nil: return .definite
        }
    }

    /// The frames of a stack that matter, normalised, in order: ignored frames dropped, `maybe` frames kept only
    /// when a `definite` frame follows (siggen's prefix rule), runs of the same symbol-less module collapsed.
    public func relevantFrames(_ frames: [StackFrame]) -> [String] {
        var out: [String] = []
        var pendingMaybe: [String] = []
        for f in frames {
            switch tier(f) {
            case .ignore: continue
            case .maybe:
                let n = normalize(f)
                if n != "<bad-address>" { pendingMaybe.append(n) }
            case .definite:
                out += pendingMaybe
                pendingMaybe = []
                let n = normalize(f)
                if out.last != n || n.contains("!") { out.append(n) }
            }
        }
        return out
    }
}

/// The keys of one crash (one stack, with the case's bugchecks, culprits and pool tags), and the union over a case:
/// the exact bucket-like key, the core-stack key, the blame key, the pool key, the relevant frames and call edges.
public struct CrashSignature: Sendable, Codable, Hashable {
    /// `0x0000001E|nwifi!dot11sendcompletion` — bugcheck + first relevant frame (WinDbg's bucket, roughly).
    public var exactKeys: [String] = []
    /// Top three relevant frames, bugcheck-independent.
    public var coreKeys: [String] = []
    /// Culprit modules, ranked.
    public var blame: [String] = []
    /// Suspect pool tags (`Filt`); the owner is evidence for the culprit, not part of the key, because one message
    /// shows the `!pool` block and another the `!tag` owner.
    public var pool: [String] = []
    /// Relevant frames of every stack (first stack first), and frames named in prose.
    public var frames: [String] = []
    /// `caller>callee` pairs of consecutive relevant frames.
    public var edges: [String] = []
    public var bugchecks: [String] = []
    public var families: [String] = []
    /// Third-party modules of the relevant frames, in stack order: lets a symbol-less frame (`gscfmgr+0xaa39`)
    /// meet the same module with symbols (`gscfmgr!GsQuerySymlinkTarget`).
    public var modules: [String] = []

    static let families: [String: String] = {
        var map: [String: String] = [:]
        for e in (try? DataFile.entries("bugcheck-families.txt")) ?? [] {
            let p = e.value.split(separator: " ")
            if p.count == 2 { map[String(p[1]).uppercased().replacingOccurrences(of: "0X", with: "0x")] = String(p[0]) }
        }
        return map
    }()

    /// The family of a bugcheck code (`0x000000D1` → `memory-access`).
    public static func family(_ code: String) -> String? {
        if let f = families[code] { return f }
        // _M variants (0x1000007E) share the base code's family
        if code.hasPrefix("0x1"), let v = Hex.parse(Substring(code)) { return families[BugcheckTable.format(UInt32(v & 0x0FFF_FFFF))] }
        return nil
    }

    static let proseFrame = try! ScalarRegex(#"(?<![\w!])([A-Za-z][A-Za-z0-9_]{1,30})!([A-Za-z_][A-Za-z0-9_:$]{2,80})"#)

    /// The signature of a case's knowledge (and, for frames named in prose, its texts: read only when `k` has no
    /// stacks, so a caller with stacks in hand may pass none).
    public init(_ k: CaseKnowledge, texts: [String] = []) {
        let n = FrameNormalizer.shared
        bugchecks = k.bugchecks.map(\.code)
        families = Array(Set(bugchecks.compactMap(CrashSignature.family))).sorted()
        blame = k.culprits.map { FrameRules.canonicalModule($0) }
        pool = k.poolTags.filter(\.suspect).map(\.tag)
        var seenFrames = Set<String>(), seenEdges = Set<String>()
        for s in k.stacks {
            let frames = s.frames.compactMap { StackExtractor.parseCallSite($0[...], inline: false, allowBareModule: true) }
            let relevant = n.relevantFrames(frames)
            guard !relevant.isEmpty else { continue }
            for f in relevant where seenFrames.insert(f).inserted { self.frames.append(f) }
            for f in relevant {
                let m = f.split(separator: "!").first.map(String.init) ?? f
                if m != "<bad-address>", !FrameRules.shared.isMicrosoft(m), !modules.contains(m) { modules.append(m) }
            }
            for (a, b) in zip(relevant, relevant.dropFirst()) where a != b {
                let e = a + ">" + b
                if seenEdges.insert(e).inserted { edges.append(e) }
            }
            let core = relevant.prefix(3).joined(separator: "|")
            if !coreKeys.contains(core) { coreKeys.append(core) }
            for b in bugchecks.isEmpty ? ["?"] : bugchecks {
                let key = b + "|" + relevant[0]
                if !exactKeys.contains(key) { exactKeys.append(key) }
            }
        }
        // frames written in prose ("问题出在 nwifi!Dot11SendCompletion"): unordered evidence, for cases without stacks
        for t in (k.stacks.isEmpty ? texts : []) where t.contains("!") {
            let text = ScalarText(t)
            for m in CrashSignature.proseFrame.matches(in: text) {
                guard let f = StackExtractor.parseCallSite(Substring(text.string(m.range)), inline: false, allowBareModule: false) else { continue }
                // `nwifi!_NET_BUFFER_LIST` in a dt command is a type, not a function
                if let fn = f.function, !fn.contains(where: { $0.isLowercase }) { continue }
                if n.tier(f) == .definite {
                    let s = n.normalize(f)
                    if seenFrames.insert(s).inserted { frames.append(s) }
                    if let m = f.module.map(FrameRules.canonicalModule), !FrameRules.shared.isMicrosoft(m), !modules.contains(m) { modules.append(m) }
                }
            }
        }
    }

    public init() {}

    /// A signature rebuilt from stored terms (frames, blame and modules in their stored order).
    public init(terms t: SimilarityScorer.CaseTerms, bugchecks: [String] = []) {
        func ordered(_ k: String) -> [String] { (t.byKind[k] ?? [:]).sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }.map(\.key) }
        frames = ordered("frame"); blame = ordered("blame"); modules = ordered("module")
        edges = ordered("edge"); pool = ordered("pool"); exactKeys = ordered("exact"); coreKeys = ordered("core"); families = ordered("family")
        self.bugchecks = bugchecks
    }

    /// The (kind, term) pairs the lookup index stores.
    public var terms: [(kind: String, term: String)] {
        var out: [(String, String)] = []
        for k in exactKeys { out.append(("exact", k)) }
        for k in coreKeys { out.append(("core", k)) }
        for b in blame { out.append(("blame", b)) }
        for p in pool { out.append(("pool", p)) }
        for f in frames { out.append(("frame", f)) }
        for e in edges { out.append(("edge", e)) }
        for f in families { out.append(("family", f)) }
        for m in modules { out.append(("module", m)) }
        return out
    }

    public var isEmpty: Bool { frames.isEmpty && blame.isEmpty && pool.isEmpty && modules.isEmpty }
}

/// Frame parsing for other modules (the web UI marks the relevant frames of stored stacks).
public enum StackExtractorBridge {
    public static func frame(_ text: String) -> StackFrame? { StackExtractor.parseCallSite(text[...], inline: false, allowBareModule: true) }
}
