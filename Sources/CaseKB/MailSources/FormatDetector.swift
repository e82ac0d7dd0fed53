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
            guard let base = p.baseAddress, let hit = memchr(base, 0, min(8192, p.count)) else { return nil }
            return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
        }
        if let nul { return .failure(NotMail(reason: "binary data, not mail (NUL byte at byte \(nul))")) }
        if MIMEParser.looksBinary(prefix[...]) { return .failure(NotMail(reason: "binary data, not mail (control bytes in the first 8 KiB)")) }
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
        var ls = bytes.startIndex
        var k = bytes.startIndex
        while k < lastNewline, lineRanges.count < 200 {
            if bytes[k] == 0x0A {
                var e = k
                if e > ls, bytes[e - 1] == 0x0D { e -= 1 }
                lineRanges.append(ls..<e)
                ls = k + 1
            }
            k += 1
        }
        if lineRanges.count < 200, ls < lastNewline { lineRanges.append(ls..<lastNewline) }
        func line(_ r: Range<Int>) -> Substring {
            // UTF-8 (and ASCII, nearly every header line) directly; other charsets through iconv
            if let s = String(validating: bytes[r], as: UTF8.self) { return Substring(s) }
            return Substring(Charset.decode(Array(bytes[r]), label: nil).text)
        }
        let firstNonEmpty = lineRanges.first { r in bytes[r].contains { $0 != 0x20 && $0 != 0x09 } }.map(line) ?? ""
        let head = firstNonEmpty.trimmingSpaces()
        let crmMarker = Array("封邮件====".utf8), crmMarkerGBK: [UInt8] = [0xB7, 0xE2, 0xD3, 0xCA, 0xBC, 0xFE, 0x3D, 0x3D]   // 封邮件== in GBK
        let prefixBytes = Array(bytes[..<lastNewline])
        let hasCRMMarker = TextLines.search(prefixBytes, 0, prefixBytes.count, crmMarker, folded: false) || TextLines.search(prefixBytes, 0, prefixBytes.count, crmMarkerGBK, folded: false)
        if head.hasPrefix("邮件主题") || head.hasPrefix("郵件主題") || CRMExportReader.blockNumber(Substring(head)) != nil || hasCRMMarker {
            return .success(.crmExport)
        }
        // lines are decoded only as far as each test reads
        if lineRanges.count > 1, line(lineRanges[0]).hasPrefix("From "), isHeaderLine(line(lineRanges[1])) {
            return .success(.mbox)
        }
        // an RFC 5322 header section: header lines up to a blank line, at least one well-known field
        var known = 0
        var headerLines = 0
        for r in lineRanges {
            let l = line(r)
            if l.isEmpty { break }
            if l.first == " " || l.first == "\t" { continue }
            guard isHeaderLine(l) else { headerLines = -1; break }
            headerLines += 1
            if let c = l.firstIndex(of: ":"), knownHeaders.contains(l[..<c].lowercased()) { known += 1 }
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

    static func isHeaderLine(_ l: Substring) -> Bool {
        guard let c = l.firstIndex(of: ":"), c > l.startIndex else { return false }
        return l[..<c].utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
