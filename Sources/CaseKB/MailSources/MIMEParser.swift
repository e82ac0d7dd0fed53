import Foundation

/// Header fields of a MIME entity, kept as raw bytes and decoded on demand (RFC 2047, 8-bit fallbacks).
public struct MIMEHeaders: Sendable {
    public var fields: [(name: String, raw: [UInt8])] = []
    /// Charset used for raw 8-bit header bytes that are not UTF-8 (the body's charset, else GB18030).
    public var fallbackCharset: String? = nil

    public func raw(_ name: String) -> [UInt8]? {
        // field names are stored lower-case: a name asked for in lower case (as casekb's own lookups are) is
        // compared as it is, without a lower-cased copy
        let n = name.utf8.allSatisfy({ $0 &- 0x41 >= 26 }) ? name : name.lowercased()
        return fields.first(where: { $0.name == n })?.raw
    }

    /// The decoded value of the first field called `name`.
    public func value(_ name: String) -> String? {
        raw(name).map { EncodedWords.decode($0, fallbackCharset: fallbackCharset).trimmingSpaces() }
    }

    public func values(_ name: String) -> [String] {
        let n = name.lowercased()
        return fields.filter { $0.name == n }.map { EncodedWords.decode($0.raw, fallbackCharset: fallbackCharset) }
    }
}

/// A parsed header value with parameters: `text/plain; charset="gb2312"; name*=utf-8''a.txt`.
public struct HeaderValue: Sendable {
    public var value: String
    public var params: [String: String]

    public init(_ raw: String) {
        self = HeaderValue.plainASCII(raw) ?? HeaderValue(reading: raw)
    }

    /// The general reading: quotes, backslash escapes, RFC 2231 continuations and charsets, any text.
    init(reading raw: String) {
        let parts = raw.utf8.contains(UInt8(ascii: "\\")) ? HeaderValue.unescapedParts(raw) : HeaderValue.parts(raw)
        value = parts.first.map { $0.trimmingSpacesAndNewlines().lowercased() } ?? ""
        var p: [String: String] = [:]
        var continuations: [String: [(Int, String, Bool)]] = [:]
        for part in parts.dropFirst() {
            guard let eq = part.utf8.firstIndex(of: 0x3D) else { continue }   // =
            var key = part[..<eq].trimmingSpacesAndNewlines().lowercased()
            var val = part[part.index(after: eq)...].trimmingSpacesAndNewlines()
            if val.utf8.count >= 2, val.hasPrefix("\""), val.hasSuffix("\"") { val = String(val.dropFirst().dropLast()) }
            // RFC 2231: name*0*=, name*1=, name*=charset''pct-encoded
            var extended = false
            if key.hasSuffix("*") { extended = true; key.removeLast() }
            if let star = key.utf8.firstIndex(of: 0x2A), let n = Int(key[key.index(after: star)...]) {
                continuations[String(key[..<star]), default: []].append((n, val, extended))
                continue
            }
            p[key] = extended ? HeaderValue.decode2231(val, first: true) : val
        }
        for (key, pieces) in continuations {
            let sorted = pieces.sorted { $0.0 < $1.0 }
            var charset: String? = nil
            var bytes: [UInt8] = []
            for (k, piece) in sorted.enumerated() {
                var v = piece.1
                if piece.2 && k == 0, let q1 = v.firstIndex(of: "'"), let q2 = v[v.index(after: q1)...].firstIndex(of: "'") {
                    charset = String(v[..<q1]); v = String(v[v.index(after: q2)...])
                }
                bytes += piece.2 ? HeaderValue.percentDecode(v) : Array(v.utf8)
            }
            p[key] = Charset.decode(bytes, label: charset).text
        }
        params = p
    }

