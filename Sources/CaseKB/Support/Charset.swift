import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text decoded from bytes in a declared charset, with what happened on the way.
public struct DecodedText: Sendable, Equatable {
    public var text: String
    /// The iconv charset actually used ("UTF-8", "GB18030", ...).
    public var charset: String
    /// Bytes that could not be decoded and became U+FFFD.
    public var replacements: Int
    /// The declared label was unknown to iconv, or produced garbage, so a fallback was used.
    public var fellBack: Bool
    /// The declared label is not a charset iconv knows.
    public var unknownLabel: Bool = false
}

/// Charset conversion through glibc iconv, with the label mapping real mail needs
/// (every GB label decodes as GB18030, Big5 as BIG5-HKSCS, unknown labels fall back).
public enum Charset {
    /// The iconv name for a MIME charset label, or nil for UTF-8/ASCII (decoded natively).
    public static func iconvName(forLabel label: String) -> String? {
        // quotes and blanks around the label dropped, ASCII lower-cased (labels are ASCII; others stay as given)
        func isJunk(_ b: UInt8) -> Bool { b == 0x22 || b == 0x27 || b == 0x20 || b == 0x09 }
        let utf8 = label.utf8
        guard let first = utf8.firstIndex(where: { !isJunk($0) }), let last = utf8.lastIndex(where: { !isJunk($0) }) else { return nil }
        let l = ByteText.asciiLowercased(utf8[first...last])
        switch l {
        case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "unicode-1-1-utf-8", "x-unknown", "unknown-8bit", "default":
            return nil
        case "gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936", "csgb2312", "chinese", "euc-cn", "gb18030", "gb_2312-80", "x-euc-cn", "hz-gb-2312":
            return l == "hz-gb-2312" ? "HZ" : "GB18030"
        case "big5", "x-big5", "cp950", "big5-hkscs", "csbig5", "x-x-big5":
            return "BIG5-HKSCS"
        case "latin1", "latin-1", "l1":
            return "ISO-8859-1"
        default:
            return l.uppercased()
        }
    }

    /// Decode `bytes` labelled `label`. Never fails: an unknown or wrong label falls back to UTF-8 and then
    /// GB18030 (the common mislabelling in Chinese mail), choosing the reading with the fewest bad bytes.
    public static func decode(_ bytes: [UInt8], label: String?) -> DecodedText {
        if bytes.isEmpty { return DecodedText(text: "", charset: "UTF-8", replacements: 0, fellBack: false, unknownLabel: label.map { !isKnown(label: $0) } ?? false) }
        let name = label.flatMap { iconvName(forLabel: $0) }
        if let name {
            if let decoded = iconvDecode(bytes, from: name) {
                if decoded.replacements == 0 {
                    return DecodedText(text: decoded.text, charset: name, replacements: 0, fellBack: false)
                }
                // The label decoded with errors: maybe it is wrong. Try the usual suspects.
                let best = bestGuess(bytes)
                if best.replacements < decoded.replacements { return DecodedText(text: best.text, charset: best.charset, replacements: best.replacements, fellBack: true) }
                return DecodedText(text: decoded.text, charset: name, replacements: decoded.replacements, fellBack: false)
            }
            // iconv does not know this label.
            let best = bestGuess(bytes)
            return DecodedText(text: best.text, charset: best.charset, replacements: best.replacements, fellBack: true, unknownLabel: true)
        }
        if let s = String(validating: bytes, as: UTF8.self) {
            return DecodedText(text: s, charset: "UTF-8", replacements: 0, fellBack: false)
        }
        let best = bestGuess(bytes)
        return DecodedText(text: best.text, charset: best.charset, replacements: best.replacements, fellBack: label != nil && best.charset != "UTF-8")
    }

    /// Whether iconv knows the label (after casekb's own mapping).
    public static func isKnown(label: String) -> Bool {
        guard let name = iconvName(forLabel: label) else { return true }
        let cd = iconv_open("UTF-8", name)
        if cd == iconv_t(bitPattern: -1) { return false }
        iconv_close(cd)
        return true
    }

    private static func bestGuess(_ bytes: [UInt8]) -> (text: String, charset: String, replacements: Int) {
        if let s = String(validating: bytes, as: UTF8.self) { return (s, "UTF-8", 0) }
        let utf8Bad = countInvalidUTF8(bytes)
        if let gb = iconvDecode(bytes, from: "GB18030"), gb.replacements < utf8Bad {
            return (gb.text, "GB18030", gb.replacements)
        }
        return (String(decoding: bytes, as: UTF8.self), "UTF-8", utf8Bad)
    }

