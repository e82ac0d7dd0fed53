import Foundation

/// Byte-level helpers over UTF-8, for hot paths where Character-level String operations cost 10–100×
/// (see shared/notes/swift-text-performance.md).
enum ByteText {
    /// Whether `haystack` contains `needle` (both UTF-8).
    @inline(__always)
    static func contains(_ haystack: Substring.UTF8View, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        let n = needle.count
        var i = haystack.startIndex
        let end = haystack.endIndex
        while i != end {
            if haystack[i] == first {
                var j = haystack.index(after: i)
                var k = 1
                while k < n, j != end, haystack[j] == needle[k] { j = haystack.index(after: j); k += 1 }
                if k == n { return true }
            }
            i = haystack.index(after: i)
        }
        return false
    }

    @inline(__always)
    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        contains(Substring(haystack).utf8, needle)
    }

    /// The substring without leading and trailing ASCII spaces, tabs, CR, NBSP and ideographic spaces.
    static func trim(_ s: Substring) -> Substring {
        var a = s.startIndex, b = s.endIndex
        while a < b, let c = s[a...].first, c == " " || c == "\t" || c == "\r" || c == "\u{00A0}" || c == "\u{3000}" { a = s.index(after: a) }
        while b > a { let c = s[s.index(before: b)]; if c == " " || c == "\t" || c == "\r" || c == "\u{00A0}" || c == "\u{3000}" { b = s.index(before: b) } else { break } }
        return s[a..<b]
    }

    static func trim(_ s: String) -> Substring { trim(Substring(s)) }
}