    /// The value read as bytes when it is ASCII without backslashes or `*` (no escapes, no RFC 2231 parameters to
    /// join or decode): what the general reading gives, without its substrings and Unicode case mapping. Nil otherwise.
    static func plainASCII(_ raw: String) -> HeaderValue? {
        var copy = raw
        return copy.withUTF8 { p -> HeaderValue? in
            guard p.allSatisfy({ $0 < 0x80 && $0 != 0x5C && $0 != 0x2A }) else { return nil }
            @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || (b >= 0x0A && b <= 0x0D) }
            func trimmed(_ a: Int, _ b: Int) -> Range<Int> {
                var a = a, b = b
                while a < b, isSpace(p[a]) { a += 1 }
                while b > a, isSpace(p[b - 1]) { b -= 1 }
                return a..<b
            }
            func text(_ r: Range<Int>, lower: Bool) -> String {
                let bytes = UnsafeBufferPointer(rebasing: p[r])
                return lower ? ByteText.asciiLowercased(bytes) : String(decoding: bytes, as: UTF8.self)
            }
            var value = ""
            var params: [String: String] = [:]
            var start = 0, inQuote = false, first = true
            for k in 0...p.count {
                if k < p.count {
                    if p[k] == 0x22 { inQuote.toggle() }
                    if p[k] != 0x3B || inQuote { continue }   // ;
                }
                if first {
                    value = text(trimmed(start, k), lower: true)
                    first = false
                } else if let eq = p[start..<k].firstIndex(of: 0x3D) {   // =
                    let key = text(trimmed(start, eq), lower: true)
                    var v = trimmed(eq + 1, k)
                    if v.count >= 2, p[v.lowerBound] == 0x22, p[v.upperBound - 1] == 0x22 { v = v.lowerBound + 1 ..< v.upperBound - 1 }
                    params[key] = text(v, lower: false)
                }
                start = k + 1
            }
            return HeaderValue(value: value, params: params)
        }
    }

    init(value: String, params: [String: String]) {
        self.value = value
        self.params = params
    }

    /// The `;`-separated parts of a header value, `;` inside quotes kept: slices of the value, for the usual value
    /// without backslashes (nothing to unescape).
    static func parts(_ raw: String) -> [Substring] {
        var parts: [Substring] = []
        var inQuote = false
        var start = raw.startIndex
        var i = raw.utf8.startIndex
        while i < raw.utf8.endIndex {
            let b = raw.utf8[i]
            if b == UInt8(ascii: "\"") { inQuote.toggle() } else if b == UInt8(ascii: ";") && !inQuote {
                parts.append(raw[start..<i])
                start = raw.utf8.index(after: i)
            }
            i = raw.utf8.index(after: i)
        }
        parts.append(raw[start...])
        return parts
    }

    /// The same for a value with backslashes: a backslash inside quotes escapes the byte after it.
    static func unescapedParts(_ raw: String) -> [Substring] {
        // at byte level (the delimiters are ASCII, never inside a UTF-8 sequence)
        var parts: [Substring] = []
        var current: [UInt8] = []
        var inQuote = false
        var escape = false
        for b in raw.utf8 {
            if escape { current.append(b); escape = false; continue }
            if b == UInt8(ascii: "\\") && inQuote { escape = true; continue }
            if b == UInt8(ascii: "\"") { inQuote.toggle(); current.append(b); continue }
            if b == UInt8(ascii: ";") && !inQuote {
                parts.append(Substring(String(decoding: current, as: UTF8.self)))
                current.removeAll(keepingCapacity: true)
                continue
            }
            current.append(b)
        }
        parts.append(Substring(String(decoding: current, as: UTF8.self)))
        return parts
    }

    static func percentDecode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x25, i + 2 < b.count, let v = UInt8(String(decoding: b[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(v); i += 3
            } else { out.append(b[i]); i += 1 }
        }
        return out
    }

    static func decode2231(_ v: String, first: Bool) -> String {
        guard let q1 = v.firstIndex(of: "'"), let q2 = v[v.index(after: q1)...].firstIndex(of: "'") else {
            return Charset.decode(percentDecode(v), label: nil).text
        }
        let cs = String(v[..<q1])
        return Charset.decode(percentDecode(String(v[v.index(after: q2)...])), label: cs).text
    }
}

