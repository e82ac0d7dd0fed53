import Foundation

/// The text FTS5 indexes and the MATCH expressions casekb builds, so that 1- and 2-character Chinese words, driver
/// and frame names, KB numbers and phrases all match, and no user input ever reaches FTS5 syntax unquoted.
public enum SearchText {
    @inline(__always) static func isCJK(_ v: UInt32) -> Bool {
        (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0x3400 && v <= 0x4DBF) || (v >= 0x3040 && v <= 0x30FF) || (v >= 0xAC00 && v <= 0xD7AF)
            || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0x20000 && v <= 0x2FFFF)
    }

    /// The indexed form of a text: overlapping pairs of CJK characters become tokens in place (`蓝屏代码` →
    /// `蓝屏 屏代 代码`, so multi-character words match as bigram phrases), and every CJK character is also indexed
    /// alone at the end of the text (so 1-character words match without breaking phrases); WinDbg addresses (bare runs of 8+ hex digits, with or without
    /// a back-tick) are dropped: they are unique per dump, never searched, and half the index cost.
    public static func indexForm(_ text: String) -> String {
        ByteText.withBytes(text) { bytes in
            if !bytes.contains(where: { $0 >= 0x80 }) { return asciiIndexForm(bytes) }
            var writer = IndexFormWriter(bytes)
            writer.write()
            return String(decoding: writer.out, as: UTF8.self)
        }
    }

    /// `indexForm` of text with non-ASCII bytes, at byte level: ASCII by byte class, other scalars decoded (CJK by
    /// range, the rest by Unicode properties). A struct, so its state is plain stored properties (nested functions
    /// capturing the same variables cost an exclusivity check per access).
    private struct IndexFormWriter {
        let bytes: UnsafeBufferPointer<UInt8>
        var out: [UInt8] = []
        var unigrams: [UInt8] = []
        var tokenStart = -1, tokenScalars = 0, tokenASCIIDigits = true, tokenHex = true, tokenDigits = 0
        var previousWasKB = false

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            out.reserveCapacity(bytes.count + bytes.count / 2)
        }

        @inline(__always) mutating func space() { if let l = out.last, l != 0x20 { out.append(0x20) } }
        @inline(__always) mutating func append(_ r: Range<Int>) { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[r])) }

        mutating func flushToken(_ end: Int) {
            guard tokenStart >= 0 else { return }
            let isAddress = tokenScalars >= 8 && tokenHex && tokenDigits > 0
            if !isAddress {
                space()
                append(tokenStart..<end)
                // "KB 4559003" is also indexed as KB4559003
                if previousWasKB && tokenASCIIDigits && (6...7).contains(tokenScalars) {
                    out.append(0x20); out.append(0x4B); out.append(0x42); append(tokenStart..<end)
                }
                previousWasKB = end - tokenStart == 2 && (bytes[tokenStart] | 0x20) == 0x6B && (bytes[tokenStart + 1] | 0x20) == 0x62
            } else { previousWasKB = false }
            tokenStart = -1; tokenScalars = 0; tokenASCIIDigits = true; tokenHex = true; tokenDigits = 0
        }

        mutating func write() {
            var prevCJK = -1..<(-1)          // byte range of the previous CJK character
            var runLength = 0
            var k = 0
            let n = bytes.count
            while k < n {
                let c = bytes[k]
                var len = 1
                var value = UInt32(c)
                if c >= 0x80 {
                    len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2
                    value = UInt32(c) & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07)
                    for j in 1..<len where k + j < n { value = value << 6 | UInt32(bytes[k + j] & 0x3F) }
                }
                if c >= 0x80, SearchText.isCJK(value) {
                    flushToken(k)
                    let character = k..<min(n, k + len)
                    unigrams.append(0x20); unigrams.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[character]))
                    if prevCJK.lowerBound >= 0 {
                        space()
                        append(prevCJK); append(character)
                    }
                    prevCJK = character
                    runLength += 1
                    k += len
                    continue
                }
                if runLength == 1, prevCJK.lowerBound >= 0 { space(); append(prevCJK) }   // a lone character stands for itself
                prevCJK = -1..<(-1)
                runLength = 0
                let isWord: Bool
                if c < 0x80 {
                    isWord = (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 || c == 0x5F
                } else if let scalar = Unicode.Scalar(value) {
                    isWord = scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                } else {
                    isWord = false
                }
                if isWord {
                    if tokenStart < 0 { tokenStart = k }
                    tokenScalars += 1
                    let isDigit = (c &- 0x30) < 10
                    if isDigit { tokenDigits += 1 } else { tokenASCIIDigits = false }
                    if !(isDigit || (c &- 0x61) < 6 || (c &- 0x41) < 6) { tokenHex = false }
                } else {
                    flushToken(k)
                    space()
                }
                k += len
            }
            flushToken(n)
            if runLength == 1, prevCJK.lowerBound >= 0 { space(); append(prevCJK) }
            out.append(contentsOf: unigrams)
        }
    }

    /// The same for ASCII text (most WinDbg output): words kept, addresses dropped, everything else one space.
    static func asciiIndexForm(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var previousWasKB = false
        @inline(__always) func isWord(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 || c == 0x5F }
        let n = bytes.count
        var k = 0
        while k < n {
            while k < n, !isWord(bytes[k]) { k += 1 }
            guard k < n else { break }
            let start = k
            var digits = 0, hexOnly = true
            while k < n, case let c = bytes[k], isWord(c) {
                if (c &- 0x30) < 10 { digits += 1 } else if !((c &- 0x61) < 6 || (c &- 0x41) < 6) { hexOnly = false }
                k += 1
            }
            let len = k - start
            if !(len >= 8 && hexOnly && digits > 0) {
                let token = UnsafeBufferPointer(rebasing: bytes[start..<k])
                if !out.isEmpty { out.append(0x20) }
                out.append(contentsOf: token)
                // "KB 4559003" is also indexed as KB4559003
                if previousWasKB && digits == len && (6...7).contains(len) {
                    out.append(0x20); out.append(0x4B); out.append(0x42); out.append(contentsOf: token)
                }
                previousWasKB = len == 2 && (bytes[start] | 0x20) == 0x6B && (bytes[start + 1] | 0x20) == 0x62
            } else { previousWasKB = false }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The indexed token of a match expression that is one token and nothing else (`"蓝屏"`, `"vwifimf"`), as the
    /// FTS5 vocabulary holds it (lower case); nil for phrases, several words, operators and non-ASCII letters that
    /// the tokenizer folds.
    static func singleToken(_ match: String) -> String? {
        guard match.count > 2, match.hasPrefix("\""), match.hasSuffix("\"") else { return nil }
        let inner = match.dropFirst().dropLast()
        guard !inner.isEmpty, !inner.contains(where: { $0 == " " || $0 == "\"" || $0 == "*" }) else { return nil }
        guard inner.unicodeScalars.allSatisfy({ $0.value < 0x80 || isCJK($0.value) }) else { return nil }
        return inner.lowercased()
    }

    public struct QueryError: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A user query turned into an FTS5 MATCH expression. Words are ANDed; "double quotes" make a phrase; `OR`
    /// between words and a leading `-` (NOT) are understood; everything else is quoted, never passed through.
    public static func matchExpression(_ query: String) throws -> (match: String, terms: [String]) {
        var parts: [(text: String, phrase: Bool, negated: Bool, or: Bool)] = []
        var i = query.startIndex
        var pendingOr = false
        while i < query.endIndex {
            let c = query[i]
            if c.isWhitespace { i = query.index(after: i); continue }
            var negated = false
            var j = i
            if c == "-", query.index(after: i) < query.endIndex, !query[query.index(after: i)].isWhitespace {
                negated = true
                j = query.index(after: i)
            }
            if query[j] == "\"" || query[j] == "“" || query[j] == "”" {
                let open = query.index(after: j)
                guard let close = query[open...].firstIndex(where: { $0 == "\"" || $0 == "”" || $0 == "“" }) else {
                    throw QueryError(description: "unbalanced quote in the query: the phrase \(query[j...].prefix(24)) has no closing quote")
                }
                let phrase = String(query[open..<close]).trimmingSpaces()
                if !phrase.isEmpty { parts.append((phrase, true, negated, pendingOr)); pendingOr = false }
                i = query.index(after: close)
                continue
            }
            var k = j
            while k < query.endIndex, !query[k].isWhitespace, query[k] != "\"" { k = query.index(after: k) }
            let word = String(query[j..<k])
            i = k
            if word == "OR" || word == "|" || word == "||" { pendingOr = !parts.isEmpty; continue }
            if word == "AND" || word == "&&" || word == "NOT" { continue }
            parts.append((word, false, negated, pendingOr))
            pendingOr = false
        }
        var clauses: [String] = []
        var terms: [String] = []
        for p in parts {
            // the indexed form of the word or phrase, as one quoted FTS5 phrase
            let tokens = phraseTokens(p.text)
            guard !tokens.isEmpty else { continue }
            terms.append(p.text)
            var phrase = "\"" + tokens.joined(separator: " ").replacingOccurrences(of: "\"", with: "\"\"") + "\""
            // a lone CJK character closing a longer phrase is the start of a bigram in the index: match it as a prefix
            if tokens.count > 1, let last = tokens.last, last.unicodeScalars.count == 1, let v = last.unicodeScalars.first?.value, isCJK(v) { phrase += " *" }
            let clause = p.negated ? "NOT " + phrase : phrase
            if p.or, let last = clauses.popLast() { clauses.append("(" + last + " OR " + clause + ")") } else { clauses.append(clause) }
        }
        guard !clauses.isEmpty else {
            throw QueryError(description: "the query has no words to search for")
        }
        // FTS5 cannot start with NOT: a purely negative query matches nothing useful
        if clauses.allSatisfy({ $0.hasPrefix("NOT ") }) {
            throw QueryError(description: "the query only excludes words; add a word to search for")
        }
        var ordered = clauses.filter { !$0.hasPrefix("NOT ") }
        let negatives = clauses.filter { $0.hasPrefix("NOT ") }
        var match = ordered.removeFirst()
        for c in ordered { match += " AND " + c }
        for n in negatives { match += " " + n }
        return (match, terms)
    }

    /// The tokens a word or phrase becomes in the index, in order (CJK as bigrams; a lone character as itself).
    static func phraseTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var run: [Unicode.Scalar] = []
        var word = String.UnicodeScalarView()
        func flushRun() {
            if run.count == 1 { tokens.append(String(run[0])) }
            else if run.count > 1 { for k in 0..<(run.count - 1) { tokens.append(String(run[k]) + String(run[k + 1])) } }
            run.removeAll()
        }
        func flushWord() {
            if !word.isEmpty { tokens.append(String(word).lowercased()) }
            word.removeAll()
        }
        for s in text.unicodeScalars {
            if isCJK(s.value) { flushWord(); run.append(s); continue }
            flushRun()
            if s.properties.isAlphabetic || s.properties.numericType != nil || s == "_" { word.append(s) } else { flushWord() }
        }
        flushRun()
        flushWord()
        return tokens
    }

    /// The byte needles a snippet looks for: each term, lower-cased (ASCII), plus `KB 4559003` for `KB4559003`.
    static func needles(_ terms: [String]) -> [[UInt8]] {
        var out: [String] = []
        for t in terms {
            let l = t.lowercased()
            out.append(l)
            let toks = phraseTokens(t)
            if toks.count == 1, toks[0] != l { out.append(toks[0]) }
            if l.hasPrefix("kb"), l.count > 2, l.dropFirst(2).allSatisfy(\.isNumber) { out.append("kb " + l.dropFirst(2)) }
        }
        return out.filter { !$0.isEmpty }.sorted { $0.utf8.count > $1.utf8.count }.map { Array($0.utf8) }
    }

    static func foldedBytes(_ text: String) -> [UInt8] {
        text.utf8.map { ($0 &- 0x41) < 26 ? $0 | 0x20 : $0 }
    }

    /// Whether any term occurs in `text` (ASCII case ignored).
    public static func containsAny(_ text: String, terms: [String]) -> Bool {
        let folded = foldedBytes(text)
        return needles(terms).contains { TextLines.search(folded, 0, folded.count, $0, folded: false) }
    }

    /// A snippet of `text` around the first match of any term, with matches marked `[` `]` (byte-level search).
    public static func snippet(_ text: String, terms: [String], width: Int = 80, marks: (String, String) = ("[", "]")) -> String {
        let bytes = Array(text.utf8)
        let folded = bytes.map { ($0 &- 0x41) < 26 ? $0 | 0x20 : $0 }
        let ns = needles(terms)
        func find(_ needle: [UInt8], from: Int, to: Int) -> Int? {
            guard to - from >= needle.count, let first = needle.first else { return nil }
            var i = from
            while i <= to - needle.count {
                if folded[i] == first, folded[i..<(i + needle.count)].elementsEqual(needle) { return i }
                i += 1
            }
            return nil
        }
        func boundary(_ i: Int) -> Int { var k = max(0, min(i, bytes.count)); while k > 0, k < bytes.count, bytes[k] & 0xC0 == 0x80 { k -= 1 }; return k }
        var firstHit: Int? = nil
        for n in ns { if let at = find(n, from: 0, to: folded.count), firstHit == nil || at < firstHit! { firstHit = at } }
        guard let hit = firstHit else {
            return String(decoding: bytes[0..<boundary(min(bytes.count, width * 3))], as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
        }
        let start = boundary(hit - width)
        let end = boundary(min(bytes.count, hit + width * 2))
        var out: [UInt8] = start > 0 ? Array("…".utf8) : []
        var i = start
        while i < end {
            var matched = 0
            for n in ns where i + n.count <= end && folded[i..<(i + n.count)].elementsEqual(n) { matched = n.count; break }
            if matched > 0 {
                out.append(contentsOf: Array(marks.0.utf8)); out.append(contentsOf: bytes[i..<(i + matched)]); out.append(contentsOf: Array(marks.1.utf8))
                i += matched
            } else {
                out.append(bytes[i] == 0x0A ? 0x20 : bytes[i])
                i += 1
            }
        }
        if end < bytes.count { out.append(contentsOf: Array("…".utf8)) }
        return String(decoding: out, as: UTF8.self)
    }
}
