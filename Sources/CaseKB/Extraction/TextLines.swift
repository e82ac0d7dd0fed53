import Foundation

/// A text split into lines with their UTF-8 byte offsets, and conversion of byte offsets to the Unicode-scalar
/// offsets that spans carry. Extractors read lines, pick candidates with cheap byte tests, and parse only those.
struct TextLines {
    let text: String
    let lines: [Substring]
    /// Byte offset of each line's start.
    let offsets: [Int]
    let message: Int
    let field: String

    init(_ text: String, message: Int, field: String) {
        self.text = text
        self.message = message
        self.field = field
        var lines: [Substring] = []
        var offsets: [Int] = []
        let u = text.utf8
        var start = u.startIndex
        var off = 0
        var i = u.startIndex
        while i != u.endIndex {
            if u[i] == 0x0A {
                var endIdx = i
                if endIdx > start, u[u.index(before: endIdx)] == 0x0D { endIdx = u.index(before: endIdx) }
                lines.append(Substring(u[start..<endIdx]))
                offsets.append(off)
                off += u.distance(from: start, to: i) + 1
                start = u.index(after: i)
            }
            i = u.index(after: i)
        }
        lines.append(Substring(u[start..<u.endIndex]))
        offsets.append(off)
        self.lines = lines
        self.offsets = offsets
    }

    var count: Int { lines.count }

    /// Byte offset of `index` (an index into `lines[line]`).
    func byteOffset(line: Int, at index: String.Index) -> Int {
        offsets[line] + lines[line].utf8.distance(from: lines[line].startIndex, to: index)
    }

    func lineEnd(_ line: Int) -> Int { offsets[line] + lines[line].utf8.count }

    /// A span from byte offsets, in Unicode scalars.
    func span(bytes start: Int, _ end: Int) -> TextSpan {
        let u = text.utf8
        let s = u.index(u.startIndex, offsetBy: min(start, u.count))
        let e = u.index(u.startIndex, offsetBy: min(end, u.count))
        let scalarStart = text.unicodeScalars.distance(from: text.startIndex, to: s)
        let scalarLen = text.unicodeScalars.distance(from: s, to: e)
        return TextSpan(message: message, field: field, start: scalarStart, end: scalarStart + scalarLen)
    }

    func span(lines a: Int, _ b: Int) -> TextSpan { span(bytes: offsets[a], lineEnd(b)) }

    /// A span for `range`, a range of `lineString` (the line copied into its own String).
    func span(line: Int, range: Range<String.Index>, of lineString: String) -> TextSpan {
        let a = lineString.utf8.distance(from: lineString.startIndex, to: range.lowerBound)
        let b = lineString.utf8.distance(from: lineString.startIndex, to: range.upperBound)
        return span(bytes: offsets[line] + a, offsets[line] + b)
    }
}

extension Substring {
    @inline(__always) func containsByte(_ b: UInt8) -> Bool { utf8.contains(b) }
    @inline(__always) func containsBytes(_ needle: [UInt8]) -> Bool { ByteText.contains(utf8, needle) }
}

extension NSRegularExpression {
    func firstMatch(in s: Substring) -> NSTextCheckingResult? {
        let str = String(s)
        return firstMatch(in: str, range: NSRange(str.startIndex..., in: str))
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