/// A mail parsed from RFC 5322 + MIME bytes: headers, the chosen body text, attachments and forwarded mails.
public struct ParsedMail: Sendable {
    public var headers: MIMEHeaders
    public var body: String
    /// Where quoted mail starts in `body` when an HTML quote marker was found.
    public var htmlQuoteStart: String.Index?
    public var attachments: [Attachment]
    /// message/rfc822 parts (forwarded mail).
    public var forwarded: [ParsedMail]
    /// Problems, with byte offsets relative to the start of the parsed bytes.
    public var problems: [(severity: Diagnostic.Severity, offset: Int, message: String)]

    public var hasError: Bool { problems.contains { $0.severity == .error } }
}

/// RFC 5322 / MIME parser over bytes: multipart (alternative, mixed, related, nested), message/rfc822,
/// base64 and quoted-printable, RFC 2047/2231 headers, charsets through iconv, HTML through libxml2.
public enum MIMEParser {
    /// Text attachments are kept up to this many bytes (WinDbg logs are rarely larger).
    public static let maxAttachmentText = 8 << 20
    static let maxDepth = 20

    struct Entity {
        var headers: MIMEHeaders
        var bodyRange: Range<Int>
    }

    struct Rendered {
        var text: String = ""
        var quoteStartUTF8: Int? = nil
        var isHTML = false
        var attachments: [Attachment] = []
        var forwarded: [ParsedMail] = []
    }

    final class Context {
        var problems: [(severity: Diagnostic.Severity, offset: Int, message: String)] = []
        var firstCharset: String?
        func add(_ s: Diagnostic.Severity, _ offset: Int, _ m: String) { problems.append((s, offset, m)) }
    }

    /// Parse one message.
    public static func parse(_ bytes: [UInt8]) -> ParsedMail {
        let ctx = Context()
        return parse(bytes, range: 0..<bytes.count, ctx: ctx, depth: 0)
    }

    static func parse(_ bytes: [UInt8], range: Range<Int>, ctx: Context, depth: Int) -> ParsedMail {
        let entity = parseEntity(bytes, range: range, ctx: ctx, topLevel: depth == 0)
        var rendered = Rendered()
        render(bytes, entity, ctx: ctx, depth: depth, into: &rendered)
        var headers = entity.headers
        headers.fallbackCharset = ctx.firstCharset
        var quoteStart: String.Index? = nil
        if let q = rendered.quoteStartUTF8, q < rendered.text.utf8.count {
            quoteStart = rendered.text.utf8.index(rendered.text.utf8.startIndex, offsetBy: q)
        }
        // forwarded mails go into the body as quoted text, so the outer new text excludes them
        var body = rendered.text
        for fwd in rendered.forwarded {
            if quoteStart == nil { quoteStart = body.endIndex }
            let hdr = ["From: " + (fwd.headers.value("from") ?? ""), "Date: " + (fwd.headers.value("date") ?? ""), "Subject: " + (fwd.headers.value("subject") ?? "")]
            body += "\n---------- Forwarded message ----------\n" + hdr.joined(separator: "\n") + "\n\n" + fwd.body
            if let q = quoteStart, q == rendered.text.endIndex { quoteStart = body.utf8.index(body.utf8.startIndex, offsetBy: rendered.text.utf8.count) }
        }
        if let q = quoteStart, !body.indices.contains(q) { quoteStart = nil }
        return ParsedMail(headers: headers, body: body, htmlQuoteStart: quoteStart, attachments: rendered.attachments,
                          forwarded: rendered.forwarded, problems: depth == 0 ? ctx.problems : [])
    }