    private static func countInvalidUTF8(_ bytes: [UInt8]) -> Int {
        var bad = 0
        var it = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: bad += 1
            }
        }
        return bad
    }

    /// Encode `text` in `charset` (for writing test mail); nil when iconv does not know it or a character has no mapping.
    public static func encode(_ text: String, to charset: String) -> [UInt8]? {
        let cd = iconv_open(charset, "UTF-8")
        if cd == iconv_t(bitPattern: -1) { return nil }
        defer { iconv_close(cd) }
        var input = Array(text.utf8)
        let total = input.count
        var out = [UInt8](repeating: 0, count: total * 2 + 16)
        let outCap = out.count
        var ok = true
        var written = 0
        input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                guard let ib = inBuf.baseAddress, let ob = outBuf.baseAddress else { ok = total == 0; return }
                var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(ib).assumingMemoryBound(to: CChar.self)
                var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(ob).assumingMemoryBound(to: CChar.self)
                var inLeft = total, outLeft = outCap
                if iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft) == -1 { ok = false }
                written = outCap - outLeft
            }
        }
        return ok ? Array(out[0..<written]) : nil
    }

    /// glibc iconv to UTF-8, replacing undecodable bytes with U+FFFD. Returns nil when iconv does not know `charset`.
    public static func iconvDecode(_ bytes: [UInt8], from charset: String) -> (text: String, replacements: Int)? {
        guard let cd = toUTF8.take(charset) else { return nil }
        defer { toUTF8.giveBack(cd, charset) }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 3 / 2 + 16)
        var replacements = 0
        var input = bytes
        let total = input.count
        // GB18030 and Big5 take at most 4 bytes to 4 UTF-8 bytes: a 4× buffer holds short texts (header words) in one call
        var chunk = [UInt8](repeating: 0, count: min(65_536, total * 4 + 16))
        input.withUnsafeMutableBufferPointer { inBuf in
            guard let inBase = inBuf.baseAddress else { return }
            var inPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(to: CChar.self)
            var inLeft = total
            while inLeft > 0 {
                var stop = false
                chunk.withUnsafeMutableBufferPointer { outBuf in
                    guard let outBase = outBuf.baseAddress else { stop = true; return }
                    var outPtr: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                    var outLeft = outBuf.count
                    let rc = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                    out.append(contentsOf: outBuf[0..<(outBuf.count - outLeft)])
                    if rc == -1 {
                        switch errno {
                        case E2BIG:
                            break
                        case EILSEQ, EINVAL:
                            out.append(contentsOf: [0xEF, 0xBF, 0xBD])
                            replacements += 1
                            inPtr = inPtr.map { $0 + 1 }
                            inLeft -= 1
                            // Reset shift state after an error.
                            _ = iconv(cd, nil, nil, nil, nil)
                        default:
                            stop = true
                        }
                    }
                }
                if stop { break }
            }
        }
        return (String(decoding: out, as: UTF8.self), replacements)
    }

    /// Conversions to UTF-8 kept open for reuse (see `Converters`).
    static let toUTF8 = Converters()

    /// Open iconv conversions to UTF-8 by charset, kept for the next text in that charset: opening one finds and sets
    /// up its tables, which cost more than converting a header word (perf: ≈ 0.5 % of an ingest). A conversion is
    /// used by one thread at a time: taken out, used, reset to its initial state and given back. At most a few per
    /// charset stay open.
    final class Converters: Sendable {
        struct Open: @unchecked Sendable { var cd: iconv_t }
        static let keptPerCharset = 4
        private let idle = Mutex<[String: [Open]]>([:])

        /// An open conversion from `charset`, or nil when iconv does not know it.
        func take(_ charset: String) -> iconv_t? {
            if let kept = idle.withLock({ $0[charset]?.popLast() }) { return kept.cd }
            let cd = iconv_open("UTF-8", charset)
            return cd == iconv_t(bitPattern: -1) ? nil : cd
        }

        func giveBack(_ cd: iconv_t, _ charset: String) {
            _ = iconv(cd, nil, nil, nil, nil)   // back to the initial shift state
            let kept = idle.withLock { table -> Bool in
                guard table[charset, default: []].count < Converters.keptPerCharset else { return false }
                table[charset, default: []].append(Open(cd: cd))
                return true
            }
            if !kept { iconv_close(cd) }
        }
    }
}
