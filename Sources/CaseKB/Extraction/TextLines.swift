import Foundation

/// A text split into lines with their UTF-8 byte offsets, and conversion of byte offsets to the Unicode-scalar
/// offsets that spans carry. Extractors read lines, pick candidates with cheap byte tests, and parse only those.
struct TextLines {
    let text: String
    /// The text's UTF-8 bytes, for byte-level tests on lines.
    let bytes: [UInt8]
    /// Per line: bit flags of the byte classes it holds (see `Flag`).
    let flags: [UInt16]
    /// Per line: the `Trigger` literals it holds.
    let triggers: [UInt64]
    /// The lines as Substrings of the text, made on access (most lines are only ever seen as bytes).
    let lines: LineView
    /// Byte offset of each line's start.
    let offsets: [Int]
    /// Byte offset of each line's end (before its line break and a CR before that).
    let ends: [Int]
    /// Unicode-scalar offset of each line's start (spans count scalars).
    let scalarOffsets: [Int]
    let message: Int
    let field: String

    /// Byte classes for `Flag`, by byte value.
    static let classes: [UInt16] = (0...255).map { c -> UInt16 in
        switch c {
        case 0x30...0x39: return Flag.digit
        case 0x41...0x5A: return Flag.upper
        case 0x61...0x7A: return Flag.lower
        case 0x21: return Flag.bang
        case 0x60: return Flag.backtick
        case 0x5F: return Flag.underscore
        case 0x3A: return Flag.colon
        case 0x2B: return Flag.plus
        case 0x2E: return Flag.dot
        case 0x28: return Flag.paren
        case 0x7B: return Flag.brace
        case 0x80...0xFF: return Flag.nonASCII
        default: return 0
        }
    }

    /// Splits `text` into lines and, in the same pass over its bytes, records each line's byte classes, trigger
    /// literals and scalar offset.
    init(_ text: String, message: Int, field: String, triggers set: TriggerSet = .shared) {
        self.text = text
        self.message = message
        self.field = field
        let bytes = Array(text.utf8)
        self.bytes = bytes
        var offsets: [Int] = [0]
        var ends: [Int] = []
        var scalarOffsets: [Int] = [0]
        var flags: [UInt16] = []
        var triggers: [UInt64] = []
        let estimate = bytes.count / 40 + 1
        offsets.reserveCapacity(estimate); ends.reserveCapacity(estimate); scalarOffsets.reserveCapacity(estimate); flags.reserveCapacity(estimate); triggers.reserveCapacity(estimate)
        bytes.withUnsafeBufferPointer { p in
            Self.classes.withUnsafeBufferPointer { classes in
            TriggerSet.lower.withUnsafeBufferPointer { lower in
            set.headBits.withUnsafeBufferPointer { headBits in
            set.heads.withUnsafeBufferPointer { heads in
            set.chain.withUnsafeBufferPointer { chain in
            set.flat.withUnsafeBufferPointer { flat in
            set.flatStart.withUnsafeBufferPointer { flatStart in
            set.anyCase.withUnsafeBufferPointer { anyCase in
            set.bits.withUnsafeBufferPointer { bits in
                let n = p.count
                var f: UInt16 = 0
                var trig: UInt64 = 0
                var scalars = 0
                var lineStart = 0
                var i = 0
                while i < n {
                    let c = p[i]
                    if c == 0x0A {
                        flags.append(f); triggers.append(trig)
                        ends.append(i > lineStart && p[i - 1] == 0x0D ? i - 1 : i)
                        f = 0; trig = 0
                        scalars += 1
                        lineStart = i + 1
                        offsets.append(lineStart); scalarOffsets.append(scalars)
                        i += 1
                        continue
                    }
                    f |= classes[Int(c)]
                    scalars &+= c & 0xC0 != 0x80 ? 1 : 0
                    if i &+ 1 < n {
                        let head = Int(c) &<< 8 | Int(p[i &+ 1])
                        if headBits[head &>> 6] & (1 &<< UInt64(head & 63)) != 0 {
                            var k = Int(heads[head])
                            while chain[k] >= 0 {
                                let id = Int(chain[k])
                                let bit = bits[id]
                                if trig & bit == 0 {
                                    let s = flatStart[id], m = (id + 1 < flatStart.count ? flatStart[id + 1] : flat.count) - s
                                    if i + m <= n {
                                        var j = 0
                                        if anyCase[id] { while j < m, lower[Int(p[i + j])] == flat[s + j] { j += 1 } }
                                        else { while j < m, p[i + j] == flat[s + j] { j += 1 } }
                                        if j == m { trig |= bit }
                                    }
                                }
                                k += 1
                            }
                        }
                    }
                    i &+= 1
                }
                flags.append(f); triggers.append(trig)
                ends.append(n > lineStart && p[n - 1] == 0x0D ? n - 1 : n)
            }}}}}}}}}
        }
        self.offsets = offsets
        self.scalarOffsets = scalarOffsets
        self.flags = flags
        self.triggers = triggers
        self.ends = ends
        self.lines = LineView(text: text, offsets: offsets, ends: ends)
    }

