import Foundation
import CLibXML2

/// HTML mail bodies turned into text with libxml2's HTML parser: blocks become lines, `<br>` a newline, `<pre>` and
/// tables keep their line structure, style/script/head are dropped, entities decoded. The first quote marker
/// (Outlook `divRplyFwdMsg`, `border-top:solid #E1E1E1`, `gmail_quote`, `blockquote type=cite`, …) is reported
/// so the caller can set the quoted part apart.
public struct HTMLText: Sendable {
    public var text: String
    /// Where quoted mail starts in `text`, when a quote marker was found.
    public var quoteStart: String.Index?

    struct Marker: Sendable {
        enum Kind: String, Sendable { case id, `class`, style, tag }
        var kind: Kind
        var value: String
        var tag: String = ""
        var attr: String = ""
    }

    static let markers: [Marker] = {
        let entries = (try? DataFile.entries("html-quote-markers.txt")) ?? []
        return entries.compactMap { e in
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = Marker.Kind(rawValue: parts[0]) else { return nil }
            if kind == .tag {
                // blockquote/type=cite
                let sp = parts[1].split(separator: "/", maxSplits: 1).map(String.init)
                guard sp.count == 2 else { return nil }
                let kv = sp[1].split(separator: "=", maxSplits: 1).map(String.init)
                return Marker(kind: .tag, value: kv.count == 2 ? kv[1] : "", tag: sp[0].lowercased(), attr: kv[0].lowercased())
            }
            return Marker(kind: kind, value: kind == .style ? parts[1].lowercased() : parts[1])
        }
    }()

    private static let initialized: Bool = { xmlInitParser(); return true }()

    /// Convert HTML (already decoded to UTF-8 when `utf8` is true; else libxml2 sniffs `<meta charset>`).
    public static func convert(_ html: String) -> HTMLText {
        convert(bytes: Array(html.utf8), isUTF8: true)
    }

    /// An upper bound, without parsing, on the visible (non-space) UTF-8 bytes `convert` can give for `html`: bytes
    /// outside tags and comments, where a tag opens at `<` or `</` before an ASCII letter and closes at the next `>`
    /// (an unclosed one counts as text), and a comment runs from `<!--` to `-->`; `<img>` and `<li>` tags count whole,
    /// since their alt text and bullet become text. Entities only shrink. Anything else counts, so the bound errs high.
    /// A multipart/alternative whose plain part is long next to this bound never needs its HTML parsed.
    public static func visibleLengthBound(_ html: String) -> Int {
        var html = html
        return html.withUTF8 { p in
            guard let base = p.baseAddress else { return 0 }
            var count = 0
            var i = 0
            let n = p.count
            func isLetter(_ k: Int) -> Bool { k < n && (p[k] | 0x20) >= 0x61 && (p[k] | 0x20) <= 0x7A }
            while i < n {
                let b = p[i]
                if b == 0x3C, i + 3 < n, p[i + 1] == 0x21, p[i + 2] == 0x2D, p[i + 3] == 0x2D {
                    // <!-- … -->
                    var k = i + 4
                    while k + 2 < n, !(p[k] == 0x2D && p[k + 1] == 0x2D && p[k + 2] == 0x3E) { k += 1 }
                    if k + 2 >= n { count += ByteText.visibleCount(p, i, n); break }
                    i = k + 3
                    continue
                }
                if b == 0x3C, isLetter(i + 1) || (i + 1 < n && p[i + 1] == 0x2F && isLetter(i + 2)) {
                    guard let hit = memchr(base + i + 1, 0x3E, n - i - 1) else { count += ByteText.visibleCount(p, i, n); break }
                    let close = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                    let name = p[i + 1] | 0x20, next = i + 2 < close ? p[i + 2] | 0x20 : 0
                    if (name == 0x69 && next == 0x6D) || (name == 0x6C && next == 0x69) { count += ByteText.visibleCount(p, i, close + 1) }   // <im…, <li…
                    i = close + 1
                    continue
                }
                if b > 0x20 { count += 1 }
                i += 1
            }
            return count
        }
    }

