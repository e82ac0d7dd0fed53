import Foundation

/// The bugcheck codes, names and argument meanings shipped in `Resources/bugcheck-codes.tsv` and
/// `bugcheck-args.tsv` (Microsoft's bug check reference; sources in Resources/README.md).
public struct BugcheckTable: Sendable {
    public let names: [UInt32: String]
    public let codes: [String: UInt32]
    /// (code, arg number) → [(value or "*", meaning)]
    let meanings: [UInt64: [(String, String)]]

    public static let shared: BugcheckTable = {
        do { return try BugcheckTable() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    init() throws {
        var names: [UInt32: String] = [:], codes: [String: UInt32] = [:]
        for line in try DataFile.text("bugcheck-codes.tsv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t")
            guard f.count >= 2, let c = Hex.parse(f[0]) else { continue }
            let name = String(f[1]).trimmingCharacters(in: .whitespaces)
            names[UInt32(c)] = name
            codes[name] = UInt32(c)
        }
        var meanings: [UInt64: [(String, String)]] = [:]
        for line in try DataFile.text("bugcheck-args.tsv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count >= 4, let c = Hex.parse(f[0]), let a = UInt64(f[1]) else { continue }
            meanings[c << 3 | a, default: []].append((String(f[2]), String(f[3])))
        }
        self.names = names
        self.codes = codes
        self.meanings = meanings
    }

    public static func format(_ code: UInt32) -> String { String(format: "0x%08X", code) }

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
            for (val, m) in rows where val != "*" {
                if let tv = Hex.parse(Substring(val)), tv == v || tv == v & 0xFFFF_FFFF { return m }
            }
        }
        return rows.first { $0.0 == "*" }?.1
    }
}

/// Finds bugchecks in every form engineers write them, and tells a crash's code from a passing mention.
struct BugcheckExtractor {
    let table = BugcheckTable.shared

