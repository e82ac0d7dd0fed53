import Foundation

/// A text split into lines with their UTF-8 byte offsets, and conversion of byte offsets to the Unicode-scalar
/// offsets that spans carry. Extractors read lines, pick candidates with cheap byte tests, and parse only those.
struct TextLines {
    let text: String
    /// The text's UTF-8 bytes, for byte-level tests on lines.
    let bytes: [UInt8]
    /// Per line: bit flags of what it holds (see `Flag`), computed in one pass.
    let flags: [UInt16]
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
        let bytes = Array(text.utf8)
        self.bytes = bytes
        var flags = [UInt16](repeating: 0, count: lines.count)
        bytes.withUnsafeBufferPointer { b in
            for k in 0..<lines.count {
                var f: UInt16 = 0
                let end = k + 1 < offsets.count ? offsets[k + 1] - 1 : b.count
                var i = offsets[k]
                while i < end {
                    let c = b[i]
                    if c >= 0x30 && c <= 0x39 { f |= Flag.digit }
                    else if c >= 0x41 && c <= 0x5A { f |= Flag.upper }
                    else if c == 0x21 { f |= Flag.bang }
                    else if c == 0x60 { f |= Flag.backtick }
                    else if c == 0x5F { f |= Flag.underscore }
                    else if c == 0x3A { f |= Flag.colon }
                    else if c == 0x2B { f |= Flag.plus }
                    else if c >= 0x80 { f |= Flag.nonASCII }
                    else if c == 0x2E { f |= Flag.dot }
                    else if c == 0x28 { f |= Flag.paren }
                    else if c >= 0x61 && c <= 0x7A { f |= Flag.lower }
                    i += 1
                }
                flags[k] = f
            }
        }
        self.flags = flags
    }

    enum Flag {
        static let digit: UInt16 = 1, upper: UInt16 = 2, bang: UInt16 = 4, backtick: UInt16 = 8, underscore: UInt16 = 16
        static let colon: UInt16 = 32, plus: UInt16 = 64, nonASCII: UInt16 = 128, dot: UInt16 = 256, paren: UInt16 = 512, lower: UInt16 = 1024
    }

    @inline(__always) func has(_ line: Int, _ flag: UInt16) -> Bool { flags[line] & flag != 0 }

    /// Whether line `line` contains `needle` (memchr on the first byte, then memcmp).
    func contains(_ line: Int, _ needle: [UInt8]) -> Bool {
        let start = offsets[line]
        let end = start + lines[line].utf8.count
        return TextLines.search(bytes, start, end, needle, folded: false)
    }

    /// The same, ignoring ASCII case (`needle` lower-case).
    func containsFolded(_ line: Int, _ needle: [UInt8]) -> Bool {
        let start = offsets[line]
        let end = start + lines[line].utf8.count
        return TextLines.search(bytes, start, end, needle, folded: true)
    }

    static func search(_ bytes: [UInt8], _ start: Int, _ end: Int, _ needle: [UInt8], folded: Bool) -> Bool {
        bytes.withUnsafeBufferPointer { ByteText.search($0, start, end, needle, folded: folded) }
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

/// Byte needles used by the extractors, built once.
enum Needles {
    static let bug: [UInt8] = Array("bug".utf8)
    static let stop: [UInt8] = Array("stop".utf8)
    static let daima: [UInt8] = Array("代码".utf8)
    static let daimaT: [UInt8] = Array("代碼".utf8)
    static let fatal: [UInt8] = Array("Fatal".utf8)
    static let openBrace: [UInt8] = Array("{".utf8)
    static let hexPrefix: [UInt8] = Array("0x".utf8)
    static let sizeField: [UInt8] = Array("size:".utf8)
    static let previousSize: [UInt8] = Array("previous size:".utf8)
    static let pooltag: [UInt8] = Array("Pooltag".utf8)
    static let tagWord: [UInt8] = Array("tag".utf8)
    static let poolfind: [UInt8] = Array("poolfind".utf8)
    static let dotSys: [UInt8] = Array(".sys".utf8)
    static let dotDll: [UInt8] = Array(".dll".utf8)
    static let dotExe: [UInt8] = Array(".exe".utf8)
    static let dotSYS: [UInt8] = Array(".SYS".utf8)
    static let kdPrompt: [UInt8] = Array("kd>".utf8)
    static let lowerR: [UInt8] = Array("r".utf8)
    static let plusHex: [UInt8] = Array("+0x".utf8)
}