    /// Split header fields from the body.
    static func parseEntity(_ bytes: [UInt8], range: Range<Int>, ctx: Context, topLevel: Bool) -> Entity {
        var headers = MIMEHeaders()
        var i = range.lowerBound
        let end = range.upperBound
        // an mbox-style "From " envelope line at the very top
        if topLevel, end - i > 5, bytes[i] == 0x46, bytes[i + 1] == 0x72, bytes[i + 2] == 0x6F, bytes[i + 3] == 0x6D, bytes[i + 4] == 0x20 {
            while i < end, bytes[i] != 0x0A { i += 1 }
            i += 1
        }
        var currentName: String? = nil
        var currentValue: [UInt8] = []
        var bodyStart = end
        var sawBlank = false
        func flush() {
            if let n = currentName {
                while let l = currentValue.last, l == 0x20 || l == 0x09 || l == 0x0D { currentValue.removeLast() }
                headers.fields.append((n, currentValue))
            }
            currentName = nil
            currentValue = []
        }
        while i < end {
            var lineEnd = i
            while lineEnd < end, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            var contentEnd = lineEnd
            if contentEnd > i, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            if contentEnd == i {
                // blank line: end of headers
                flush()
                bodyStart = min(lineEnd + 1, end)
                sawBlank = true
                break
            }
            if bytes[i] == 0x20 || bytes[i] == 0x09 {
                if currentName != nil {
                    var k = i
                    while k < contentEnd, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                    currentValue.append(0x20)
                    currentValue.append(contentsOf: bytes[k..<contentEnd])
                }
            } else if let colon = bytes[i..<contentEnd].firstIndex(of: 0x3A), colon > i,
                      bytes[i..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) {
                flush()
                currentName = ByteText.asciiLowercased(bytes[i..<colon])   // printable ASCII, checked above
                var k = colon + 1
                while k < contentEnd, bytes[k] == 0x20 || bytes[k] == 0x09 { k += 1 }
                currentValue = Array(bytes[k..<contentEnd])
            } else {
                // not a header line: the body starts here (a mailer forgot the blank line)
                flush()
                bodyStart = i
                sawBlank = true
                if !topLevel || !headers.fields.isEmpty {
                    ctx.add(.warning, i, "header section ends without a blank line")
                }
                break
            }
            i = lineEnd + 1
        }
        if !sawBlank {
            flush()
            if topLevel, end > range.lowerBound, bytes[end - 1] != 0x0A {
                ctx.add(.error, end, "truncated: the file ends inside the header section")
            }
        }
        return Entity(headers: headers, bodyRange: bodyStart..<end)
    }

    static func contentType(_ h: MIMEHeaders) -> HeaderValue {
        HeaderValue(h.value("content-type") ?? "text/plain")
    }

    /// Between alternatives, the plain part is chosen unless it is much shorter: under 60 % of the HTML's visible text.
    static func plainWins(plain: Int, html: Int) -> Bool { plain * 10 >= html * 6 }

    /// Non-space UTF-8 bytes: how long a rendered part is for choosing between alternatives.
    static func visibleLength(_ text: String) -> Int {
        ByteText.withBytes(text) { ByteText.visibleCount($0, 0, $0.count) }
    }

