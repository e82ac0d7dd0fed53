import Foundation

/// Why a file is not mail.
public struct NotMail: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Recognises a mail file's format from its first bytes, not its name.
public enum FormatDetector {
    /// How many bytes detection looks at.
    public static let prefixSize = 65_536

    static let knownHeaders: Set<String> = ["from", "to", "subject", "date", "message-id", "received", "return-path", "mime-version",
                                            "content-type", "delivered-to", "x-mailer", "reply-to", "cc", "in-reply-to", "references",
                                            "thread-topic", "thread-index", "dkim-signature", "sender", "x-original-to", "user-agent",
                                            "content-transfer-encoding", "x-received", "arc-seal", "authentication-results", "list-id"]

    /// The format of a file whose first bytes are `prefix` (`fileSize` is the whole size), or a one-line reason it is not mail.
    public static func detect(prefix: [UInt8], fileSize: Int) -> Result<MailFormat, NotMail> {
        if fileSize == 0 || prefix.isEmpty { return .failure(NotMail(reason: "empty file")) }
        let nul = prefix.withUnsafeBufferPointer { p -> Int? in
            guard let base = p.baseAddress, let hit = memchr(base, 0, min(MIMEParser.binarySampleSize, p.count)) else { return nil }
            return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
        }
        if let nul { return .failure(NotMail(reason: "binary data, not mail (NUL byte at byte \(nul))")) }
        // (no NUL in the first 8 KiB, as just checked: control bytes are what is left of `MIMEParser.looksBinary`)
        let binary = prefix.withUnsafeBufferPointer { p in
            MIMEParser.mostlyControlBytes(UnsafeBufferPointer(rebasing: p.prefix(MIMEParser.binarySampleSize)))
        }
        if binary { return .failure(NotMail(reason: "binary data, not mail (control bytes in the first 8 KiB)")) }
        var bytes = prefix[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        let lastNewline = bytes.withUnsafeBufferPointer { p -> Int? in
            var k = p.count - 1
            while k >= 0, p[k] != 0x0A { k -= 1 }
            return k >= 0 ? bytes.startIndex + k : nil
        }
        guard let lastNewline else {
            if fileSize > prefix.count {
                return .failure(NotMail(reason: "no line break in the first \(prefixSize / 1024) KiB (one enormous line): not a mail file"))
            }
            return .failure(NotMail(reason: "unrecognised format: a single line of text, not mail"))
        }
        // look at the first 200 lines only, at byte level (the prefix can be 64 KiB of WinDbg output)
        var lineRanges: [Range<Int>] = []
        lineRanges.reserveCapacity(200)
        bytes.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            let end = lastNewline - bytes.startIndex
            var ls = 0
            while ls < end, lineRanges.count < 200 {
                let hit = memchr(base + ls, 0x0A, end - ls).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? end
                var e = hit
                if e > ls, p[e - 1] == 0x0D { e -= 1 }
                lineRanges.append(bytes.startIndex + ls ..< bytes.startIndex + e)
                ls = hit + 1
            }
        }
        func line(_ r: Range<Int>) -> Substring {
            // UTF-8 (and ASCII, nearly every header line) directly; other charsets through iconv
            if let s = String(validating: bytes[r], as: UTF8.self) { return Substring(s) }
            return Substring(Charset.decode(Array(bytes[r]), label: nil).text)
        }
        let firstNonEmpty = lineRanges.first { r in bytes[r].contains { $0 != 0x20 && $0 != 0x09 } }.map(line) ?? ""
        let head = firstNonEmpty.trimmingSpaces()
        let searchEnd = lastNewline - bytes.startIndex
        let hasCRMMarker = bytes.withUnsafeBufferPointer { p -> Bool in FormatDetector.hasCRMMarker(p, end: searchEnd) }
        if head.hasPrefix("邮件主题") || head.hasPrefix("郵件主題") || CRMExportReader.blockNumber(Substring(head)) != nil || hasCRMMarker {
            return .success(.crmExport)
        }
        // header tests read bytes: a field name is printable ASCII before the first colon, whatever the charset after it
        if lineRanges.count > 1, bytes[lineRanges[0]].starts(with: "From ".utf8), isHeaderLine(bytes[lineRanges[1]]) {
            return .success(.mbox)
        }
        // an RFC 5322 header section: header lines up to a blank line, at least one well-known field
        var known = 0
        var headerLines = 0
        for r in lineRanges {
            let l = bytes[r]
            guard let first = l.first else { break }
            if first == 0x20 || first == 0x09 { continue }
            guard isHeaderLine(l), let colon = l.firstIndex(of: 0x3A) else { headerLines = -1; break }
            headerLines += 1
            // one well-known field is enough: the names of the rest need not be looked up
            if known == 0, knownHeaders.contains(ByteText.asciiLowercased(l[..<colon])) { known += 1 }
        }
        if headerLines > 0, known > 0 { return .success(.eml) }
        let lines = lineRanges.prefix(40).map(line)
        let text = lines.prefix(40).joined(separator: "\n")
        let lowerHead = head.lowercased()
        if lowerHead.hasPrefix("<!doctype html") || lowerHead.hasPrefix("<html") || lowerHead.hasPrefix("<body") || lowerHead.hasPrefix("<div")
            || lowerHead.hasPrefix("<meta") || lowerHead.hasPrefix("<p") || lowerHead.hasPrefix("<table") || lowerHead.hasPrefix("<?xml") && text.lowercased().contains("<html") {
            return .success(.html)
        }
        return .failure(NotMail(reason: "unrecognised format: no mail headers, mbox 'From ' line or CRM export header in the first lines"))
    }

