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
    /// The longest header label in UTF-8 bytes: text before a colon that is longer is no label, and is not
    /// copied and looked up (WinDbg lines are full of colons).
    let longestLabel: Int
    /// The ASCII labels (lower-case bytes) by length, each with whether it is a from-label: an ASCII line start is
    /// compared byte by byte with the labels of its length, with no string made.
    let asciiLabelsByLength: [[(bytes: [UInt8], isFrom: Bool)]]
    let closings: [String]
    /// The closings' bytes, for the test of an ASCII line.
    let closingBytes: [[UInt8]]
    /// First bytes a closing can start with (either case), the cheap test before the closings are compared.
    let closingStarts: [Bool]
    let contactLabels: [String]
    /// Per byte: whether a contact label starts with it (either case), so most segments are passed over at one look.
    let contactStarts: [Bool]
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
        longestLabel = fromLabels.union(otherLabels).map(\.utf8.count).max() ?? 0
        var byLength = [[(bytes: [UInt8], isFrom: Bool)]](repeating: [], count: longestLabel + 1)
        for (labels, isFrom) in [(fromLabels, true), (otherLabels, false)] {
            for l in labels.sorted() where l.utf8.allSatisfy({ $0 < 0x80 }) { byLength[l.utf8.count].append((Array(l.utf8), isFrom)) }
        }
        asciiLabelsByLength = byLength
        closings = try DataFile.entries("signature-closings.txt").map { $0.value.lowercased() }
        closingStarts = ByteText.firstByteTable(closings)
        closingBytes = closings.map { Array($0.utf8) }
        contactLabels = try DataFile.entries("signature-contact-labels.txt").map { $0.value.lowercased() }
        contactStarts = ByteText.firstByteTable(contactLabels)
        sentFrom = try DataFile.entries("signature-sent-from.txt").map { $0.value.lowercased() }
        sentFromStarts = ByteText.firstByteTable(sentFrom)
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
        return ByteText.withBytes(line) { p in
            for b in p {
                if b == 0x3E { return true }
                if b != 0x20 && b != 0x09 { return false }
            }
            return false
        }
    }

    /// Whether the line holds only whitespace (byte-level: ASCII space, tab, CR, NBSP, ideographic space).
    static func isBlank(_ line: Substring) -> Bool {
        let firstText: UInt8? = ByteText.withBytes(line) { p in p.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) } }
        guard let b = firstText else { return true }
        // any other ASCII byte is text; a non-ASCII one may be a wide space (U+3000, NBSP)
        return b >= 0x80 && line.allSatisfy(\.isWhitespace)
    }

    /// The byte offset of the first ':' or '：' within the first 48 bytes, if any.
    @inline(__always) static func colonOffset(_ line: Substring) -> Int? {
        return ByteText.withBytes(line) { p in
            var prev2: UInt8 = 0, prev1: UInt8 = 0
            for k in 0..<min(p.count, 49) {
                let b = p[k]
                if b == 0x3A { return k }
                if prev2 == 0xEF && prev1 == 0xBC && b == 0x9A { return k - 2 }
                prev2 = prev1; prev1 = b
            }
            return nil
        }
    }

    /// Whether the line ends with ':' or '：' (ignoring trailing spaces).
    @inline(__always) static func endsWithColon(_ line: Substring) -> Bool {
        return ByteText.withBytes(line) { p in
            var e = p.count
            while e > 0, p[e - 1] == 0x20 || p[e - 1] == 0x09 || p[e - 1] == 0x0D { e -= 1 }
            guard e > 0 else { return false }
            if p[e - 1] == 0x3A { return true }
            // '：' is EF BC 9A
            return e >= 3 && p[e - 3] == 0xEF && p[e - 2] == 0xBC && p[e - 1] == 0x9A
        }
    }

    /// Whether a line starts with a header label (`发件人:`, `**From:**`): true for a from-label, false for another
    /// header label, nil for none.
    func headerLabel(_ line: Substring) -> Bool? {
        guard let colon = QuoteSplitter.colonOffset(line) else { return nil }
        enum Found { case none, ascii(Bool?), other(String) }
        let found: Found = ByteText.withBytes(line) { p in
            var a = 0, b = colon
            while a < b, p[a] == 0x3E || p[a] == 0x20 || p[a] == 0x09 || p[a] == 0x2A { a += 1 }
            while b > a, p[b - 1] == 0x20 || p[b - 1] == 0x2A || p[b - 1] == 0x09 { b -= 1 }
            guard a < b else { return .none }
            let bytes = UnsafeBufferPointer(rebasing: p[a..<b])
            // ASCII labels compared lower-cased by byte; others (发件人, Från) lower-cased by Unicode rules
            if bytes.allSatisfy({ $0 < 0x80 }) {
                guard bytes.count <= longestLabel else { return .none }   // lower-casing ASCII keeps the length
                for label in asciiLabelsByLength[bytes.count]
                where zip(label.bytes, bytes).allSatisfy({ $0 == ByteText.lowerASCII($1) }) { return .ascii(label.isFrom) }
                return .ascii(nil)
            }
            // lower-casing may shorten other text, to no less than a third of its UTF-8 bytes (the Kelvin sign K,
            // 3 bytes, becomes k): longer text cannot become a label
            guard bytes.count <= 3 * longestLabel else { return .none }
            return .other(String(decoding: bytes, as: UTF8.self).lowercased())
        }
        switch found {
        case .none: return nil
        case .ascii(let isFrom): return isFrom
        case .other(let l):
            if fromLabels.contains(l) { return true }
            if otherLabels.contains(l) { return false }
            return nil
        }
    }

    func isSeparator(_ line: Substring) -> Bool {
        // cheap test first: the first byte after quote marks and spaces must be '-', '_' or 'B'
        let first: UInt8 = ByteText.withBytes(line) { p in p.first { !($0 == 0x3E || $0 == 0x20 || $0 == 0x09) } } ?? 0
        guard first == 0x2D || first == 0x5F || first == 0x42 || first == 0x62 || first == 0xC2 else { return false }
        var restSub = QuoteSplitter.stripQuotePrefix(line).rest
        while let l = restSub.last, l == " " || l == "\t" { restSub = restSub.dropLast() }
        let rest = restSub.utf8.contains(0xC2) ? String(restSub).replacingOccurrences(of: "\u{00A0}", with: " ").trimmingSpaces() : String(restSub)
        guard let f = rest.first, f == "-" || f == "_" || f == "B" || f == "b" else { return false }
        return separators.contains { $0.matches(rest) }
    }

    /// Words one of which every attribution line holds (a cheap test before the patterns).
    static let attributionCues: [[UInt8]] = ["wrote", "写道", "寫道", "メッセージ", "작성", "@", "écrit", "escribió", "scritto", "escreveu", "schrieb", "schreef", "skrev", "napisał", "sent"].map { Array($0.utf8) }

    /// The first two bytes of each cue word of two bytes or more, as a 65,536-bit set: common letters (`s`, `e`)
    /// start too much text to try every cue there.
    static let cuePairs: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1024)
        for cue in attributionCues where cue.count >= 2 {
            let pair = Int(cue[0]) << 8 | Int(cue[1])
            bits[pair >> 6] |= 1 << UInt64(pair & 63)
        }
        return bits
    }()
    /// The one-byte cues (`@`).
    static let singleByteCues: [UInt8] = attributionCues.filter { $0.count == 1 }.map { $0[0] }

    /// Whether `line` holds one of the attribution cue words (case as written), in one pass over its bytes.
    static func hasAttributionCue(_ line: Substring) -> Bool {
        let singles = singleByteCues, cues = attributionCues
        return ByteText.withBytes(line) { p in
            cuePairs.withUnsafeBufferPointer { pairs in
                for k in 0..<p.count {
                    if singles.contains(p[k]) { return true }
                    guard k + 1 < p.count, case let pair = Int(p[k]) << 8 | Int(p[k + 1]), pairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
                    for cue in cues where cue.count >= 2 && k + cue.count <= p.count && cue[0] == p[k] && cue[1] == p[k + 1] {
                        if zip(cue.indices, cue).allSatisfy({ p[k + $0] == $1 }) { return true }
                    }
                }
                return false
            }
        }
    }

    func isAttribution(_ text: String) -> Bool {
        guard QuoteSplitter.hasAttributionCue(text[...]) else { return false }
        let t = text.trimmingSpaces()
        guard t.hasSuffix(":") || t.hasSuffix("：") else { return false }
        return attributions.contains { $0.matches(t) }
    }

    /// Whether a header block starts at line `i`: a from-label line followed within six lines by another label line.
    func headerBlockStarts(at i: Int, _ lines: inout LineSource) -> Bool {
        guard headerLabel(lines[i]) == true else { return false }
        var j = i + 1
        while lines.has(j) && j <= i + 6 {
            if headerLabel(lines[j]) != nil { return true }
            j += 1
        }
        return false
    }

    /// The line of `body` (0-based, lines split at LF) that holds `index`; nil at or past the end.
    public static func line(of index: String.Index, in body: String) -> Int? {
        guard index < body.endIndex else { return nil }
        return body.utf8[..<index].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// Split a body into new text, quoted text and signature; `quoteStartLine` is the line an HTML quote marker
    /// put the start of quoted mail on, if any. `collectQuoted: false` leaves the quoted text empty (and the quoted
    /// history below the cut unread).
    public func split(_ body: String, quoteStartLine: Int? = nil, collectQuoted: Bool = true) -> Parts {
        // lines are found as far as the decisions read: the quoted history below the cut is never split into lines
        var lines = LineSource(body)
        var quotedAbove = Set<Int>()   // quoted lines above the cut (> quoting and its attribution lines)
        var cut: Int? = nil

        if let line = quoteStartLine, lines.has(line) { cut = line }
        var i = 0
        while lines.has(i), cut == nil || i < cut! {
            let line = lines[i]
            if QuoteSplitter.isQuoted(line) {
                quotedAbove.insert(i)
                // a quoted Outlook block inside > quotes stays quoted; nothing else to decide
                i += 1
                continue
            }
            if isSeparator(line) || headerBlockStarts(at: i, &lines) {
                cut = i
                break
            }
            let next: Substring? = lines.has(i + 1) ? lines[i + 1] : nil
            // an attribution (one line, or two joined by a space) holds a cue word; no cue holds a space, so the
            // pair holds one only when a line does (WinDbg's many `KEY:` lines end here, with no string made)
            if QuoteSplitter.endsWithColon(line) || (next.map(QuoteSplitter.endsWithColon) ?? false),
               QuoteSplitter.hasAttributionCue(line) || (next.map(QuoteSplitter.hasAttributionCue) ?? false) {
                let text = String(line)
                var attributionLines = 0
                if QuoteSplitter.endsWithColon(line), isAttribution(text) { attributionLines = 1 }
                else if let next, !QuoteSplitter.isQuoted(next), !QuoteSplitter.isBlank(line), QuoteSplitter.endsWithColon(next),
                        isAttribution(text.trimmingSpaces() + " " + next.trimmingSpaces()) {
                    attributionLines = 2
                }
                if attributionLines > 0 {
                    // followed by > lines: interleaved quoting; otherwise a top-post cut
                    var j = i + attributionLines
                    while lines.has(j), QuoteSplitter.isBlank(lines[j]) { j += 1 }
                    if lines.has(j), QuoteSplitter.isQuoted(lines[j]) {
                        quotedAbove.formUnion(i..<(i + attributionLines))
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
        var quoted = BlankLineCollapser()
        let end = cut.map { min($0, lines.found) } ?? lines.found
        for k in 0..<end {
            if quotedAbove.contains(k) { if collectQuoted { quoted.add(lines[k]) } } else { newLines.append(lines[k]) }
        }
        if collectQuoted, lines.has(end) { quoted.addLines(of: lines.rest(from: end)) }

        let (kept, signature) = splitSignature(newLines)
        return Parts(newText: QuoteSplitter.trimBlankLines(kept), quotedText: quoted.text, signature: QuoteSplitter.trimBlankLines(signature))
    }

    /// Lines with leading and trailing blank lines dropped and runs of blank lines made one empty line.
    static func trimBlankLines(_ lines: [Substring]) -> String {
        var c = BlankLineCollapser()
        for l in lines { c.add(l) }
        return c.text
    }

    /// The lines of a text, found on demand (a CR before the LF is dropped from the line).
    struct LineSource {
        private let text: Substring
        private var starts: [String.Index] = []
        private var ends: [String.Index] = []
        private var next: String.Index
        private var done = false

        init(_ text: Substring) {
            self.text = text
            next = text.startIndex
        }

        init(_ text: String) { self.init(Substring(text)) }

        /// How many lines have been found so far.
        var found: Int { starts.count }

        /// Whether line `k` exists (finding lines up to it).
        mutating func has(_ k: Int) -> Bool {
            while !done, starts.count <= k { findNext() }
            return k < starts.count
        }

        subscript(_ k: Int) -> Substring { text[starts[k]..<ends[k]] }

        /// The text from line `k` (already found) to the end.
        func rest(from k: Int) -> Substring { text[starts[k]...] }

        private mutating func findNext() {
            let u = text.utf8
            let lineStart = next
            let newlineOffset: Int? = ByteText.withBytes(text[lineStart...]) { p in
                guard let base = p.baseAddress, let hit = memchr(base, 0x0A, p.count) else { return nil }
                return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
            }
            let newline = newlineOffset.map { u.index(lineStart, offsetBy: $0) }
            var lineEnd = newline ?? u.endIndex
            if lineEnd > lineStart, u[u.index(before: lineEnd)] == 0x0D { lineEnd = u.index(before: lineEnd) }
            starts.append(lineStart)
            ends.append(lineEnd)
            if let newline { next = u.index(after: newline) } else { done = true }
        }
    }

    /// Builds the text of a run of lines: leading and trailing blank lines dropped, each run of blank lines inside
    /// made one empty line. Lines are appended as bytes, so a long quoted history costs one copy.
    struct BlankLineCollapser {
        private var out: [UInt8] = []
        private var pendingBlank = false

        mutating func add(_ line: Substring) {
            if QuoteSplitter.isBlank(line) {
                if !out.isEmpty { pendingBlank = true }
                return
            }
            if !out.isEmpty { out.append(0x0A) }
            if pendingBlank { out.append(0x0A); pendingBlank = false }
            ByteText.withBytes(line) { out.append(contentsOf: $0) }
        }

        /// Every line of `text` (a CR before each LF dropped).
        mutating func addLines(of text: Substring) {
            var lines = LineSource(text)
            var k = 0
            while lines.has(k) { add(lines[k]); k += 1 }
        }

        var text: String { String(decoding: out, as: UTF8.self) }
    }

    // MARK: signatures

    /// Punctuation a closing may end with ("Thanks!", "此致，").
    static let closingPunctuation: Set<Character> = [",", "，", "!", "！", ".", "。", ":", "："]
    /// Punctuation a name line never holds: a line with any is a sentence, not a name.
    static let sentencePunctuation: Set<Character> = ["。", "，", ",", ".", ":", "：", "?", "？", "!", "！", ";", "；", "(", ")", "（", "）", "=", "`"]

    private func isClosing(_ line: Substring) -> Bool {
        if line.utf8.count > 48 { return false }
        let trimmed = ByteText.trim(line)
        guard let first = trimmed.utf8.first, closingStarts[Int(first)] else { return false }
        if trimmed.utf8.allSatisfy({ $0 < 0x80 }) {
            // an ASCII line (most): lower-cased and compared as bytes; a string is made only when a closing starts it
            var t = trimmed.utf8.map(ByteText.lowerASCII)
            while let l = t.last, l == 0x2C || l == 0x21 || l == 0x2E || l == 0x3A { t.removeLast() }   // , ! . :
            guard !t.isEmpty, closingBytes.contains(where: { t.starts(with: $0) }) else { return false }
            return isClosingText(String(decoding: t, as: UTF8.self))
        }
        var t = trimmed.lowercased()
        while let l = t.last, QuoteSplitter.closingPunctuation.contains(l) { t.removeLast() }
        if t.isEmpty { return false }
        return isClosingText(t)
    }

    /// Whether a lower-cased line without its closing punctuation is a closing, alone or with a short name.
    private func isClosingText(_ t: String) -> Bool {
        for c in closings {
            if t.utf8.count == c.utf8.count, t.utf8.elementsEqual(c.utf8) { return true }
            // "BRs/Bin", "Best regards, Bin", "Thanks & Regards,\nX" — the closing and a short name
            if t.utf8.count <= c.utf8.count + 40, t.utf8.starts(with: c.utf8) {
                let rest = t[t.utf8.index(t.utf8.startIndex, offsetBy: c.utf8.count)...]
                if let f = rest.first, f == "/" || f == "," || f == "，" || f == " " || f == "-" {
                    // a closing + sentence ("thanks for the dump") is not a signature
                    let words = rest.split(whereSeparator: { $0 == " " || $0 == "/" || $0 == "," || $0 == "，" })
                    if words.count <= 2, !["for", "to", "a", "again", "you"].contains(words.first.map(String.init) ?? "") || c == "best regards" { return true }
                }
            }
        }
        return false
    }

    private func isContactLine(_ line: Substring) -> Bool {
        if line.utf8.count > 240 { return false }
        // "电话：…" style: the label must come before a colon near the start; else "|"-separated segments
        let colonNearStart = QuoteSplitter.colonOffset(line).map { $0 <= 24 } ?? false
        let (pipes, hasAtOrPlus) = ByteText.withBytes(line) { p -> (Int, Bool) in
            var pipes = 0, mark = false
            for b in p {
                if b == 0x7C { pipes += 1 } else if b == 0x40 || b == 0x2B { mark = true }
            }
            return (pipes, mark)
        }
        if !colonNearStart, pipes == 0 { return false }
        let t = ByteText.trim(line)
        // each "|"-separated segment may be "电话：…"
        let u = t.utf8
        var segmentStart = u.startIndex
        while segmentStart <= u.endIndex {
            let segmentEnd = pipes == 0 ? u.endIndex : (u[segmentStart...].firstIndex(of: 0x7C) ?? u.endIndex)
            let trimmed = ByteText.trim(t[segmentStart..<segmentEnd])
            if let first = trimmed.utf8.first, contactStarts[Int(first)],
               contactLabels.contains(where: { QuoteSplitter.labelThenColon(trimmed, $0.utf8) }) { return true }
            guard segmentEnd < u.endIndex else { break }
            segmentStart = u.index(after: segmentEnd)
        }
        // title lines like "Support Escalation Eng | Microsoft China Co Ltd | +86 … | a@b"
        return pipes >= 2 && hasAtOrPlus
    }

    /// Whether `segment` starts with `label` (lower-case; ASCII letters of the segment compared in either case), then
    /// spaces or dots and a colon (ASCII or full-width), all within its first 12 characters: "Tel.: ", "电话：".
    static func labelThenColon(_ segment: Substring, _ label: String.UTF8View) -> Bool {
        ByteText.withBytes(segment) { p in
            var k = 0
            var characters = 0
            for b in label {
                guard k < p.count, ByteText.lowerASCII(p[k]) == b else { return false }
                if b & 0xC0 != 0x80 { characters += 1 }
                k += 1
            }
            while k < p.count, characters < 12 {
                switch p[k] {
                case 0x20, 0x2E: k += 1; characters += 1
                case 0x3A: return true
                case 0xEF: return k + 2 < p.count && p[k + 1] == 0xBC && p[k + 2] == 0x9A
                default: return false
                }
            }
            return false
        }
    }

    private func isNameLike(_ line: Substring) -> Bool {
        if line.utf8.count > 90 { return false }
        let t = ByteText.trim(line)
        if t.isEmpty || t.utf8.count > 90 { return false }
        return !t.contains(where: { QuoteSplitter.sentencePunctuation.contains($0) })
    }

    /// Find the signature at the end of the new text: a `-- ` line, a closing word, a mobile footer, or a block of contact lines.
    func splitSignature(_ lines: [Substring]) -> ([Substring], [Substring]) {
        guard let last = lines.lastIndex(where: { !QuoteSplitter.isBlank($0) }) else { return (lines, []) }
        let windowStart = max(0, last - 11)
        var start: Int? = nil
        for k in windowStart...last {
            if lines[k].utf8.count > 240 { continue }
            let t = lines[k]
            let trimmed = ByteText.trim(t)
            if trimmed.utf8.elementsEqual("--".utf8) || t.utf8.elementsEqual("-- ".utf8) || trimmed.utf8.elementsEqual("—".utf8) { start = k; break }
            if isClosing(t) { start = k; break }
            if let first = trimmed.utf8.first, sentFromStarts[Int(first)],
               sentFrom.contains(where: { ByteText.hasFoldedPrefix(trimmed, $0.utf8) }) { start = k; break }
            if isContactLine(t) {
                var s = k
                var up = 0
                while s > 0, up < 2, isNameLike(lines[s - 1]) { s -= 1; up += 1 }
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