    /// Render `entity` into `r`. `plainLength`: inside a multipart/alternative, the visible length of the plain part
    /// already rendered; an HTML leaf that cannot be chosen over it (see `HTMLText.visibleLengthBound`) is left
    /// unparsed, marked HTML with no text.
    static func render(_ bytes: [UInt8], _ entity: Entity, ctx: Context, depth: Int, into r: inout Rendered, plainLength: Int? = nil) {
        let ct = contentType(entity.headers)
        let type = ct.value.isEmpty ? "text/plain" : ct.value
        if depth > maxDepth {
            ctx.add(.error, entity.bodyRange.lowerBound, "MIME nesting deeper than \(maxDepth) levels")
            return
        }
        if type.hasPrefix("multipart/") {
            guard let boundary = ct.params["boundary"], !boundary.isEmpty else {
                ctx.add(.warning, entity.bodyRange.lowerBound, "\(type) without a boundary parameter; read as text")
                renderLeaf(bytes, entity, type: "text/plain", ct: ct, ctx: ctx, into: &r)
                return
            }
            let parts = splitMultipart(bytes, range: entity.bodyRange, boundary: boundary, type: type, ctx: ctx)
            var children: [(Entity, Rendered)] = []
            // alternatives: the visible length of the first plain part, which lets a later HTML part go unparsed
            var firstPlainLength: Int? = nil
            for p in parts {
                let child = parseEntity(bytes, range: p, ctx: ctx, topLevel: false)
                var cr = Rendered()
                render(bytes, child, ctx: ctx, depth: depth + 1, into: &cr, plainLength: type == "multipart/alternative" ? firstPlainLength : nil)
                if type == "multipart/alternative", firstPlainLength == nil, !cr.isHTML, !cr.text.isEmpty { firstPlainLength = visibleLength(cr.text) }
                children.append((child, cr))
            }
            if type == "multipart/alternative" {
                // prefer text/plain when complete; HTML when the plain part is missing, empty or much shorter
                let plain = children.first { !$0.1.isHTML && !$0.1.text.isEmpty }?.1
                let html = children.last { $0.1.isHTML }?.1
                var chosen = plain ?? html ?? children.first?.1 ?? Rendered()
                if let p = plain, let h = html {
                    if !plainWins(plain: visibleLength(p.text), html: visibleLength(h.text)) { chosen = h }
                    else if !p.text.isEmpty, h.quoteStartUTF8 != nil, chosen.quoteStartUTF8 == nil {
                        chosen = p   // plain text quote splitting by patterns works on the plain part
                    }
                }
                r.text = chosen.text
                r.quoteStartUTF8 = chosen.quoteStartUTF8
                r.isHTML = chosen.isHTML
                for (_, c) in children { r.attachments += c.attachments; r.forwarded += c.forwarded }
            } else {
                // mixed, related, report, signed, …: inline text parts in order
                var pieces: [Rendered] = []
                for (k, (_, c)) in children.enumerated() {
                    r.attachments += c.attachments
                    r.forwarded += c.forwarded
                    if c.text.isEmpty { continue }
                    if type == "multipart/related" && k > 0 && !pieces.isEmpty { continue }
                    pieces.append(c)
                }
                for p in pieces {
                    if !r.text.isEmpty { r.text += "\n\n" }
                    if r.quoteStartUTF8 == nil, let q = p.quoteStartUTF8 { r.quoteStartUTF8 = r.text.utf8.count + q }
                    r.text += p.text
                    r.isHTML = r.isHTML || p.isHTML
                }
            }
            return
        }
        if type == "message/rfc822" || type == "message/global" {
            let body = decodeTransfer(bytes, entity, ctx: ctx)
            let inner = parse(body, range: 0..<body.count, ctx: ctx, depth: depth + 1)
            r.forwarded.append(inner)
            return
        }
        renderLeaf(bytes, entity, type: type, ct: ct, ctx: ctx, into: &r, plainLength: plainLength)
    }

