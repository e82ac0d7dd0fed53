import Foundation

/// Byte-level helpers over UTF-8, for hot paths where Character-level String operations cost 10–100×
/// (see shared/notes/swift-text-performance.md).
enum ByteText {
    /// `s` with every byte `a` (ASCII) replaced by `b`; `s` itself when it has none (Foundation's
    /// replacingOccurrences goes through NSString on Linux).
    static func replacing(_ a: UInt8, with b: UInt8, in s: String) -> String {
        guard s.utf8.contains(a) else { return s }
        return String(decoding: s.utf8.map { $0 == a ? b : $0 }, as: UTF8.self)
    }

    /// `s` with each CR LF made LF (a lone CR stays).
    static func lineFeedsOnly(_ s: String) -> String {
        let converted: [UInt8]? = withBytes(s) { p in
            guard let base = p.baseAddress, memchr(base, 0x0D, p.count) != nil else { return nil }
            var out: [UInt8] = []
            out.reserveCapacity(p.count)
            var i = 0
            while i < p.count {
                if p[i] == 0x0D, i + 1 < p.count, p[i + 1] == 0x0A { i += 1; continue }
                out.append(p[i])
                i += 1
            }
            return out
        }
        return converted.map { String(decoding: $0, as: UTF8.self) } ?? s
    }

    /// Whether bytes `start..<end` of `p` contain `needle`: memchr for the first byte, then a compare. With `folded`,
    /// ASCII letters of the haystack are compared lower-cased (`needle` must be lower-case).
    static func search(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ needle: [UInt8], folded: Bool) -> Bool {
        needle.isEmpty || find(p, start, end, needle, folded: folded) != nil
    }

    /// The offset of the first `needle` in bytes `start..<end` of `p`, or nil (see `search`).
    static func find(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, _ needle: [UInt8], folded: Bool) -> Int? {
        let n = needle.count
        guard n > 0 else { return start }
        guard let base = p.baseAddress, end - start >= n, let first = needle.first else { return nil }
        @inline(__always) func fold(_ c: UInt8) -> UInt8 { folded && (c &- 0x41) < 26 ? c | 0x20 : c }
        @inline(__always) func matches(at i: Int) -> Bool {
            var k = 1
            while k < n, fold(base[i + k]) == needle[k] { k += 1 }
            return k == n
        }
        if !folded || !(first >= 0x61 && first <= 0x7A) {
            var i = start
            while i <= end - n {
                guard let hit = memchr(base + i, Int32(first), end - n + 1 - i) else { return nil }
                let at = UnsafeRawPointer(hit) - UnsafeRawPointer(base)
                if matches(at: at) { return at }
                i = at + 1
            }
            return nil
        }
        // a lower-case first letter may stand in either case
        var i = start
        while i <= end - n {
            if base[i] | 0x20 == first, matches(at: i) { return i }
            i += 1
        }
        return nil
    }

    /// `s` with every `target` replaced by `replacement`, matched byte for byte (UTF-8 matches fall on character
    /// boundaries). Foundation's `replacingOccurrences` costs microseconds per call on Linux.
    static func replacingAll(_ target: String, with replacement: String, in s: String) -> String {
        let needle = Array(target.utf8)
        return withBytes(s) { p -> String in
            guard var hit = find(p, 0, p.count, needle, folded: false), !needle.isEmpty else { return s }
            var out: [UInt8] = []
            out.reserveCapacity(p.count)
            var copied = 0
            while true {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied..<hit]))
                out.append(contentsOf: replacement.utf8)
                copied = hit + needle.count
                guard let next = find(p, copied, p.count, needle, folded: false) else { break }
                hit = next
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p[copied...]))
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Offsets of every `needle` in bytes `a..<end` of `bytes`.
    static func positions(_ bytes: [UInt8], _ a: Int, _ end: Int, _ needle: [UInt8], folded: Bool) -> [Int] {
        var out: [Int] = []
        bytes.withUnsafeBufferPointer { p in
            var k = a
            while let at = find(p, k, end, needle, folded: folded) { out.append(at); k = at + 1 }
        }
        return out
    }

    /// Whether `haystack` contains `needle` (both UTF-8).
    static func contains(_ haystack: Substring.UTF8View, _ needle: [UInt8]) -> Bool {
        withBytes(Substring(haystack)) { search($0, 0, $0.count, needle, folded: false) }
    }

    static func contains(_ haystack: String, _ needle: [UInt8]) -> Bool {
        contains(Substring(haystack).utf8, needle)
    }

    /// ASCII case-insensitive containment (`needle` already lower-case).
    static func containsFolded(_ haystack: Substring.UTF8View, _ needle: [UInt8]) -> Bool {
        withBytes(Substring(haystack)) { search($0, 0, $0.count, needle, folded: true) }
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

    /// Both cases of an ASCII letter, else the byte alone (for tables looked up by raw bytes that ignore case).
    /// A 256-entry table: true for the bytes (in either case) that start one of `words`, so a line whose first byte
    /// is false cannot start any of them.
    static func firstByteTable(_ words: [String]) -> [Bool] {
        var table = [Bool](repeating: false, count: 256)
        for b in words.compactMap(\.utf8.first) { for v in caseVariants(b) { table[Int(v)] = true } }
        return table
    }

    /// `body` over the UTF-8 bytes of `s` (in place for a native string), without a `var` copy at each call site.
    @inline(__always) static func withBytes<R>(_ s: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var s = s
        return try s.withUTF8(body)
    }

    @inline(__always) static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var s = s
        return try s.withUTF8(body)
    }

    /// How many bytes of `p[from..<to]` are visible (above space): the length measure for choosing between a
    /// plain and an HTML alternative.
    static func visibleCount(_ p: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Int {
        var c = 0
        for k in from..<to where p[k] > 0x20 { c += 1 }
        return c
    }

    /// `b` lower-cased if it is an ASCII capital letter.
    @inline(__always) static func lowerASCII(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// Whether `s` starts with `lowerPrefix` (lower-case), ASCII letters of `s` compared in either case.
    static func hasFoldedPrefix(_ s: Substring, _ lowerPrefix: String.UTF8View) -> Bool {
        var i = s.utf8.startIndex
        for b in lowerPrefix {
            guard i < s.utf8.endIndex, lowerASCII(s.utf8[i]) == b else { return false }
            i = s.utf8.index(after: i)
        }
        return true
    }

    /// Bytes as a string with ASCII letters lower-cased (header names, charset labels; other bytes kept).
    static func asciiLowercased(_ bytes: some Sequence<UInt8>) -> String { String(decoding: bytes.map(lowerASCII), as: UTF8.self) }

    static func caseVariants(_ b: UInt8) -> [UInt8] { (b | 0x20) &- 0x61 < 26 ? [b | 0x20, b & ~0x20] : [b] }
}
