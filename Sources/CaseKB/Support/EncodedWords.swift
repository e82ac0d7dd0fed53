import Foundation

/// RFC 2047 encoded-word decoding for header values (`=?gb2312?B?…?=`, `=?utf-8?q?…?=`),
/// with raw 8-bit header bytes decoded as UTF-8, else as `fallbackCharset`.
public enum EncodedWords {
    /// `=?`, which every encoded word starts with.
    static let encodedWordStart: [UInt8] = [0x3D, 0x3F]

    public static func decode(_ raw: [UInt8], fallbackCharset: String? = nil) -> String {
        // Fast path: no encoded words.
        let hasMarker = raw.withUnsafeBufferPointer { ByteText.search($0, 0, $0.count, encodedWordStart, folded: false) }
        if !hasMarker { return plain(raw, fallbackCharset: fallbackCharset) }
        var result = ""
        var i = 0
        var pendingWhitespace: [UInt8] = []
        var literalStart = 0
        var lastWasEncoded = false
        let n = raw.count
        func flushLiteral(_ upTo: Int) {
            if literalStart < upTo {
                result += plain(Array(raw[literalStart..<upTo]), fallbackCharset: fallbackCharset)
            }
        }
        while i < n {
            if raw[i] == UInt8(ascii: "="), i + 1 < n, raw[i + 1] == UInt8(ascii: "?"), let (decoded, next) = parseWord(raw, at: i) {
                // whitespace between two adjacent encoded words is dropped
                let between = raw[literalStart..<i]
                let onlyWhitespace = between.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
                if !(lastWasEncoded && onlyWhitespace) { flushLiteral(i) }
                result += decoded
                i = next
                literalStart = i
                lastWasEncoded = true
                pendingWhitespace.removeAll()
                continue
            }
            if !(raw[i] == 0x20 || raw[i] == 0x09 || raw[i] == 0x0D || raw[i] == 0x0A) { lastWasEncoded = false }
            i += 1
        }
        flushLiteral(n)
        return result
    }

    private static func plain(_ raw: [UInt8], fallbackCharset: String?) -> String {
        if let s = String(validating: raw, as: UTF8.self) { return s }
        return Charset.decode(raw, label: fallbackCharset ?? "gb18030").text
    }

    /// Parse `=?charset?enc?text?=` starting at `start`; returns the decoded text and the index after `?=`.
    private static func parseWord(_ raw: [UInt8], at start: Int) -> (String, Int)? {
        let n = raw.count
        var i = start + 2
        let csStart = i
        while i < n, raw[i] != UInt8(ascii: "?") {
            if raw[i] == 0x20 || raw[i] == 0x0A { return nil }
            i += 1
        }
        guard i + 2 < n else { return nil }
        // (an RFC 2231 language suffix after `*` dropped)
        let charset = String(decoding: raw[csStart..<(raw[csStart..<i].firstIndex(of: 0x2A) ?? i)], as: UTF8.self)
        let enc = raw[i + 1] | 0x20
        guard enc == UInt8(ascii: "b") || enc == UInt8(ascii: "q"), raw[i + 2] == UInt8(ascii: "?") else { return nil }
        let textStart = i + 3
        var j = textStart
        while j + 1 < n, !(raw[j] == UInt8(ascii: "?") && raw[j + 1] == UInt8(ascii: "=")) {
            if raw[j] == 0x0A || raw[j] == 0x0D { return nil }
            j += 1
        }
        guard j + 1 < n else { return nil }
        let payload = raw[textStart..<j]
        let bytes: [UInt8]
        if enc == UInt8(ascii: "b") {
            bytes = TransferEncoding.decodeBase64(payload).bytes
        } else {
            bytes = TransferEncoding.decodeQuotedPrintable(payload, underscoreIsSpace: true)
        }
        return (Charset.decode(bytes, label: charset).text, j + 2)
    }
}
