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

    let separators: [NSRegularExpression]
    let attributions: [NSRegularExpression]
    let fromLabels: [String]
    let otherLabels: [String]
    let closings: [String]
    let contactLabels: [String]
    let sentFrom: [String]

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
        fromLabels = from
        otherLabels = other
        closings = try DataFile.entries("signature-closings.txt").map { $0.value.lowercased() }
        contactLabels = try DataFile.entries("signature-contact-labels.txt").map { $0.value.lowercased() }
        sentFrom = try DataFile.entries("signature-sent-from.txt").map { $0.value.lowercased() }
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
        for c in line {
            if c == ">" { return true }
            if c != " " && c != "\t" { return false }
        }
        return false
    }

    /// The header label a line starts with (`发件人:`, `**From:**`), as (isFromLabel, label), or nil.
    func headerLabel(_ line: Substring) -> Bool? {
        var s = QuoteSplitter.stripQuotePrefix(line).rest
        while s.first == "*" { s = s.dropFirst() }
        guard let colon = s.firstIndex(where: { $0 == ":" || $0 == "：" }) else { return nil }
        var label = s[..<colon]
        while label.last == "*" || label.last == " " || label.last == "\t" { label = label.dropLast() }
        guard !label.isEmpty, label.count <= 12 else { return nil }
        let l = label.lowercased()
        if fromLabels.contains(where: { $0.lowercased() == l }) { return true }
        if otherLabels.contains(where: { $0.lowercased() == l }) { return false }
        return nil
    }

    func isSeparator(_ line: Substring) -> Bool {
        let rest = QuoteSplitter.stripQuotePrefix(line).rest.replacingOccurrences(of: "\u{00A0}", with: " ").trimmingCharacters(in: .whitespaces)
        guard let f = rest.first, f == "-" || f == "_" || f == "B" || f == "b" else { return false }
        return separators.contains { $0.matches(rest) }
    }

    func isAttribution(_ text: String) -> Bool {
        let t = text.trimmingCharacters(in: .whitespaces)
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
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        lines = lines.map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
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
            let text = String(line)
            if line.contains(":") || line.contains("：") || (i + 1 < lines.count && (lines[i + 1].contains(":") || lines[i + 1].contains("："))) {
                var attributionLines = 0
                if isAttribution(text) { attributionLines = 1 }
                else if i + 1 < lines.count, !QuoteSplitter.isQuoted(lines[i + 1]), !line.trimmingCharacters(in: .whitespaces).isEmpty,
                        isAttribution(text.trimmingCharacters(in: .whitespaces) + " " + lines[i + 1].trimmingCharacters(in: .whitespaces)) {
                    attributionLines = 2
                }
                if attributionLines > 0 {
                    // followed by > lines: interleaved quoting; otherwise a top-post cut
                    var j = i + attributionLines
                    while j < lines.count, lines[j].trimmingCharacters(in: .whitespaces).isEmpty { j += 1 }
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
        while a < b, lines[a].allSatisfy({ $0.isWhitespace }) { a += 1 }
        while b > a, lines[b - 1].allSatisfy({ $0.isWhitespace }) { b -= 1 }
        var collapsed: [Substring] = []
        var blank = 0
        for l in lines[a..<b] {
            let isBlank = l.allSatisfy { $0.isWhitespace }
            blank = isBlank ? blank + 1 : 0
            if blank <= 1 { collapsed.append(isBlank ? "" : l) }
        }
        return collapsed.joined(separator: "\n")
    }

    // MARK: signatures

    private func isClosing(_ line: String) -> Bool {
        var t = line.trimmingCharacters(in: .whitespaces).lowercased()
        while let l = t.last, ",，!！.。:：".contains(l) { t.removeLast() }
        if t.isEmpty { return false }
        for c in closings {
            if t == c { return true }
            // "BRs/Bin", "Best regards, Bin", "Thanks & Regards,\nX" — the closing and a short name
            if t.hasPrefix(c), t.count <= c.count + 20 {
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
        let t = line.trimmingCharacters(in: .whitespaces)
        // each "|"-separated segment may be "电话：…"
        for segment in t.split(separator: "|") {
            let lower = segment.trimmingCharacters(in: .whitespaces).lowercased()
            for l in contactLabels where lower.hasPrefix(l) {
                let rest = lower.dropFirst(l.count).drop(while: { $0 == " " || $0 == "." })
                if rest.first == ":" || rest.first == "：" { return true }
            }
        }
        // title lines like "Support Escalation Eng | Microsoft China Co Ltd | +86 … | a@b"
        let pipes = t.filter { $0 == "|" }.count
        if pipes >= 2 && (t.contains("@") || t.contains("+")) { return true }
        return false
    }

    private func isNameLike(_ line: String) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.isEmpty || t.count > 30 { return false }
        return !t.contains(where: { "。，,.:：?？!！;；()（）=`".contains($0) })
    }

    /// Find the signature at the end of the new text: a `-- ` line, a closing word, a mobile footer, or a block of contact lines.
    func splitSignature(_ lines: [Substring]) -> ([Substring], [Substring]) {
        guard let last = lines.lastIndex(where: { !$0.allSatisfy(\.isWhitespace) }) else { return (lines, []) }
        let windowStart = max(0, last - 11)
        var start: Int? = nil
        for k in windowStart...last {
            let t = String(lines[k])
            let trimmed = t.trimmingCharacters(in: .whitespaces)
            if trimmed == "--" || t == "-- " || trimmed == "—" { start = k; break }
            if isClosing(t) { start = k; break }
            let lower = trimmed.lowercased()
            if sentFrom.contains(where: { lower.hasPrefix($0) }) { start = k; break }
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
        if !lines[..<s].contains(where: { !$0.allSatisfy(\.isWhitespace) }) { return (lines, []) }
        return (Array(lines[..<s]), Array(lines[s...]))
    }
}
