import Foundation

/// Separates a message body into the new text, the quoted earlier mail and the signature.
///
/// Structure first, then patterns: an HTML quote marker found by the HTML converter wins; otherwise the first
/// separator line (`-----邮件原件-----`, 32 underscores), header block (`发件人:`/`From:` + `Sent:`…) or
/// attribution line (`在 … 写道：`, `On … wrote:`) splits the body. `>`-quoted lines are quoted wherever they
/// stand, so bottom-posted and interleaved replies keep their new text. The rules live in data files.
public struct QuoteSplitter: @unchecked Sendable {
    public struct Parts: Sendable, Equatable {
        public var newText: String
        public var quotedText: String
        public var signature: String
    }

    let separators: [ScalarRegex]
    let attributions: [ScalarRegex]
    let fromLabels: Set<String>
    let otherLabels: Set<String>
    let closings: [String]
    /// First bytes a closing can start with (either case), the cheap test before the closings are compared.
    let closingStarts: [Bool]
    let contactLabels: [String]
    let sentFrom: [String]
    /// First bytes (either case) of the sent-from footers, so most lines are ruled out by one lookup.
    let sentFromStarts: [Bool]

    /// The splitter built from the shipped data files.
    public static let shared: QuoteSplitter = {
        do { return try QuoteSplitter() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    public init() throws {
        separators = try DataFile.regexes("quote-separators.txt")
        attributions = try DataFile.regexes("quote-attributions.txt")
        var from: [String] = [], other: [String] = []
        for e in try DataFile.entries("quote-header-labels.txt") {
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DataFile.LoadError.badEntry(file: "quote-header-labels.txt", line: e.line, reason: "expected 'role label'") }
            if parts[0] == "from" { from.append(parts[1]) } else { other.append(parts[1]) }
        }
        fromLabels = Set(from.map { $0.lowercased() })
        otherLabels = Set(other.map { $0.lowercased() })
        closings = try DataFile.entries("signature-closings.txt").map { $0.value.lowercased() }
        var starts = [Bool](repeating: false, count: 256)
        for b in closings.compactMap(\.utf8.first) { for v in ByteText.caseVariants(b) { starts[Int(v)] = true } }
        closingStarts = starts
        contactLabels = try DataFile.entries("signature-contact-labels.txt").map { $0.value.lowercased() }
        sentFrom = try DataFile.entries("signature-sent-from.txt").map { $0.value.lowercased() }
        var footerStarts = [Bool](repeating: false, count: 256)
        for b in sentFrom.compactMap(\.utf8.first) { for v in ByteText.caseVariants(b) { footerStarts[Int(v)] = true } }
        sentFromStarts = footerStarts
    }

    // MARK: line classification

    /// The line without leading `>` quote marks, `*` bold marks (HTML-to-text leftovers) and spaces.
    static func stripQuotePrefix(_ line: Substring) -> (depth: Int, rest: Substring) {
        var depth = 0
        var s = line
        while let c = s.first, c == ">" || c == " " || c == "\t" || c == "\u{00A0}" || c == "\u{3000}" {
            if c == ">" { depth += 1 }
            s = s.dropFirst()
        }
        return (depth, s)
    }

    static func isQuoted(_ line: Substring) -> Bool {
        for b in line.utf8 {
            if b == 0x3E { return true }
            if b != 0x20 && b != 0x09 { return false }
        }
        return false
    }

    /// Whether the line holds only whitespace (byte-level: ASCII space, tab, CR, NBSP, ideographic space).
    static func isBlank(_ line: Substring) -> Bool {
        var it = line.utf8.makeIterator()
        while let b = it.next() {
            if b == 0x20 || b == 0x09 || b == 0x0D { continue }
            // any other ASCII byte is text; a non-ASCII one may be a wide space (U+3000, NBSP)
            return b >= 0x80 && line.allSatisfy(\.isWhitespace)
        }
        return true
    }

    /// The byte offset of the first ':' or '：' within the first 48 bytes, if any.
    @inline(__always) static func colonOffset(_ line: Substring) -> Int? {
        var k = 0
        var prev2: UInt8 = 0, prev1: UInt8 = 0
        for b in line.utf8 {
            if b == 0x3A { return k }
            if prev2 == 0xEF && prev1 == 0xBC && b == 0x9A { return k - 2 }
            prev2 = prev1; prev1 = b
            k += 1
            if k > 48 { return nil }
        }
        return nil
    }

    /// Whether the line ends with ':' or '：' (ignoring trailing spaces).
    @inline(__always) static func endsWithColon(_ line: Substring) -> Bool {
        var bytes = line.utf8.reversed().makeIterator()
        var last3: [UInt8] = []
        while let b = bytes.next() {
            if last3.isEmpty && (b == 0x20 || b == 0x09 || b == 0x0D) { continue }
            last3.append(b)
            if last3.count == 1 && b == 0x3A { return true }
            if last3.count == 3 { return last3 == [0x9A, 0xBC, 0xEF] }
        }
        return false
    }

    /// The header label a line starts with (`发件人:`, `**From:**`), as (isFromLabel, label), or nil.
    func headerLabel(_ line: Substring) -> Bool? {
        guard let colon = QuoteSplitter.colonOffset(line) else { return nil }
        let u = line.utf8
        var a = u.startIndex
        let c = u.index(u.startIndex, offsetBy: colon)
        while a < c, u[a] == 0x3E || u[a] == 0x20 || u[a] == 0x09 || u[a] == 0x2A { a = u.index(after: a) }
        var b = c
        while b > a, u[u.index(before: b)] == 0x20 || u[u.index(before: b)] == 0x2A || u[u.index(before: b)] == 0x09 { b = u.index(before: b) }
        guard a < b else { return nil }
        let l = String(decoding: u[a..<b], as: UTF8.self).lowercased()
        if fromLabels.contains(l) { return true }
        if otherLabels.contains(l) { return false }
        return nil
    }

    func isSeparator(_ line: Substring) -> Bool {
        // cheap test first: the first byte after quote marks and spaces must be '-', '_' or 'B'
        var first: UInt8 = 0
        for b in line.utf8 where !(b == 0x3E || b == 0x20 || b == 0x09) { first = b; break }
        guard first == 0x2D || first == 0x5F || first == 0x42 || first == 0x62 || first == 0xC2 else { return false }
        var restSub = QuoteSplitter.stripQuotePrefix(line).rest
        while let l = restSub.last, l == " " || l == "\t" { restSub = restSub.dropLast() }
        let rest = restSub.utf8.contains(0xC2) ? String(restSub).replacingOccurrences(of: "\u{00A0}", with: " ").trimmingSpaces() : String(restSub)
        guard let f = rest.first, f == "-" || f == "_" || f == "B" || f == "b" else { return false }
        return separators.contains { $0.matches(rest) }
    }

    /// Words one of which every attribution line holds (a cheap test before the patterns).
    static let attributionCues: [[UInt8]] = ["wrote", "写道", "寫道", "メッセージ", "작성", "@", "écrit", "escribió", "scritto", "escreveu", "schrieb", "schreef", "skrev", "napisał", "sent"].map { Array($0.utf8) }

    func isAttribution(_ text: String) -> Bool {
        guard QuoteSplitter.attributionCues.contains(where: { ByteText.contains(text, $0) }) else { return false }
        let t = text.trimmingSpaces()
        guard t.hasSuffix(":") || t.hasSuffix("：") else { return false }
        return attributions.contains { $0.matches(t) }
    }

    /// Whether a header block starts at line `i`: a from-label line followed within six lines by another label line.
    func headerBlockStarts(at i: Int, _ lines: [Substring]) -> Bool {
        guard headerLabel(lines[i]) == true else { return false }
        var j = i + 1
        while j < lines.count && j <= i + 6 {
            if headerLabel(lines[j]) != nil { return true }
            j += 1
        }
        return false
    }

    /// Split the body. `quoteStartHint` is where an HTML quote marker began in `body`, when the body came from HTML.
    public func split(_ body: String, quoteStartHint: String.Index? = nil) -> Parts {
        let lines: [Substring] = body.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { l in
            var sub = Substring(l)
            if l.last == 0x0D { sub = Substring(l.dropLast()) }
            return sub
        }
        var quotedFlags = [Bool](repeating: false, count: lines.count)
        var cut: Int? = nil

        if let hint = quoteStartHint, hint < body.endIndex {
            // The line that holds the hint position.
            var count = 0
            for (k, l) in lines.enumerated() where l.startIndex <= hint { count = k }
            cut = count
        }
        var i = 0
        while i < lines.count, cut == nil || i < cut! {
            let line = lines[i]
            if QuoteSplitter.isQuoted(line) {
                quotedFlags[i] = true
                // a quoted Outlook block inside > quotes stays quoted; nothing else to decide
                i += 1
                continue
            }
            if isSeparator(line) || headerBlockStarts(at: i, lines) {
                cut = i
                break
            }
            if QuoteSplitter.endsWithColon(line) || (i + 1 < lines.count && QuoteSplitter.endsWithColon(lines[i + 1])) {
                let text = String(line)
                var attributionLines = 0
                if QuoteSplitter.endsWithColon(line), isAttribution(text) { attributionLines = 1 }
                else if i + 1 < lines.count, !QuoteSplitter.isQuoted(lines[i + 1]), !QuoteSplitter.isBlank(line), QuoteSplitter.endsWithColon(lines[i + 1]),
                        isAttribution(text.trimmingSpaces() + " " + lines[i + 1].trimmingSpaces()) {
                    attributionLines = 2
                }
                if attributionLines > 0 {
                    // followed by > lines: interleaved quoting; otherwise a top-post cut
                    var j = i + attributionLines
                    while j < lines.count, QuoteSplitter.isBlank(lines[j]) { j += 1 }
                    if j < lines.count, QuoteSplitter.isQuoted(lines[j]) {
                        for k in i..<(i + attributionLines) { quotedFlags[k] = true }
                        i += attributionLines
                        continue
                    }
                    cut = i
                    break
                }
            }
            i += 1
        }
        var newLines: [Substring] = []
        var quotedLines: [Substring] = []
        let end = cut ?? lines.count
        for k in 0..<end {
            if quotedFlags[k] { quotedLines.append(lines[k]) } else { newLines.append(lines[k]) }
        }
        if end < lines.count { quotedLines.append(contentsOf: lines[end...]) }

        let (kept, signature) = splitSignature(newLines)
        return Parts(newText: QuoteSplitter.trimBlankLines(kept), quotedText: QuoteSplitter.trimBlankLines(quotedLines),
                     signature: QuoteSplitter.trimBlankLines(signature))
    }

    static func trimBlankLines(_ lines: [Substring]) -> String {
        var a = lines.startIndex, b = lines.endIndex
        while a < b, isBlank(lines[a]) { a += 1 }
        while b > a, isBlank(lines[b - 1]) { b -= 1 }
        var collapsed: [Substring] = []
        var blank = 0
        for l in lines[a..<b] {
            let isBlank = isBlank(l)
            blank = isBlank ? blank + 1 : 0
            if blank <= 1 { collapsed.append(isBlank ? "" : l) }
        }
        return collapsed.joined(separator: "\n")
    }

    // MARK: signatures

    private func isClosing(_ line: String) -> Bool {
        if line.utf8.count > 48 { return false }
        let trimmed = ByteText.trim(line)
        guard let first = trimmed.utf8.first, closingStarts[Int(first)] else { return false }
        var t = trimmed.lowercased()
        while let l = t.last, ",，!！.。:：".contains(l) { t.removeLast() }
        if t.isEmpty { return false }
        for c in closings {
            if t == c { return true }
            // "BRs/Bin", "Best regards, Bin", "Thanks & Regards,\nX" — the closing and a short name
            if t.utf8.count <= c.utf8.count + 40, t.hasPrefix(c) {
                let rest = t.dropFirst(c.count)
                if let f = rest.first, f == "/" || f == "," || f == "，" || f == " " || f == "-" {
                    // a closing + sentence ("thanks for the dump") is not a signature
                    let words = rest.split(whereSeparator: { $0 == " " || $0 == "/" || $0 == "," || $0 == "，" })
                    if words.count <= 2, !["for", "to", "a", "again", "you"].contains(words.first.map(String.init) ?? "") || c == "best regards" { return true }
                }
            }
        }
        return false
    }

    private func isContactLine(_ line: String) -> Bool {
        let n = line.utf8.count
        if n > 240 { return false }
        // "电话：…" style: the label must come before a colon near the start; else "|"-separated segments
        let colonNearStart = QuoteSplitter.colonOffset(Substring(line)).map { $0 <= 24 } ?? false
        if !colonNearStart, !line.utf8.contains(0x7C) { return false }
        let pipes = line.utf8.reduce(0) { $0 + ($1 == 0x7C ? 1 : 0) }
        let t = ByteText.trim(line)
        // each "|"-separated segment may be "电话：…"
        for segment in t.split(separator: "|") {
            let lower = ByteText.trim(segment).prefix(12).lowercased()
            for l in contactLabels where lower.hasPrefix(l) {
                let rest = lower.dropFirst(l.count).drop(while: { $0 == " " || $0 == "." })
                if rest.first == ":" || rest.first == "：" { return true }
            }
        }
        // title lines like "Support Escalation Eng | Microsoft China Co Ltd | +86 … | a@b"
        if pipes >= 2 && (t.utf8.contains(0x40) || t.utf8.contains(0x2B)) { return true }
        return false
    }

    private func isNameLike(_ line: String) -> Bool {
        if line.utf8.count > 90 { return false }
        let t = ByteText.trim(line)
        if t.isEmpty || t.utf8.count > 90 { return false }
        return !t.contains(where: { "。，,.:：?？!！;；()（）=`".contains($0) })
    }

    /// Find the signature at the end of the new text: a `-- ` line, a closing word, a mobile footer, or a block of contact lines.
    func splitSignature(_ lines: [Substring]) -> ([Substring], [Substring]) {
        guard let last = lines.lastIndex(where: { !QuoteSplitter.isBlank($0) }) else { return (lines, []) }
        let windowStart = max(0, last - 11)
        var start: Int? = nil
        for k in windowStart...last {
            if lines[k].utf8.count > 240 { continue }
            let t = String(lines[k])
            let trimmed = ByteText.trim(lines[k])
            if trimmed == "--" || t == "-- " || trimmed == "—" { start = k; break }
            if isClosing(t) { start = k; break }
            if let first = trimmed.utf8.first, sentFromStarts[Int(first)] {
                let lower = trimmed.prefix(40).lowercased()
                if sentFrom.contains(where: { lower.hasPrefix($0) }) { start = k; break }
            }
            if isContactLine(t) {
                var s = k
                var up = 0
                while s > 0, up < 2, isNameLike(String(lines[s - 1])) { s -= 1; up += 1 }
                start = s
                break
            }
        }
        guard let s = start else { return (lines, []) }
        // never call the whole message a signature
        if !lines[..<s].contains(where: { !QuoteSplitter.isBlank($0) }) { return (lines, []) }
        return (Array(lines[..<s]), Array(lines[s...]))
    }
}