    static func renderLeaf(_ bytes: [UInt8], _ entity: Entity, type: String, ct: HeaderValue, ctx: Context, into r: inout Rendered, plainLength: Int? = nil) {
        let disposition = HeaderValue(entity.headers.value("content-disposition") ?? "")
        let filename = disposition.params["filename"] ?? ct.params["name"]
        let lowerName = filename?.lowercased() ?? ""
        let textLikeName = lowerName.hasSuffix(".txt") || lowerName.hasSuffix(".log") || lowerName.hasSuffix(".out")
        let isAttachment = disposition.value == "attachment" || (filename != nil && !(type == "text/plain" && disposition.value == "inline" && !textLikeName)) || !(type.hasPrefix("text/"))
        if isAttachment && !type.hasPrefix("text/") && !textLikeName {
            // a binary attachment is kept as its name, type and size: its data is checked and counted, not decoded
            r.attachments.append(Attachment(filename: filename, contentType: type, size: decodedSize(bytes, entity, ctx: ctx), text: nil))
            return
        }
        let decoded = decodeTransfer(bytes, entity, ctx: ctx)
        let charset = ct.params["charset"]
        if let cs = charset, type.hasPrefix("text/") {
            if ctx.firstCharset == nil { ctx.firstCharset = cs }
        }
        if isAttachment {
            var text: String? = nil
            if type.hasPrefix("text/") || textLikeName {
                let slice = decoded.count > maxAttachmentText ? Array(decoded[0..<maxAttachmentText]) : decoded
                if !looksBinary(slice[...]) {
                    text = type == "text/html" ? HTMLText.convert(Charset.decode(slice, label: charset).text).text : Charset.decode(slice, label: charset).text
                }
            }
            r.attachments.append(Attachment(filename: filename, contentType: type, size: decoded.count, text: text))
            return
        }
        let decodedText = Charset.decode(decoded, label: charset)
        if decodedText.unknownLabel, let cs = charset {
            ctx.add(.warning, entity.bodyRange.lowerBound, "unknown charset \"\(cs)\"; decoded by guessing (UTF-8, then GB18030)")
        }
        let text = decodedText.text
        if type == "text/html" {
            if let plainLength, plainWins(plain: plainLength, html: HTMLText.visibleLengthBound(text)) {
                r.isHTML = true   // the plain alternative wins whatever this part holds
                return
            }
            let h = HTMLText.convert(text)
            r.text = h.text
            r.isHTML = true
            if let q = h.quoteStart { r.quoteStartUTF8 = h.text.utf8.distance(from: h.text.utf8.startIndex, to: q) }
        } else {
            r.text = ByteText.lineFeedsOnly(text)
        }
    }

    static func transferEncoding(_ entity: Entity) -> String {
        (entity.headers.value("content-transfer-encoding") ?? "7bit").lowercased().trimmingSpaces()
    }

    static func decodeTransfer(_ bytes: [UInt8], _ entity: Entity, ctx: Context) -> [UInt8] {
        let slice = bytes[entity.bodyRange]
        switch transferEncoding(entity) {
        case "base64":
            let r = TransferEncoding.decodeBase64(slice)
            reportBase64(bytes, entity, firstInvalidOffset: r.firstInvalidOffset, truncated: r.truncated, ctx: ctx)
            return r.bytes
        case "quoted-printable":
            return TransferEncoding.decodeQuotedPrintable(slice)
        default:
            return Array(slice)
        }
    }

    /// The size `decodeTransfer` would return, with the same diagnostics, without keeping the bytes.
    static func decodedSize(_ bytes: [UInt8], _ entity: Entity, ctx: Context) -> Int {
        switch transferEncoding(entity) {
        case "base64":
            let r = TransferEncoding.base64DecodedSize(bytes[entity.bodyRange])
            reportBase64(bytes, entity, firstInvalidOffset: r.firstInvalidOffset, truncated: r.truncated, ctx: ctx)
            return r.size
        case "quoted-printable":
            return decodeTransfer(bytes, entity, ctx: ctx).count
        default:
            return entity.bodyRange.count
        }
    }

    /// A base64 body's faults, where they are in the file: the first character outside the alphabet (an error),
    /// else data that ends mid-group (a warning).
    static func reportBase64(_ bytes: [UInt8], _ entity: Entity, firstInvalidOffset: Int?, truncated: Bool, ctx: Context) {
        if let bad = firstInvalidOffset {
            let at = entity.bodyRange.lowerBound + bad
            let ch = bytes[at]
            let shown = ch >= 0x21 && ch < 0x7F ? "'\(Character(Unicode.Scalar(ch)))'" : String(format: "0x%02X", ch)
            ctx.add(.error, at, "invalid base64: character \(shown) is not in the base64 alphabet")
        } else if truncated {
            ctx.add(.warning, entity.bodyRange.upperBound, "base64 data ends mid-group (truncated part)")
        }
    }

