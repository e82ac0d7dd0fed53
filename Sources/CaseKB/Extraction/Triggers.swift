import Foundation

/// The literal triggers of the extractors: each extractor names the literals that must appear on a line before
/// it looks closer (`previous size:` before a `!pool` row is parsed, a recommendation cue before a sentence is
/// classified). `TextLines` finds them all in one pass over the text's bytes, so lines without any trigger are
/// never turned into Strings — the "cheap literal triggers first" design of shared/notes/swift-text-performance.md.
enum Trigger {
    static let bugcheckWord: UInt64 = 1 << 0      // "bugcheck" (any case): `BugCheck D1, {…}`
    static let bugcheckProse: UInt64 = 1 << 1     // extraction-cues.txt: bugcheck-prose, bugcheck-prose-coded (any case)
    static let hexPrefix: UInt64 = 1 << 4         // "0x" (any case)
    static let bugcheckContext: UInt64 = 1 << 5   // extraction-cues.txt: bugcheck-context
    static let poolRow: UInt64 = 1 << 6           // "previous size:"
    static let pooltagLine: UInt64 = 1 << 7       // "Pooltag"
    static let tagCommand: UInt64 = 1 << 8        // "!tag", "!mex.tag", "!poolfind", "!pooltag"
    static let dotSys: UInt64 = 1 << 9            // ".sys" (any case)
    static let dotDllExe: UInt64 = 1 << 10        // ".dll", ".exe"
    static let kdPrompt: UInt64 = 1 << 11         // "kd>"
    static let kb: UInt64 = 1 << 12               // "kb" (any case)
    static let osContext: UInt64 = 1 << 13        // extraction-cues.txt: os-context
    static let modelCue: UInt64 = 1 << 14         // extraction-cues.txt: model-label, model-series (any case)
    static let blame: UInt64 = 1 << 15            // extraction-cues.txt: blame
    static let adviceCue: UInt64 = 1 << 16        // recommendation-cues.txt (any case)
    static let lmvmHeader: UInt64 = 1 << 17       // "module name"
    static let filterList: UInt64 = 1 << 18       // "Filter list"
    static let probablyCaused: UInt64 = 1 << 19   // "Probably caused by"
    static let bugcheckField: UInt64 = 1 << 20    // "BUGCHECK_"
    static let analyzeField: UInt64 = 1 << 21     // "_NAME:", "BUCKET_ID:", "IMAGE_VERSION:", … (!analyze one-line fields)
    static let stackHeader: UInt64 = 1 << 22      // "Call Site", "Child-SP", "RetAddr", "STACK_TEXT:", "ChildEBP"
    static let plusHex: UInt64 = 1 << 23          // "+0x"
    static let errorCodeHex: UInt64 = 1 << 24     // "0x8", "0xc" (HRESULT/NTSTATUS codes start so)
    static let featureUpdate: UInt64 = 1 << 25    // extraction-cues.txt: feature-update (1809, 21H2, …)
    static let kernelVersion: UInt64 = 1 << 26    // "Kernel Version"

    /// The literals of each trigger: (text, any case?, trigger).
    static var literals: [(String, Bool, UInt64)] {
        let cues = ExtractionCues.shared
        var out: [(String, Bool, UInt64)] = [
            ("bugcheck", true, bugcheckWord),
            ("0x", true, hexPrefix),
            ("previous size:", false, poolRow),
            ("Pooltag", false, pooltagLine),
            ("!tag", false, tagCommand), ("!mex.tag", false, tagCommand), ("!poolfind", false, tagCommand), ("!pooltag", false, tagCommand),
            ("!mex.poolfind", false, tagCommand), ("!mex.pooltag", false, tagCommand),
            (".sys", true, dotSys), (".dll", false, dotDllExe), (".exe", false, dotDllExe),
            ("kd>", false, kdPrompt),
            ("kb", true, kb),
            ("module name", false, lmvmHeader),
            ("Filter list", false, filterList),
            ("Probably caused by", false, probablyCaused),
            ("BUGCHECK_", false, bugcheckField),
            ("Call Site", false, stackHeader), ("Child-SP", false, stackHeader), ("RetAddr", false, stackHeader),
            ("STACK_TEXT:", false, stackHeader), ("ChildEBP", false, stackHeader),
            ("+0x", false, plusHex),
            ("0x8", false, errorCodeHex), ("0xc", true, errorCodeHex),
            ("Kernel Version", false, kernelVersion),
        ]
        for field in ModuleExtractor.analyzeFields where field != "Probably caused by" {
            out.append((field + ":", false, analyzeField))
        }
        out += BugcheckExtractor.proseCues.map { (String(decoding: $0.0, as: UTF8.self), true, bugcheckProse) }
        out += cues.strings("bugcheck-context").map { ($0, false, bugcheckContext) }
        out += cues.strings("os-context").map { ($0, false, osContext) }
        out += cues.strings("feature-update").map { ($0, false, featureUpdate) }
        out += (cues.strings("model-label") + cues.strings("model-series")).map { ($0, true, modelCue) }
        out += cues.strings("blame").map { ($0, false, blame) }
        out += RecommendationExtractor.shared.cues.map { ($0.text, true, adviceCue) }
        return out
    }
}

