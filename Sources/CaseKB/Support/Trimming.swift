/// Fast replacements for Foundation's `trimmingCharacters(in: .whitespaces)` and `(in: .whitespacesAndNewlines)`,
/// which go through NSString on Linux and cost more than MIME parsing itself (measured with perf on an ingest).
/// Same character sets: Unicode space separators (Zs) and tab; with newlines also LF, VT, FF, CR, NEL, U+2028/9.
extension Substring {
    /// The text without leading and trailing spaces and tabs (Unicode Zs included).
    public func trimmingSpaces() -> String { Trimming.trim(self, newlines: false) }

    /// The text without leading and trailing white space, line breaks included.
    public func trimmingSpacesAndNewlines() -> String { Trimming.trim(self, newlines: true) }
}

extension String {
    /// The text without leading and trailing spaces and tabs (Unicode Zs included).
    public func trimmingSpaces() -> String { Trimming.trim(self[...], newlines: false) }

    /// The text without leading and trailing white space, line breaks included.
    public func trimmingSpacesAndNewlines() -> String { Trimming.trim(self[...], newlines: true) }
}

enum Trimming {
    static func trim(_ s: Substring, newlines: Bool) -> String {
        let u = s.utf8
        // the common case: nothing to trim
        if let f = u.first, let l = u.last, f > 0x20, f < 0x80, l > 0x20, l < 0x80 { return String(s) }
        let scalars = s.unicodeScalars
        var a = scalars.startIndex, b = scalars.endIndex
        while a < b, isSpace(scalars[a], newlines: newlines) { a = scalars.index(after: a) }
        while b > a, isSpace(scalars[scalars.index(before: b)], newlines: newlines) { b = scalars.index(before: b) }
        return String(scalars[a..<b])
    }

    @inline(__always)
    static func isSpace(_ s: Unicode.Scalar, newlines: Bool) -> Bool {
        let v = s.value
        if v < 0x80 { return v == 0x20 || v == 0x09 || (newlines && v >= 0x0A && v <= 0x0D) }
        if newlines && (v == 0x85 || v == 0x2028 || v == 0x2029) { return true }
        return isSpaceSeparator(v)
    }

    /// Unicode's space separators (general category Zs) above ASCII, listed: the property lookup cost more than
    /// the rest of trimming a decoded header. Checked against the property for every scalar by a test.
    @inline(__always)
    static func isSpaceSeparator(_ v: UInt32) -> Bool {
        switch v {
        case 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }
}