    /// The byte ranges of a multipart body's parts. A missing closing boundary is an error (truncated mail).
    static func splitMultipart(_ bytes: [UInt8], range: Range<Int>, boundary: String, type: String, ctx: Context) -> [Range<Int>] {
        let delim = Array(("--" + boundary).utf8)
        var parts: [Range<Int>] = []
        var partStart: Int? = nil
        var closed = false
        let end = range.upperBound
        bytes.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress else { return }
            var i = range.lowerBound
            while i < end {
                // line ends by memchr: a part is mostly long base64 or text lines with no delimiter on them
                let lineEnd = memchr(base + i, 0x0A, end - i).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? end
                if lineEnd - i >= delim.count, p[i] == 0x2D, p[i + 1] == 0x2D, memcmp(base + i, delim, delim.count) == 0 {
                    let after = i + delim.count
                    let isClose = after + 1 < end && p[after] == 0x2D && p[after + 1] == 0x2D
                    // the rest of the line must be whitespace (or "--")
                    let restStart = isClose ? after + 2 : after
                    if (restStart..<max(restStart, lineEnd)).allSatisfy({ p[$0] == 0x20 || p[$0] == 0x09 || p[$0] == 0x0D }) {
                        if let s = partStart {
                            // the CRLF before the delimiter belongs to the delimiter
                            var e = i
                            if e > s, p[e - 1] == 0x0A { e -= 1; if e > s, p[e - 1] == 0x0D { e -= 1 } }
                            parts.append(s..<max(s, e))
                        }
                        if isClose { closed = true; return }
                        partStart = min(lineEnd + 1, end)
                    }
                }
                i = lineEnd + 1
            }
        }
        if !closed {
            if let s = partStart {
                ctx.add(.error, end, "\(type) part has no closing boundary \"--\(boundary)--\" (truncated?)")
                parts.append(s..<end)
            } else {
                ctx.add(.error, range.lowerBound, "\(type) body has no part delimited by boundary \"\(boundary)\"")
            }
        }
        return parts
    }

    /// NUL bytes or many control bytes in the first 8 KiB.
    static func looksBinary(_ b: ArraySlice<UInt8>) -> Bool {
        b.prefix(binarySampleSize).withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, p.count > 0 else { return false }
            if memchr(base, 0, p.count) != nil { return true }
            return mostlyControlBytes(p)
        }
    }

    /// How many first bytes `looksBinary` reads.
    static let binarySampleSize = 8192

    /// More than a tenth of `sample` is control bytes (`looksBinary` without its NUL test).
    static func mostlyControlBytes(_ sample: UnsafeBufferPointer<UInt8>) -> Bool { controlBytes(sample) * 10 > sample.count }

    /// How many bytes of `p` are control characters other than tab, line feed, vertical tab, form feed and carriage
    /// return (0x01–0x08, 0x0E–0x1F), eight bytes at a time: for a byte below 0x80, adding 0x80 − k to its low seven
    /// bits sets the high bit exactly when it is ≥ k, with no carry into the next byte.
    static func controlBytes(_ p: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = p.baseAddress else { return 0 }
        let high: UInt64 = 0x8080_8080_8080_8080, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, ones: UInt64 = 0x0101_0101_0101_0101
        var control = 0
        var k = 0
        while k + 8 <= p.count {
            let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
            let seven = w & low7
            let below20 = ~((seven &+ (0x80 - 0x20) &* ones) | w) & high
            if below20 != 0 {
                let atLeast09 = (seven &+ (0x80 - 0x09) &* ones) & high
                let atLeast0E = (seven &+ (0x80 - 0x0E) &* ones) & high
                let whitespace = atLeast09 & ~atLeast0E
                control += (below20 & ~whitespace).nonzeroBitCount
            }
            k += 8
        }
        while k < p.count {
            let c = p[k]
            if c < 0x09 || (c > 0x0D && c < 0x20) { control += 1 }
            k += 1
        }
        return control
    }
}