/// A compiled set of literals found in one pass: candidates are looked up by their first two bytes as they stand
/// in the text (an any-case literal is filed under every case variant of its first two bytes), then compared in
/// full. Literals of one byte are not allowed (the per-line byte classes of `TextLines.Flag` cover single characters).
struct TriggerSet: Sendable {
    /// Per two-byte head (raw bytes): index into `chain` of the first literal starting with it, or -1.
    let heads: [Int32]
    /// Literal indices; each run of literals sharing a head ends with -1.
    let chain: [Int32]
    /// One bit per two-byte head that starts some literal (8 KB: stays in the L1 cache, unlike `heads`).
    let headBits: [UInt64]
    let needles: [[UInt8]]
    /// The literals' bytes one after another (`flatStart[id]`, `needles[id].count` long), for the scanning loops.
    let flat: [UInt8]
    let flatStart: [Int]
    let anyCase: [Bool]
    let bits: [UInt64]
    /// ASCII lower-casing of every byte value.
    static let lower: [UInt8] = (0...255).map { ByteText.lowerASCII(UInt8($0)) }

    static let shared = TriggerSet(Trigger.literals)

    init(_ literals: [(String, Bool, UInt64)]) {
        var byHead: [Int: [Int32]] = [:]
        var needles: [[UInt8]] = [], anyCase: [Bool] = [], bits: [UInt64] = []
        for (text, folded, bit) in literals {
            let raw = Array(text.utf8)
            guard raw.count >= 2 else { continue }
            let bytes = folded ? raw.map { TriggerSet.lower[Int($0)] } : raw
            // an any-case literal under each case variant of its first two bytes
            func variants(_ b: UInt8) -> [UInt8] { folded ? ByteText.caseVariants(b) : [b] }
            for x in variants(bytes[0]) {
                for y in variants(bytes[1]) { byHead[Int(x) << 8 | Int(y), default: []].append(Int32(needles.count)) }
            }
            needles.append(bytes); anyCase.append(folded); bits.append(bit)
        }
        var heads = [Int32](repeating: -1, count: 65536)
        var headBits = [UInt64](repeating: 0, count: 1024)
        var chain: [Int32] = []
        for (head, ids) in byHead.sorted(by: { $0.key < $1.key }) {
            heads[head] = Int32(chain.count)
            headBits[head >> 6] |= 1 << UInt64(head & 63)
            chain += ids
            chain.append(-1)
        }
        self.heads = heads; self.headBits = headBits; self.chain = chain; self.needles = needles; self.anyCase = anyCase; self.bits = bits
        self.flat = needles.flatMap { $0 }
        var starts: [Int] = []
        var at = 0
        for n in needles { starts.append(at); at += n.count }
        self.flatStart = starts
    }

    /// Which literals occur in bytes `a..<b` of `p`, by index (`hits[id]`), in one pass.
    func literalsFound(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> [Bool] {
        var hits = [Bool](repeating: false, count: needles.count)
        scan(p, a, b) { id, _ in hits[id] = true; return false }
        return hits
    }

    /// Calls `found` with the index and byte offset of every literal at every position of bytes `a..<b` where one
    /// starts, left to right; `found` returns true to stop the scan.
    @inline(__always)
    func scan(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, _ found: (Int, Int) -> Bool) {
        TriggerSet.lower.withUnsafeBufferPointer { lower in
        headBits.withUnsafeBufferPointer { headBits in
        heads.withUnsafeBufferPointer { heads in
        chain.withUnsafeBufferPointer { chain in
        flat.withUnsafeBufferPointer { flat in
        flatStart.withUnsafeBufferPointer { flatStart in
        anyCase.withUnsafeBufferPointer { anyCase in
            var i = a
            while i + 1 < b {
                let head = Int(p[i]) << 8 | Int(p[i + 1])
                if headBits[head >> 6] & (1 << UInt64(head & 63)) != 0 {
                    var k = Int(heads[head])
                    while chain[k] >= 0 {
                        let id = Int(chain[k])
                        let s = flatStart[id], m = (id + 1 < flatStart.count ? flatStart[id + 1] : flat.count) - s
                        if i + m <= b {
                            var j = 0
                            if anyCase[id] { while j < m, lower[Int(p[i + j])] == flat[s + j] { j += 1 } }
                            else { while j < m, p[i + j] == flat[s + j] { j += 1 } }
                            if j == m, found(id, i) { return }
                        }
                        k += 1
                    }
                }
                i += 1
            }
        }}}}}}}
    }
}
