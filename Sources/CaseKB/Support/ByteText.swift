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

    /// The substring without leading and trailing ASCII spaces, tabs, CR, NBSP and ideographic spaces (byte-level).
    static func trim(_ s: Substring) -> Substring {
        let u = s.utf8
        var a = u.startIndex, b = u.endIndex
        while a < b {
            let c = u[a]
            if c == 0x20 || c == 0x09 || c == 0x0D { a = u.index(after: a); continue }
            if c == 0xC2, u.index(after: a) < b, u[u.index(after: a)] == 0xA0 { a = u.index(a, offsetBy: 2); continue }
            if c == 0xE3, u.distance(from: a, to: b) >= 3, u[u.index(a, offsetBy: 1)] == 0x80, u[u.index(a, offsetBy: 2)] == 0x80 { a = u.index(a, offsetBy: 3); continue }
            break
        }
        while b > a {
            let p = u.index(before: b)
            let c = u[p]
            if c == 0x20 || c == 0x09 || c == 0x0D { b = p; continue }
            if c == 0xA0, p > a, u[u.index(before: p)] == 0xC2 { b = u.index(before: p); continue }
            if c == 0x80, u.distance(from: a, to: b) >= 3, u[u.index(b, offsetBy: -2)] == 0x80, u[u.index(b, offsetBy: -3)] == 0xE3 { b = u.index(b, offsetBy: -3); continue }
            break
        }
        return Substring(u[a..<b])
    }

    static func trim(_ s: String) -> Substring { trim(Substring(s)) }
}
