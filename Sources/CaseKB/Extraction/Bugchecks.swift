import Foundation

/// The bugcheck codes, names and argument meanings shipped in `Resources/bugcheck-codes.tsv` and
/// `bugcheck-args.tsv` (Microsoft's bug check reference; sources in Resources/README.md).
public struct BugcheckTable: Sendable {
    public let names: [UInt32: String]
    public let codes: [String: UInt32]
    /// Byte lengths of the shortest and longest names (a cheap test before a dictionary lookup).
    let shortestName: Int, longestName: Int
    /// (code, arg number) → the meanings of that argument: the value each applies to (`*` any; `parsed`, its number,
    /// read once at load) and the meaning.
    let meanings: [UInt64: [(value: String, parsed: UInt64?, meaning: String)]]

    public static let shared: BugcheckTable = {
        do { return try BugcheckTable() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    init() throws {
        var names: [UInt32: String] = [:], codes: [String: UInt32] = [:]
        for line in try DataFile.text("bugcheck-codes.tsv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t")
            guard f.count >= 2, let c = Hex.parse(f[0]) else { continue }
            let name = String(f[1]).trimmingSpaces()
            names[UInt32(c)] = name
            codes[name] = UInt32(c)
        }
        var meanings: [UInt64: [(value: String, parsed: UInt64?, meaning: String)]] = [:]
        for line in try DataFile.text("bugcheck-args.tsv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 4, let c = Hex.parse(f[0]), let a = UInt64(f[1]) else { continue }
            meanings[c << 3 | a, default: []].append((String(f[2]), f[2] == "*" ? nil : Hex.parse(f[2]), String(f[3])))
        }
        self.names = names
        self.codes = codes
        self.shortestName = codes.keys.map(\.utf8.count).min() ?? 0
        self.longestName = codes.keys.map(\.utf8.count).max() ?? 0
        self.meanings = meanings
    }

    public static func format(_ code: UInt32) -> String {
        // by hand: String(format:) goes through Foundation's formatter, and every stored bugcheck is formatted
        let digits = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = [0x30, 0x78]
        for shift in stride(from: 28, through: 0, by: -4) { bytes.append(digits[Int((code >> UInt32(shift)) & 0xF)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The name of a code; `_M` variants (0x1000007E) fall back to their base code's name plus `_M`.
    public func name(_ code: UInt32) -> String? {
        if let n = names[code] { return n }
        if code & 0xF000_0000 == 0x1000_0000, let base = names[code & 0x0FFF_FFFF] { return base + "_M" }
        return nil
    }

    public func isKnown(_ code: UInt32) -> Bool { name(code) != nil }

    /// What argument `arg` (1–4) of `code` means, with the specific meaning of `value` when the table has one.
    public func meaning(code: UInt32, arg: Int, value: String?) -> String? {
        let key = UInt64(code & 0x0FFF_FFFF) << 3 | UInt64(arg)
        guard let rows = meanings[key] ?? meanings[UInt64(code) << 3 | UInt64(arg)] else { return nil }
        if let value, let v = Hex.parse(Substring(value)) {
            for row in rows where row.value != "*" {
                if let tv = row.parsed, tv == v || tv == v & 0xFFFF_FFFF { return row.meaning }
            }
        }
        return rows.first { $0.value == "*" }?.meaning
    }
}

/// Finds bugchecks in every form engineers write them, and tells a crash's code from a passing mention.
/// Lines are selected by `Trigger` literals and byte classes; the forms are parsed at byte level (no regular
/// expressions on the hot path).
struct BugcheckExtractor {
    let table = BugcheckTable.shared
    static let negation = ExtractionCues.shared.strings("bugcheck-negation")
    /// Prose cues before a code, lower-case: (cue, may be followed by " code"), from `Resources/extraction-cues.txt`.
    static let proseCues: [([UInt8], Bool)] =
        ExtractionCues.shared.strings("bugcheck-prose-coded").map { (Array($0.lowercased().utf8), true) }
        + ExtractionCues.shared.strings("bugcheck-prose").map { (Array($0.lowercased().utf8), false) }
    /// What may stand between a prose cue and its code ("bugcheck为D1", "stop code is 0x50"), lower-case.
    static let connectors: [[UInt8]] = ["is", "was", "为", "是", ":", "：", "=", "of"].map { Array($0.utf8) }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A || c == 0x0B || c == 0x0C }
    @inline(__always) static func isWord(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 || c == 0x5F }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 }

    /// Hex digits at `k` (at most `max`): their end, or nil when there are none.
    static func hexRun(_ b: [UInt8], _ k: Int, _ end: Int, max: Int) -> Int? {
        var e = k
        while e < end, e - k < max, Hex.isHexByte(b[e]) { e += 1 }
        return e > k ? e : nil
    }

    static func skipSpaces(_ b: [UInt8], _ k: Int, _ end: Int) -> Int {
        var k = k
        while k < end, isSpace(b[k]) { k += 1 }
        return k
    }

    static func hasFoldedPrefix(_ b: [UInt8], _ k: Int, _ end: Int, _ lit: [UInt8]) -> Bool {
        guard end - k >= lit.count else { return false }
        for j in 0..<lit.count where TriggerSet.lower[Int(b[k + j])] != lit[j] { return false }
        return true
    }

    /// `NAME (code)` — the title of `!analyze -v`: (name range, code) when the line is exactly that.
    static func parseTitle(_ b: [UInt8], _ a: Int, _ end: Int) -> (Int, Int, UInt32)? {
        var k = skipSpaces(b, a, end)
        let ns = k
        guard k < end, (b[k] &- 0x41) < 26 else { return nil }
        k += 1
        while k < end, (b[k] &- 0x41) < 26 || (b[k] &- 0x30) < 10 || b[k] == 0x5F { k += 1 }
        let ne = k
        guard ne - ns >= 4 else { return nil }
        k = skipSpaces(b, k, end)
        guard k < end, b[k] == 0x28 else { return nil }
        k += 1
        if k + 1 < end, b[k] == 0x30, b[k + 1] | 0x20 == 0x78 { k += 2 }
        guard let he = hexRun(b, k, end, max: 8), he < end, b[he] == 0x29 else { return nil }
        guard let code = Hex.parse(Substring(decoding: b[k..<he], as: UTF8.self)) else { return nil }
        guard skipSpaces(b, he + 1, end) == end else { return nil }
        return (ns, ne, UInt32(truncatingIfNeeded: code))
    }

    /// `Arg1: fffff80212345678, …` — the value, without back-ticks, lower-case, with 0x.
    static func parseArg(_ b: [UInt8], _ a: Int, _ end: Int) -> String? {
        var k = skipSpaces(b, a, end)
        guard end - k >= 5, b[k] == 0x41, b[k + 1] == 0x72, b[k + 2] == 0x67, (b[k + 3] &- 0x31) < 4, b[k + 4] == 0x3A else { return nil }
        k = skipSpaces(b, k + 5, end)
        var v: [UInt8] = Array("0x".utf8)
        while k < end, Hex.isHexByte(b[k]) || b[k] == 0x60 { if b[k] != 0x60 { v.append(TriggerSet.lower[Int(b[k])]) }; k += 1 }
        return v.count > 2 ? String(decoding: v, as: UTF8.self) : nil
    }

    /// `BugCheck D1, {fffff…, 2, 0, fffff…}` anywhere on the line: (match range, code, args).
    static func parseBraces(_ t: TextLines, _ line: Int) -> (Int, Int, UInt32, [String])? {
        let b = t.bytes, end = t.lineEnd(line)
        for at in t.positions(line, Array("bugcheck".utf8), folded: true) {
            var k = at + 8
            let s = k
            k = skipSpaces(b, k, end)
            guard k > s, let he = hexRun(b, k, end, max: 8), he == end || !Hex.isHexByte(b[he]) else { continue }
            guard let code = Hex.parse(Substring(decoding: b[k..<he], as: UTF8.self)) else { continue }
            k = skipSpaces(b, he, end)
            guard k < end, b[k] == 0x2C else { continue }
            k = skipSpaces(b, k + 1, end)
            guard k < end, b[k] == 0x7B else { continue }
            let open = k + 1
            var close = open
            while close < end, b[close] != 0x7D { close += 1 }
            guard close < end else { continue }
            let inside = String(decoding: b[open..<close], as: UTF8.self)
            let args = inside.split(separator: ",").map { "0x" + ByteText.replacingAll("`", with: "", in: $0.trimmingSpaces()).lowercased() }
            return (at, close + 1, UInt32(truncatingIfNeeded: code), args)
        }
        return nil
    }

    /// Prose forms: a cue (`bugcheck`, `stop code`, `蓝屏代码`…), an optional connector (`is`, `为`, `:`), then a code
    /// in hex: (match range, code range) for each.
    static func parseProse(_ t: TextLines, _ line: Int) -> [(Int, Int, Int, Int)] {
        let b = t.bytes, a = t.offsets[line], end = t.lineEnd(line)
        var out: [(Int, Int, Int, Int)] = []
        b.withUnsafeBufferPointer { p in
            proseCueSet.scan(p, a, end) { id, at in
                let cueLength = proseCueSet.needles[id].count, mayHaveCode = proseCueCoded[id]
                var k = at + cueLength
                if mayHaveCode {
                    let s = skipSpaces(b, k, end)
                    if s > k, hasFoldedPrefix(b, s, end, codeWord) { k = s + 4 }
                }
                /// A code (`D1`, `0x50`) starting at byte `s`, recorded when there.
                func code(at s: Int) -> Bool {
                    var h = s
                    if h + 1 < end, b[h] == 0x30, b[h + 1] | 0x20 == 0x78 { h += 2 }
                    guard let he = hexRun(b, h, end, max: 8), he == end || !isWord(b[he]) else { return false }
                    out.append((at, he, s, he))
                    return true
                }
                let afterSpaces = skipSpaces(b, k, end)
                // "bugcheck为D1", "stop code is 0x50": after a connector first, else right after the cue
                if let c = connectors.first(where: { hasFoldedPrefix(b, afterSpaces, end, $0) }), code(at: skipSpaces(b, afterSpaces + c.count, end)) { return false }
                _ = code(at: afterSpaces)
                return false
            }
        }
        if out.count < 2 { return out }
        // leftmost first; a cue inside an earlier match ("错误代码" in "蓝屏错误代码") is not a second one
        var kept: [(Int, Int, Int, Int)] = []
        for m in out.sorted(by: { $0.0 < $1.0 }) where kept.last.map({ m.0 >= $0.1 }) ?? true { kept.append(m) }
        return kept
    }
    static let codeWord = Array("code".utf8)
    /// The prose cues, found on a line in one pass (literal k is `proseCues[k]`; every cue is at least two bytes).
    static let proseCueSet = TriggerSet(usableProseCues.map { (String(decoding: $0.0, as: UTF8.self), true, 1) })
    static let proseCueCoded = usableProseCues.map(\.1)
    static let usableProseCues = proseCues.filter { $0.0.count >= 2 }

    /// `0x0000009F` — eight hex digits after 0x, not part of a longer token: code ranges (after the 0x).
    static func hex8(_ t: TextLines, _ line: Int) -> [(Int, Int)] {
        let b = t.bytes, a = t.offsets[line], end = t.lineEnd(line)
        var out: [(Int, Int)] = []
        for at in t.positions(line, Array("0x".utf8), folded: false) {
            if at > a, isAlnum(b[at - 1]) || b[at - 1] == 0x60 { continue }
            guard let he = hexRun(b, at + 2, end, max: 9), he - at - 2 == 8, he == end || !(isAlnum(b[he]) || b[he] == 0x60) else { continue }
            out.append((at + 2, he))
        }
        return out
    }

    func extract(_ t: TextLines) -> [BugcheckFact] {
        var out: [BugcheckFact] = []
        var descriptionUntil = -1          // lines of a title's description: codes there are mentions
        let b = t.bytes
        func text(_ x: Int, _ y: Int) -> String { String(decoding: b[x..<y], as: UTF8.self) }
        var i = 0
        while i < t.count {
            let f = t.flags[i]
            if f & (TextLines.Flag.digit | TextLines.Flag.underscore) == 0 { i += 1; continue }   // every form holds a digit or a NAME_WITH_UNDERSCORES
            let a = t.offsets[i], end = t.lineEnd(i)
            let lastByte = end > a ? b[end - 1] : 0
            let upperToks = f & TextLines.Flag.underscore != 0 && f & TextLines.Flag.upper != 0 ? Self.upperTokens(b, a, end) : []
            let proseCue = t.hit(i, Trigger.bugcheckProse)
            let hexCue = t.hit(i, Trigger.hexPrefix) && t.hit(i, Trigger.bugcheckContext)
            let namedCodes = upperToks.compactMap { r -> (Int, Int, String, UInt32)? in
                guard r.1 - r.0 >= table.shortestName, r.1 - r.0 <= table.longestName else { return nil }
                let name = text(r.0, r.1)
                return table.codes[name].map { (r.0, r.1, name, $0) }
            }
            let isField = t.hit(i, Trigger.bugcheckField)
            let triggered = lastByte == 0x29 || isField || proseCue || hexCue || !namedCodes.isEmpty
            if !triggered && i > descriptionUntil { i += 1; continue }
            // 1. !analyze title and its Arg lines
            if lastByte == 0x29, let (ns, ne, code) = Self.parseTitle(b, a, end), let name = table.name(code),
               name == text(ns, ne) || table.codes[text(ns, ne)] == code {
                var args: [String] = []
                var j = i + 1
                var last = i
                // Arg1..Arg4 follow within a few lines; descriptions may wrap (a tab, or a mail client's line break)
                while j < t.count, j <= i + 20, args.count < 4 {
                    if let v = Self.parseArg(b, t.offsets[j], t.lineEnd(j)) {
                        args.append(v)
                        last = j
                    } else if Self.skipSpaces(b, t.offsets[j], t.lineEnd(j)) == t.lineEnd(j) && !args.isEmpty {
                        break
                    } else if t.lineEnd(j) > t.offsets[j], b[t.lineEnd(j) - 1] == 0x29, Self.parseTitle(b, t.offsets[j], t.lineEnd(j)) != nil {
                        break
                    }
                    j += 1
                }
                if args.count == 4, j < t.count, t.lines[j].first == "\t" { last = j }
                descriptionUntil = max(descriptionUntil, last)
                out.append(BugcheckFact(code: code, name: name, args: args, role: .crash, writtenAs: String(ByteText.trim(t.lines[i])), source: t.span(lines: i, last)))
                i += 1
                continue
            }
            let inDescription = i <= descriptionUntil
            let line = t.lines[i]
            // 2. BUGCHECK_CODE / BUGCHECK_P1..4
            if isField, line.hasPrefix("BUGCHECK_CODE:") {
                let v = line.dropFirst("BUGCHECK_CODE:".count).trimmingSpaces()
                if let code = Hex.parse(Substring(v)).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) {
                    var args: [String] = []
                    var last = i
                    var j = i + 1
                    while j < t.count, j <= i + 12 {
                        let l = t.lines[j]
                        if l.hasPrefix("BUGCHECK_P") {
                            let val = l.split(separator: ":", maxSplits: 1).last.map { $0.trimmingSpaces() } ?? ""
                            args.append("0x" + val.lowercased()); last = j
                        }
                        j += 1
                    }
                    out.append(BugcheckFact(code: code, name: table.name(code), args: args, role: .crash, writtenAs: String(line), source: t.span(lines: i, last)))
                }
                i += 1
                continue
            }
            // 3. BugCheck D1, {…}
            if f & TextLines.Flag.brace != 0, t.hit(i, Trigger.bugcheckWord), let (x, y, code, args) = Self.parseBraces(t, i), table.isKnown(code) {
                out.append(BugcheckFact(code: code, name: table.name(code), args: args, role: inDescription ? .mention : .crash, writtenAs: text(x, y), source: t.span(bytes: x, y)))
                i += 1
                continue
            }
            // 4. prose forms
            if !inDescription {
                if proseCue {
                    for (x, y, cx, cy) in Self.parseProse(t, i) {
                        guard let code = Hex.parse(Substring(text(cx, cy))).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) else { continue }
                        // "bugcheck 1" or "stop 3" in plain prose are numbers, not codes, unless written as hex
                        if !(cy - cx >= 2 && b[cx] == 0x30 && b[cx + 1] | 0x20 == 0x78) && cy - cx < 2 { continue }
                        out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(t, i, before: x) ? .mention : .crash,
                                                writtenAs: text(x, y), source: t.span(bytes: x, y)))
                    }
                }
                // 5. 0x0000009F with a crash word on the line
                if hexCue {
                    for (cx, cy) in Self.hex8(t, i) {
                        guard let code = Hex.parse(Substring(text(cx, cy))).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) else { continue }
                        let span = t.span(bytes: cx - 2, cy)
                        if out.contains(where: { $0.code == code && $0.source.message == t.message && $0.source.start <= span.start && $0.source.end >= span.end }) { continue }
                        out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(t, i, before: cx - 2) ? .mention : .crash,
                                                writtenAs: text(cx - 2, cy), source: span))
                    }
                }
                // 6. a name alone (Stop code: DRIVER_IRQL_NOT_LESS_OR_EQUAL, CRITICAL_PROCESS_DIED (0xEF))
                if !namedCodes.isEmpty, !line.hasPrefix("FAILURE_BUCKET_ID"), !line.hasPrefix("DEFAULT_BUCKET_ID"), !line.hasPrefix("BUCKET_ID"), !line.hasPrefix("BUGCHECK_STR") {
                    for (x, y, name, code) in namedCodes {
                        out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(t, i, before: x) ? .mention : .crash,
                                                writtenAs: name, source: t.span(bytes: x, y)))
                    }
                }
            }
            // codes inside a title's description are skipped ("bugchecks 0xC4, 0xC1 and 0xA will be among…")
            i += 1
        }
        return Self.mergeWithinMessage(out)
    }

    /// Runs of [A-Z0-9_] holding an underscore, at least 6 bytes, not inside a longer identifier.
    static func upperTokens(_ bytes: [UInt8], _ a: Int, _ b: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        var k = a
        @inline(__always) func word(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 || c == 0x5F }
        while k < b {
            let c = bytes[k]
            if (c &- 0x41) < 26, k == a || !word(bytes[k - 1]) {
                var e = k
                var underscore = false
                var lower = false
                while e < b, word(bytes[e]) { if bytes[e] == 0x5F { underscore = true } else if (bytes[e] &- 0x61) < 26 { lower = true }; e += 1 }
                if underscore, !lower, e - k >= 6 { out.append((k, e)) }
                k = e
                continue
            }
            k += 1
        }
        return out
    }

    /// Whether a negation ("unlike", "不是") stands within the 24 characters before byte `at` of line `line`.
    func isNegated(_ t: TextLines, _ line: Int, before at: Int) -> Bool {
        let b = t.bytes, a = t.offsets[line]
        // the window: 24 characters back
        var start = at, chars = 0
        while start > a, chars < 24 { start -= 1; while start > a, b[start] & 0xC0 == 0x80 { start -= 1 }; chars += 1 }
        return b.withUnsafeBufferPointer { p in Self.negationBytes.contains { ByteText.find(p, start, at, $0, folded: true) != nil } }
    }
    static let negationBytes = negation.map { Array($0.lowercased().utf8) }

    /// One crash entry per code in a message: the fullest form (with arguments) absorbs the others.
    static func mergeWithinMessage(_ facts: [BugcheckFact]) -> [BugcheckFact] {
        var out: [BugcheckFact] = []
        for f in facts {
            if let k = out.firstIndex(where: { $0.code == f.code && $0.role == f.role }) {
                if out[k].args.isEmpty && !f.args.isEmpty { out[k].args = f.args; out[k].source = f.source }
                if !out[k].writtenAs.contains(f.writtenAs) && out[k].writtenAs.count < 120 { out[k].writtenAs += " / " + f.writtenAs }
            } else if f.role == .mention, out.contains(where: { $0.code == f.code && $0.role == .crash }) {
                continue
            } else {
                out.append(f)
            }
        }
        // a code that is a crash elsewhere in the message is not also a mention
        return out.filter { f in !(f.role == .mention && out.contains { $0.code == f.code && $0.role == .crash }) }
    }
}