    public static func convert(bytes: [UInt8], isUTF8: Bool) -> HTMLText {
        _ = initialized
        guard !bytes.isEmpty else { return HTMLText(text: "", quoteStart: nil) }
        var options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)
        if isUTF8 { options |= Int32(HTML_PARSE_IGNORE_ENC.rawValue) }
        let doc: htmlDocPtr? = bytes.withUnsafeBufferPointer { buf in
            buf.baseAddress.flatMap { base in
                UnsafeRawPointer(base).withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                    htmlReadMemory(p, Int32(buf.count), nil, isUTF8 ? "UTF-8" : nil, options)
                }
            }
        }
        guard let doc else { return HTMLText(text: "", quoteStart: nil) }
        defer { xmlFreeDoc(doc) }
        var walker = Walker()
        if let root = xmlDocGetRootElement(doc) { walker.walk(root) }
        let text = walker.finish()
        var quoteStart: String.Index? = nil
        if let off = walker.quoteStartUTF8, off < text.utf8.count {
            quoteStart = text.utf8.index(text.utf8.startIndex, offsetBy: off)
        }
        return HTMLText(text: text, quoteStart: quoteStart)
    }

    struct Walker {
        var out: [UInt8] = []
        var pendingSpace = false
        var preDepth = 0
        var quoteStartUTF8: Int?
        var listDepth = 0

        static let skipped: Set<String> = ["head", "style", "script", "title", "xml", "noscript", "template", "object", "o:p"]
        static let blocks: Set<String> = ["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre",
                                          "table", "ul", "ol", "dl", "dt", "dd", "section", "article", "header", "footer",
                                          "address", "center", "form", "fieldset", "body", "html", "tbody", "thead", "tfoot", "caption"]

        static func name(_ p: UnsafePointer<xmlChar>?) -> String {
            guard let p else { return "" }
            return String(cString: p)
        }

        static func attribute(_ node: xmlNodePtr, _ want: String) -> String? {
            var a = node.pointee.properties
            while let attr = a {
                if name(attr.pointee.name).lowercased() == want {
                    var value = ""
                    var c = attr.pointee.children
                    while let child = c {
                        if let content = child.pointee.content { value += String(cString: content) }
                        c = child.pointee.next
                    }
                    return value
                }
                a = attr.pointee.next
            }
            return nil
        }

        func isQuoteMarker(_ node: xmlNodePtr, tag: String) -> Bool {
            guard node.pointee.properties != nil else { return false }
            let id = Walker.attribute(node, "id")
            let classes = Walker.attribute(node, "class")?.split(separator: " ")
            let style = Walker.attribute(node, "style").map { $0.lowercased().filter { !$0.isWhitespace } }
            for m in HTMLText.markers {
                switch m.kind {
                case .id:
                    if id == m.value { return true }
                case .class:
                    if let classes, classes.contains(where: { $0 == m.value }) { return true }
                case .style:
                    if let style, style.contains(m.value) { return true }
                case .tag:
                    if tag == m.tag, let v = Walker.attribute(node, m.attr), v.lowercased() == m.value.lowercased() { return true }
                }
            }
            return false
        }

        mutating func newline() {
            pendingSpace = false
            if let last = out.last, last != 0x0A { out.append(0x0A) }
        }

        mutating func append(text: UnsafePointer<xmlChar>) {
            var p = text
            if preDepth > 0 {
                while p.pointee != 0 {
                    // NBSP (C2 A0) becomes a space; CR is dropped
                    if p.pointee == 0xC2 && p[1] == 0xA0 { out.append(0x20); p += 2; continue }
                    if p.pointee != 0x0D { out.append(p.pointee) }
                    p += 1
                }
                return
            }
            while p.pointee != 0 {
                let b = p.pointee
                if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pendingSpace = true; p += 1; continue }
                if b == 0xC2 && p[1] == 0xA0 {   // NBSP: a space that is kept
                    if !out.isEmpty && out.last != 0x0A { out.append(0x20) }
                    pendingSpace = false
                    p += 2
                    continue
                }
                if b == 0xE2 && p[1] == 0x80 && p[2] == 0x8B { p += 3; continue }   // zero-width space
                if pendingSpace, let last = out.last, last != 0x0A, last != 0x20, last != 0x09 { out.append(0x20) }
                pendingSpace = false
                out.append(b)
                p += 1
            }
        }

        mutating func append(text: String) {
            var s = text
            s.withUTF8 { buf in
                var copy = [UInt8](buf)
                copy.append(0)
                copy.withUnsafeBufferPointer { if let base = $0.baseAddress { append(text: base) } }
            }
        }

        mutating func walk(_ first: xmlNodePtr) {
            var node: xmlNodePtr? = first
            while let n = node {
                visit(n)
                node = n.pointee.next
            }
        }

        mutating func visit(_ n: xmlNodePtr) {
            switch n.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let c = n.pointee.content { append(text: c) }
            case XML_ELEMENT_NODE:
                let tag = Walker.name(n.pointee.name).lowercased()
                if Walker.skipped.contains(tag) { return }
                if quoteStartUTF8 == nil, isQuoteMarker(n, tag: tag) {
                    newline()
                    quoteStartUTF8 = out.count
                }
                let isBlock = Walker.blocks.contains(tag)
                if isBlock { newline() }
                switch tag {
                case "br": out.append(0x0A); pendingSpace = false
                case "li": out.append(contentsOf: Array("- ".utf8))
                case "td", "th":
                    if let last = out.last, last != 0x0A { out.append(0x09) }
                    pendingSpace = false
                case "img":
                    if let alt = Walker.attribute(n, "alt"), !alt.isEmpty { append(text: "[\(alt)]") }
                default: break
                }
                if tag == "pre" || tag == "xmp" || tag == "plaintext" { preDepth += 1 }
                if let child = n.pointee.children { walk(child) }
                if tag == "pre" || tag == "xmp" || tag == "plaintext" { preDepth -= 1 }
                if isBlock { newline() }
                if tag == "p" || tag == "hr" || tag == "pre" || tag == "table" { out.append(0x0A) }
            default:
                return
            }
        }

        mutating func finish() -> String {
            // collapse 3+ newlines, strip trailing spaces on lines
            var result: [UInt8] = []
            result.reserveCapacity(out.count)
            var newlines = 0
            var mappedQuote: Int? = nil
            for (k, b) in out.enumerated() {
                if k == quoteStartUTF8 { mappedQuote = result.count }
                if b == 0x0A {
                    while let l = result.last, l == 0x20 || l == 0x09 { result.removeLast() }
                    newlines += 1
                    if newlines <= 2 && !result.isEmpty { result.append(b) }
                } else {
                    newlines = 0
                    result.append(b)
                }
            }
            while let l = result.last, l == 0x0A || l == 0x20 || l == 0x09 { result.removeLast() }
            if quoteStartUTF8 != nil && mappedQuote == nil { mappedQuote = result.count }
            if let q = mappedQuote, q > result.count { mappedQuote = result.count }
            quoteStartUTF8 = mappedQuote
            return String(decoding: result, as: UTF8.self)
        }
    }
}