    /// Line `i` of the text as a Substring, without its line break.
    struct LineView {
        let text: String
        let offsets: [Int]
        let ends: [Int]
        subscript(i: Int) -> Substring {
            let u = text.utf8
            let a = u.index(u.startIndex, offsetBy: offsets[i])
            return Substring(u[a..<u.index(a, offsetBy: ends[i] - offsets[i])])
        }
        var count: Int { offsets.count }
    }

    /// Whether line `line` holds any of the `Trigger` literals in `mask`.
    @inline(__always) func hit(_ line: Int, _ mask: UInt64) -> Bool { triggers[line] & mask != 0 }

    enum Flag {
        static let digit: UInt16 = 1, upper: UInt16 = 2, bang: UInt16 = 4, backtick: UInt16 = 8, underscore: UInt16 = 16
        static let colon: UInt16 = 32, plus: UInt16 = 64, nonASCII: UInt16 = 128, dot: UInt16 = 256, paren: UInt16 = 512, lower: UInt16 = 1024
        static let brace: UInt16 = 2048
    }

    @inline(__always) func has(_ line: Int, _ flag: UInt16) -> Bool { flags[line] & flag != 0 }

    /// Whether line `line` contains `needle` (memchr on the first byte, then memcmp).
    func contains(_ line: Int, _ needle: [UInt8]) -> Bool {
        let start = offsets[line]
        return TextLines.search(bytes, start, ends[line], needle, folded: false)
    }

    /// Byte offsets of every `needle` on line `line` (`folded`: ASCII case ignored, needle lower-case).
    func positions(_ line: Int, _ needle: [UInt8], folded: Bool) -> [Int] {
        ByteText.positions(bytes, offsets[line], lineEnd(line), needle, folded: folded)
    }

    /// The line's text as a String (lines are copied only once a trigger selects them).
    func string(_ line: Int) -> String { String(lines[line]) }

    static func search(_ bytes: [UInt8], _ start: Int, _ end: Int, _ needle: [UInt8], folded: Bool) -> Bool {
        bytes.withUnsafeBufferPointer { ByteText.search($0, start, end, needle, folded: folded) }
    }

    var count: Int { offsets.count }

    @inline(__always) func lineEnd(_ line: Int) -> Int { ends[line] }

    /// The Unicode-scalar offset of byte offset `byte`: the line's scalar offset plus the scalars before it on the line.
    func scalarOffset(_ byte: Int) -> Int {
        let b = min(max(byte, 0), bytes.count)
        // the last line starting at or before b
        var lo = 0, hi = offsets.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if offsets[mid] <= b { lo = mid } else { hi = mid - 1 }
        }
        var n = scalarOffsets[lo]
        var k = offsets[lo]
        if flags[lo] & Flag.nonASCII == 0 { return n + b - k }   // an ASCII line (its line break is ASCII too)
        while k < b { if bytes[k] & 0xC0 != 0x80 { n += 1 }; k += 1 }
        return n
    }

    /// A span from byte offsets, in Unicode scalars.
    func span(bytes start: Int, _ end: Int) -> TextSpan {
        TextSpan(message: message, field: field, start: scalarOffset(start), end: scalarOffset(end))
    }

    func span(lines a: Int, _ b: Int) -> TextSpan { span(bytes: offsets[a], lineEnd(b)) }

    /// A span for `range`, a range of `lineString` (the line copied into its own String).
    func span(line: Int, range: Range<String.Index>, of lineString: String) -> TextSpan {
        let a = lineString.utf8.distance(from: lineString.startIndex, to: range.lowerBound)
        let b = lineString.utf8.distance(from: lineString.startIndex, to: range.upperBound)
        return span(bytes: offsets[line] + a, offsets[line] + b)
    }
}

enum Hex {
    /// Parse hex (with optional 0x and WinDbg back-ticks).
    static func parse(_ s: Substring) -> UInt64? {
        var t = s
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        var v: UInt64 = 0
        var n = 0
        for b in t.utf8 {
            if b == 0x60 { continue }
            let d: UInt64
            switch b {
            case 0x30...0x39: d = UInt64(b - 0x30)
            case 0x41...0x46: d = UInt64(b - 0x41 + 10)
            case 0x61...0x66: d = UInt64(b - 0x61 + 10)
            default: return nil
            }
            n += 1
            if n > 16 { return nil }
            v = v << 4 | d
        }
        return n > 0 ? v : nil
    }

    static func isHexByte(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66) }

    /// A WinDbg address token: 8 or 16 hex digits, or ``xxxxxxxx`xxxxxxxx``.
    static func isAddress(_ s: Substring) -> Bool {
        let u = s.utf8
        let n = u.count
        if n == 17 {
            var k = 0
            for b in u { if k == 8 { if b != 0x60 { return false } } else if !isHexByte(b) { return false }; k += 1 }
            return true
        }
        guard n == 8 || n == 16 else { return false }
        return u.allSatisfy(isHexByte)
    }
}