    /// The words before a CRM export's block markers, in UTF-8 (then `====`) and GBK (then `==`): 封邮件 ("…th mail").
    static let crmMarkerWords: [[UInt8]] = [Array("封邮件".utf8), [0xB7, 0xE2, 0xD3, 0xCA, 0xBC, 0xFE]]

    /// Whether bytes `0..<end` hold a CRM block marker: 封邮件 followed by `====` (UTF-8) or `==` (GBK). Found from
    /// its `==`, sixteen bytes at a time: mail text seldom holds two `=` together (quoted-printable writes `=` as
    /// `=3D`), while the lead byte of 封 fills Chinese text and single `=` fill quoted-printable text.
    static func hasCRMMarker(_ p: UnsafeBufferPointer<UInt8>, end: Int) -> Bool {
        guard let base = p.baseAddress, end <= p.count else { return false }
        let utf8Words = crmMarkerWords[0], gbkWords = crmMarkerWords[1]
        func wordsBefore(_ at: Int, _ words: [UInt8]) -> Bool {
            at >= words.count && zip(words.indices, words).allSatisfy { p[at - words.count + $0] == $1 }
        }
        /// Whether the `==` at `at` ends a marker.
        func marker(at: Int) -> Bool {
            wordsBefore(at, gbkWords) || (at + 4 <= end && p[at + 2] == 0x3D && p[at + 3] == 0x3D && wordsBefore(at, utf8Words))
        }
        let equals = SIMD16<UInt8>(repeating: 0x3D)
        var i = 0
        // sixteen pair starts at a time: a byte that is `=` and whose next byte is `=` too
        while i + 17 <= end {
            let here = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<UInt8>.self)
            let next = UnsafeRawPointer(base + i + 1).loadUnaligned(as: SIMD16<UInt8>.self)
            let pairs = (here .== equals) .& (next .== equals)
            if any(pairs) {
                for lane in 0..<16 where pairs[lane] { if marker(at: i + lane) { return true } }
            }
            i += 16
        }
        while i + 1 < end {
            if p[i] == 0x3D, p[i + 1] == 0x3D, marker(at: i) { return true }
            i += 1
        }
        return false
    }

    /// `Name: value`: a colon after one or more printable ASCII bytes.
    static func isHeaderLine(_ l: ArraySlice<UInt8>) -> Bool {
        guard let c = l.firstIndex(of: 0x3A), c > l.startIndex else { return false }
        return l[..<c].allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
