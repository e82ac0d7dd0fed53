import Foundation
import Synchronization

/// Masks personal data (national ID numbers, mobile and landline phone numbers) with `*`, keeping the length so
/// spans stay valid. Patterns live in `Resources/pii-patterns.txt`; ID numbers must pass the GB 11643 checksum.
public struct Redactor: @unchecked Sendable {
    struct Rule { var kind: String; var regex: ScalarRegex }
    let rules: [Rule]
    /// Lines already masked (without their quote marks), and what they became. A line with a phone number is mostly
    /// a signature's, met again in later messages of the thread and in quotes of them at every depth (perf: the
    /// patterns run on such lines cost ~2–3 % of an ingest's CPU). Shared by the threads that parse; emptied when
    /// full, so it stays small.
    let maskedLines = LineMemo()

    final class LineMemo: Sendable {
        static let capacity = 4_096
        private let table = Mutex<[String: String]>([:])
        func value(_ line: String) -> String? { table.withLock { $0[line] } }
        var count: Int { table.withLock { $0.count } }
        func store(_ line: String, _ masked: String) {
            table.withLock { t in
                if t.count >= LineMemo.capacity { t.removeAll(keepingCapacity: true) }
                t[line] = masked
            }
        }
    }

    public static let shared: Redactor = {
        do { return try Redactor() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    init() throws {
        rules = try DataFile.entries("pii-patterns.txt").map { e in
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DataFile.LoadError.badEntry(file: "pii-patterns.txt", line: e.line, reason: "expected 'kind regex'") }
            do { return Rule(kind: parts[0], regex: try ScalarRegex(parts[1])) }
            catch { throw DataFile.LoadError.badEntry(file: "pii-patterns.txt", line: e.line, reason: "invalid pattern") }
        }
    }

    /// Whether bytes of `s` could hold a number one of the patterns masks — the cheap test that keeps the regular
    /// expressions off nearly every line (dates, times, WinDbg values). It must hold for every line a pattern masks
    /// (tests check each form at every offset). True when the text has:
    /// - a group of exactly 11, 13 (86 + mobile) or 17–18 digits (17 + X) with no letter or digit on either side
    ///   (mobile, ID), or of 7–8 after a space or dash (the local number after an area code);
    /// - digit groups of at most 8 joined by single spaces or dashes, 11 digits or more from a group with no letter
    ///   or digit before it ("138 1234 5678", also after "+0x0 " or a 9-digit group);
    /// - `(0` (an area code in parentheses), `+86`, or a phone label (tel, phone, mobile, 电话, 手机, 座机…).
    static func mayHoldPII(_ s: Substring) -> Bool {
        var copy = s
        return copy.withUTF8 { p in mayHoldPII(p) }
    }

    /// The phone labels of `pii-patterns.txt`'s labelled rule (its `(?<=tel|phone|电话|…)`), lower-case: read from the
    /// pattern so the cheap test and the rule cannot disagree.
    static let phoneLabels: [[UInt8]] = Redactor.shared.rules.flatMap { rule -> [[UInt8]] in
        let p = rule.regex.pattern
        guard let open = p.range(of: "(?<="), let close = p[open.upperBound...].firstIndex(of: ")") else { return [] }
        return p[open.upperBound..<close].split(separator: "|").map { Array($0.lowercased().utf8) }
    }

    /// Per byte: 1 a digit, 2 `(` or `+`, 4 the first byte of a phone label (either case); 0 for the bytes that
    /// start nothing, so the scan below looks most bytes up once and moves on.
    static let byteRoles: [UInt8] = (0..<256).map { b -> UInt8 in
        let c = UInt8(b)
        var role: UInt8 = (c &- 0x30) < 10 ? 1 : (c == 0x28 || c == 0x2B ? 2 : 0)
        let folded = c < 0x80 ? c | 0x20 : c
        if phoneLabels.contains(where: { $0.first == folded }) { role |= 4 }
        return role
    }

    /// The first two bytes of each phone label, every case variant, as a 65,536-bit set: `t` or a CJK lead byte
    /// alone starts too much text to try every label there.
    static let labelPairs: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1024)
        for label in phoneLabels where label.count >= 2 {
            for a in ByteText.caseVariants(label[0]) {
                for b in ByteText.caseVariants(label[1]) {
                    let pair = Int(a) << 8 | Int(b)
                    bits[pair >> 6] |= 1 << UInt64(pair & 63)
                }
            }
        }
        return bits
    }()

    static func mayHoldPII(_ p: UnsafeBufferPointer<UInt8>) -> Bool {
        byteRoles.withUnsafeBufferPointer { roles in
            labelPairs.withUnsafeBufferPointer { pairs in mayHoldPII(p, roles: roles, labelPairs: pairs) }
        }
    }

    private static func mayHoldPII(_ p: UnsafeBufferPointer<UInt8>, roles: UnsafeBufferPointer<UInt8>, labelPairs: UnsafeBufferPointer<UInt64>) -> Bool {
        let n = p.count
        @inline(__always) func digit(_ k: Int) -> Bool { k >= 0 && k < n && (p[k] &- 0x30) < 10 }
        /// A letter or digit: what the patterns' look-arounds forbid next to a number (no pattern forbids less).
        @inline(__always) func alphanumeric(_ k: Int) -> Bool {
            guard k >= 0, k < n else { return false }
            let b = p[k]
            return (b &- 0x30) < 10 || (b | 0x20) &- 0x61 < 26
        }
        var k = 0
        while k < n {
            let c = p[k]
            let role = roles[Int(c)]
            if role == 0 { k += 1; continue }
            if role & 4 != 0, k + 1 < n, case let pair = Int(c) << 8 | Int(p[k + 1]), labelPairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0,
               labelBeforeNumber(p, k) { return true }
            if c == 0x28, k + 1 < n, p[k + 1] == 0x30 { return true }                       // "(0"
            if c == 0x2B, k + 2 < n, p[k + 1] == 0x38, p[k + 2] == 0x36 { return true }     // "+86"
            guard role & 1 != 0, !digit(k - 1) else { k += 1; continue }
            // a run of digit groups joined by single separators
            var e = k
            var window = 0   // digits of the groups of at most 8 since the last longer group, from a clean start
            while true {
                let g = e
                while digit(e) { e += 1 }
                let len = e - g
                // a group on its own, with no letter or digit on either side (every group after a separator starts so)
                let startsClean = !alphanumeric(g - 1)
                let endsClean = !alphanumeric(e) || (len == 17 && e < n && (p[e] | 0x20) == 0x78 && !alphanumeric(e + 1))
                if startsClean && endsClean {
                    if len == 11 || len == 13 || len == 17 || len == 18 { return true }                      // mobile, 86 + mobile, ID
                    if len == 7 || len == 8, g > 0, p[g - 1] == 0x20 || p[g - 1] == 0x2D { return true }  // local number after an area code
                }
                // a number written in groups ("138 1234 5678") has 11 digits or more in groups of at most 8; it can
                // start at any clean group, so a longer group (or a first group glued to a word) only restarts the count
                if len > 8 { window = 0 } else if startsClean { window += len; if window >= 11 { return true } }
                if e + 1 < n, p[e] == 0x20 || p[e] == 0x2D, digit(e + 1) { e += 1; continue }
                break
            }
            k = e
        }
        return false
    }

    /// Whether a phone label (either case) starts at byte `i` with a number after it, as the labelled rule needs:
    /// colons (ASCII or full-width) and spaces, then a digit or `+`.
    private static func labelBeforeNumber(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let n = p.count
        for label in phoneLabels where i + label.count <= n {
            var j = 0
            while j < label.count, (label[j] < 0x80 ? p[i + j] | 0x20 : p[i + j]) == label[j] { j += 1 }
            guard j == label.count else { continue }
            var k = i + j
            while k < n {
                if p[k] == 0x3A || p[k] == 0x20 { k += 1; continue }
                if k + 2 < n, p[k] == 0xEF, p[k + 1] == 0xBC, p[k + 2] == 0x9A { k += 3; continue }
                break
            }
            if k < n, (p[k] &- 0x30) < 10 || p[k] == 0x2B { return true }
        }
        return false
    }

    static func validChineseID(_ s: Substring) -> Bool {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let checks = Array("10X98765432")
        let chars = Array(s)
        guard chars.count == 18 else { return false }
        var sum = 0
        for k in 0..<17 { guard let d = chars[k].wholeNumberValue else { return false }; sum += d * weights[k] }
        return Character(chars[17].uppercased()) == checks[sum % 11]
    }

    /// The text with personal data masked. One pass over the bytes finds the lines the cheap test lets through;
    /// only those are copied and matched against the patterns.
    public func redact(_ text: String) -> String {
        var candidates: [Range<Int>] = []
        var copy = text
        copy.withUTF8 { p in
            guard let base = p.baseAddress else { return }
            var start = 0
            while start < p.count {
                let end = memchr(base + start, 0x0A, p.count - start).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? p.count
                if Redactor.mayHoldPII(UnsafeBufferPointer(rebasing: p[start..<end])) {
                    // a quoted line is masked as the line it quotes: no pattern starts with, or looks behind for,
                    // `>`, a space or a tab, so the quote marks change nothing, and the memo meets the line again
                    // at every depth of quoting
                    var from = start
                    while from < end, p[from] == 0x3E || p[from] == 0x20 || p[from] == 0x09 { from += 1 }
                    candidates.append(from..<end)
                }
                start = end + 1
            }
        }
        guard !candidates.isEmpty else { return text }
        let u = text.utf8
        var out = ""
        var copiedTo = 0
        var changed = false
        for r in candidates {
            let a = u.index(u.startIndex, offsetBy: r.lowerBound), b = u.index(u.startIndex, offsetBy: r.upperBound)
            let line = text[a..<b]
            let masked = maskedLine(String(line))
            guard masked != line else { continue }
            if !changed { out.reserveCapacity(u.count); changed = true }
            out += text[u.index(u.startIndex, offsetBy: copiedTo)..<a]
            out += masked
            copiedTo = r.upperBound
        }
        guard changed else { return text }
        out += text[u.index(u.startIndex, offsetBy: copiedTo)...]
        return out
    }

    /// `redactLine(line)`, from the memo when the line was masked before.
    func maskedLine(_ line: String) -> String {
        if let known = maskedLines.value(line) { return known }
        let masked = redactLine(line)
        maskedLines.store(line, masked)
        return masked
    }

    func redactLine(_ input: String) -> String {
        var line = input
        var text = ScalarText(line)
        for rule in rules {
            let found = rule.regex.matches(in: text)
            guard !found.isEmpty else { continue }
            var bytes = text.utf8
            for m in found.reversed() {
                // the number itself: group 1 where the pattern has one (a labelled number), else the whole match
                let r = (m.groups.count > 1 ? m.groups[1] : nil) ?? m.range
                let a = text.utf8Offsets[r.lowerBound], b = text.utf8Offsets[r.upperBound]
                let piece = String(decoding: bytes[a..<b], as: UTF8.self)
                if rule.kind == "cn-id" && !Redactor.validChineseID(Substring(piece)) { continue }
                let masked = String(piece.map { $0.isNumber || (rule.kind == "cn-id" && ($0 == "X" || $0 == "x")) ? "*" : $0 })
                bytes.replaceSubrange(a..<b, with: Array(masked.utf8))
            }
            line = String(decoding: bytes, as: UTF8.self)
            text = ScalarText(line)
        }
        return line
    }

    /// A message with personal data masked in every text field and its subject. New text, quoted text and signature
    /// are parts of the body: they are split again from the masked body (masking keeps every line), so they are
    /// exactly what the stored body gives when a case is shown.
    public func redact(_ m: Message) -> Message {
        let body = redact(m.body)
        return redactFields(body == m.body ? m : m.withBody(body))
    }

    /// A message with its subject and attachment texts masked (the body as it is: for a body masked before it was split).
    public func redactFields(_ m: Message) -> Message {
        var r = m
        r.subject = redact(m.subject)
        r.attachments = m.attachments.map { a in var b = a; b.text = a.text.map(redact); return b }
        return r
    }
}