    // `NAME (code)` title of !analyze -v
    static let title = try! NSRegularExpression(pattern: #"^\s*([A-Z][A-Z0-9_]{3,})\s*\((?:0x)?([0-9a-fA-F]{1,8})\)\s*$"#)
    // BugCheck D1, {fffff…, 2, 0, fffff…}
    static let braces = try! NSRegularExpression(pattern: #"BugCheck\s+([0-9A-Fa-f]{1,8})\s*,\s*\{([^}]*)\}"#, options: [.caseInsensitive])
    // prose: bugcheck 0x1e / bugcheck为D1 / STOP 0x0000007E / 蓝屏代码 0x50 / .bugcheck "Bugcheck code 000000D1"
    static let prose = try! NSRegularExpression(pattern: #"(?:bug\s?check(?:\s+code)?|stop(?:\s+code)?|蓝屏代码|藍屏代碼|蓝屏错误代码|停止代码|停止代碼|错误代码|錯誤代碼|Fatal System Error)\s*(?:is|was|为|是|:|：|=|of)?\s*(0x[0-9a-fA-F]{1,8}|[0-9a-fA-F]{1,8})(?![0-9a-zA-Z_])"#, options: [.caseInsensitive])
    static let hex8 = try! NSRegularExpression(pattern: #"(?<![0-9a-zA-Z`])0x([0-9a-fA-F]{8})(?![0-9a-zA-Z`])"#)
    static let nameToken = try! NSRegularExpression(pattern: #"(?<![A-Z0-9_])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+){1,})(?![A-Za-z0-9_])"#)
    static let arg = try! NSRegularExpression(pattern: #"^\s*Arg([1-4]):\s*([0-9a-fA-F`]+)"#)
    static let negation = ExtractionCues.shared.strings("bugcheck-negation")
    static let contextWords = ExtractionCues.shared.needles("bugcheck-context")

    func extract(_ t: TextLines) -> [BugcheckFact] {
        var out: [BugcheckFact] = []
        var descriptionUntil = -1          // lines of a title's description: codes there are mentions
        var i = 0
        while i < t.count {
            let line = t.lines[i]
            if !(t.has(i, TextLines.Flag.digit) || t.has(i, TextLines.Flag.underscore)) { i += 1; continue }   // every form holds a digit or a NAME_WITH_UNDERSCORES
            // byte-level triggers; most WinDbg lines have none and never become Strings
            let lastByte = t.lineEnd(i) > t.offsets[i] ? t.bytes[t.lineEnd(i) - 1] : 0
            let upperToks = t.has(i, TextLines.Flag.underscore) && t.has(i, TextLines.Flag.upper) ? Self.upperTokens(t.bytes, t.offsets[i], t.lineEnd(i)) : []
            let proseCue = t.containsFolded(i, Needles.bug) || t.containsFolded(i, Needles.stop) || t.contains(i, Needles.daima) || t.contains(i, Needles.daimaT) || t.contains(i, Needles.fatal)
            let hexCue = t.contains(i, Needles.hexPrefix) && Self.contextWords.contains(where: { t.contains(i, $0) })
            let namedCodes = upperToks.compactMap { r -> (Int, Int, String, UInt32)? in
                let name = String(decoding: t.bytes[r.0..<r.1], as: UTF8.self)
                return table.codes[name].map { (r.0, r.1, name, $0) }
            }
            let triggered = lastByte == 0x29 || line.hasPrefix("BUGCHECK_") || t.contains(i, [0x7B]) || proseCue || hexCue || !namedCodes.isEmpty
            if !triggered && i > descriptionUntil { i += 1; continue }
            let lineStr = String(line)
            // 1. !analyze title and its Arg lines
            if line.utf8.last == 0x29, let m = Self.title.firstMatch(in: lineStr, range: NSRange(lineStr.startIndex..., in: lineStr)),
               let nr = Range(m.range(at: 1), in: lineStr), let cr = Range(m.range(at: 2), in: lineStr),
               let code = Hex.parse(lineStr[cr]).map({ UInt32(truncatingIfNeeded: $0) }), let name = table.name(code),
               name == String(lineStr[nr]) || table.codes[String(lineStr[nr])] == code {
                var args: [String] = []
                var j = i + 1
                var last = i
                // Arg1..Arg4 follow within a few lines; descriptions may wrap (a tab, or a mail client's line break)
                while j < t.count, j <= i + 20, args.count < 4 {
                    let l = t.lines[j]
                    let tl = ByteText.trim(l)
                    if tl.hasPrefix("Arg") {
                        let s = String(l)
                        if let am = Self.arg.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)), let vr = Range(am.range(at: 2), in: s) {
                            args.append("0x" + s[vr].replacingOccurrences(of: "`", with: "").lowercased())
                            last = j
                        }
                    } else if tl.isEmpty && !args.isEmpty {
                        break
                    } else if Self.title.firstMatch(in: l) != nil {
                        break
                    }
                    j += 1
                }
                if args.count == 4, j < t.count, t.lines[j].first == "\t" { last = j }
                descriptionUntil = max(descriptionUntil, last)
                out.append(BugcheckFact(code: code, name: name, args: args, role: .crash, writtenAs: lineStr.trimmingCharacters(in: .whitespaces), source: t.span(lines: i, last)))
                i += 1
                continue
            }
            let inDescription = i <= descriptionUntil
            let hasColonField = line.hasPrefix("BUGCHECK_")
            // 2. BUGCHECK_CODE / BUGCHECK_P1..4
            if hasColonField, line.hasPrefix("BUGCHECK_CODE:") {
                let v = line.dropFirst("BUGCHECK_CODE:".count).trimmingCharacters(in: .whitespaces)
                if let code = Hex.parse(Substring(v)).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) {
                    var args: [String] = []
                    var last = i
                    var j = i + 1
                    while j < t.count, j <= i + 12 {
                        let l = t.lines[j]
                        if l.hasPrefix("BUGCHECK_P") {
                            let val = l.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
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
            if t.has(i, TextLines.Flag.digit), t.contains(i, Needles.openBrace), let m = Self.braces.firstMatch(in: lineStr, range: NSRange(lineStr.startIndex..., in: lineStr)),
               let cr = Range(m.range(at: 1), in: lineStr), let ar = Range(m.range(at: 2), in: lineStr),
               let code = Hex.parse(lineStr[cr]).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) {
                let args = lineStr[ar].split(separator: ",").map { "0x" + $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "").lowercased() }
                out.append(BugcheckFact(code: code, name: table.name(code), args: args, role: inDescription ? .mention : .crash, writtenAs: String(lineStr[Range(m.range, in: lineStr)!]), source: t.span(line: i, range: Range(m.range, in: lineStr)!, of: lineStr)))
                i += 1
                continue
            }
            // 4. prose forms
            if !inDescription {
                let proseMatches = proseCue ? Self.prose.matches(in: lineStr, range: NSRange(lineStr.startIndex..., in: lineStr)) : []
                for m in proseMatches {
                    guard let cr = Range(m.range(at: 1), in: lineStr), let whole = Range(m.range, in: lineStr),
                          let code = Hex.parse(lineStr[cr]).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code) else { continue }
                    // "bugcheck 1" or "stop 3" in plain prose are numbers, not codes, unless written as hex
                    let raw = lineStr[cr]
                    if !raw.hasPrefix("0x") && !raw.hasPrefix("0X") && raw.count < 2 { continue }
                    out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(lineStr, before: whole.lowerBound) ? .mention : .crash,
                                            writtenAs: String(lineStr[whole]), source: t.span(line: i, range: whole, of: lineStr)))
                }
                // 5. 0x0000009F with a crash word on the line
                if hexCue {
                    for m in Self.hex8.matches(in: lineStr, range: NSRange(lineStr.startIndex..., in: lineStr)) {
                        guard let cr = Range(m.range(at: 1), in: lineStr), let whole = Range(m.range, in: lineStr),
                              let code = Hex.parse(lineStr[cr]).map({ UInt32(truncatingIfNeeded: $0) }), table.isKnown(code),
                              !out.contains(where: { $0.code == code && $0.source.message == t.message && $0.source.start <= t.span(line: i, range: whole, of: lineStr).start && $0.source.end >= t.span(line: i, range: whole, of: lineStr).end }) else { continue }
                        out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(lineStr, before: whole.lowerBound) ? .mention : .crash,
                                                writtenAs: String(lineStr[whole]), source: t.span(line: i, range: whole, of: lineStr)))
                    }
                }
                // 6. a name alone (Stop code: DRIVER_IRQL_NOT_LESS_OR_EQUAL, CRITICAL_PROCESS_DIED (0xEF))
                if !line.hasPrefix("FAILURE_BUCKET_ID"), !line.hasPrefix("DEFAULT_BUCKET_ID"), !line.hasPrefix("BUCKET_ID"), !line.hasPrefix("BUGCHECK_STR") {
                    for (a, b, name, code) in namedCodes {
                        let start = lineStr.utf8.index(lineStr.utf8.startIndex, offsetBy: a - t.offsets[i])
                        out.append(BugcheckFact(code: code, name: table.name(code), args: [], role: isNegated(lineStr, before: start) ? .mention : .crash,
                                                writtenAs: name, source: t.span(bytes: a, b)))
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

    func isNegated(_ line: String, before idx: String.Index) -> Bool {
        let start = line.index(idx, offsetBy: -24, limitedBy: line.startIndex) ?? line.startIndex
        let window = line[start..<idx].lowercased()
        return Self.negation.contains { window.contains($0) }
    }

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
