import Foundation

/// Content-Transfer-Encoding decoders for MIME bodies and RFC 2047 words.
public enum TransferEncoding {
    /// Result of decoding base64: the bytes, and the offset of the first byte that is not base64 (if any).
    public struct Base64Result: Sendable {
        public var bytes: [UInt8]
        /// Offset (within the encoded input) of the first character outside the base64 alphabet.
        public var firstInvalidOffset: Int?
        /// The count of base64 characters was not a multiple of 4 (the input was cut short).
        public var truncated: Bool
    }

    private static let base64Table: [Int8] = {
        var t = [Int8](repeating: -1, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = Int8(i) }
        t[Int(UInt8(ascii: "-"))] = 62   // base64url, seen in some broken mailers
        t[Int(UInt8(ascii: "_"))] = 63
        return t
    }()

    /// Decode line-wrapped base64, reporting characters outside the alphabet instead of silently skipping them.
    public static func decodeBase64(_ input: ArraySlice<UInt8>) -> Base64Result {
        var out = [UInt8](repeating: 0, count: input.count * 3 / 4 + 3)
        let r = out.withUnsafeMutableBufferPointer { outBuf in base64(input, into: outBuf) }
        out.removeSubrange(r.written...)
        return Base64Result(bytes: out, firstInvalidOffset: r.firstInvalid, truncated: r.truncated)
    }

    /// What `decodeBase64` reports, without the bytes: their count, the first invalid character, truncation. A
    /// binary attachment is kept as its size only, so its data need not be written anywhere.
    public static func base64DecodedSize(_ input: ArraySlice<UInt8>) -> (size: Int, firstInvalidOffset: Int?, truncated: Bool) {
        let r = base64(input, into: nil)
        return (r.written, r.firstInvalid, r.truncated)
    }

    /// The base64 decoder: into `out` (at least `input.count * 3 / 4 + 3` bytes), or counting only when `out` is nil.
    private static func base64(_ input: ArraySlice<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>?) -> (written: Int, firstInvalid: Int?, truncated: Bool) {
        var written = 0
        var firstInvalid: Int?
        var count = 0
        base64Table.withUnsafeBufferPointer { table in
            input.withUnsafeBufferPointer { inBuf in
                var acc: UInt32 = 0
                var bits = 0
                var sawPadding = false
                let n = inBuf.count
                var i = 0
                while i < n {
                    // four alphabet characters at a group boundary (most of a line) become three bytes at once
                    if bits == 0, !sawPadding, i + 4 <= n {
                        let a = table[Int(inBuf[i])], b = table[Int(inBuf[i + 1])], c = table[Int(inBuf[i + 2])], d = table[Int(inBuf[i + 3])]
                        if a | b | c | d >= 0 {
                            if let outBuf = out {
                                let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                                outBuf[written] = UInt8(truncatingIfNeeded: group >> 16)
                                outBuf[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                                outBuf[written + 2] = UInt8(truncatingIfNeeded: group)
                            }
                            written += 3
                            count += 4
                            i += 4
                            continue
                        }
                    }
                    let c = inBuf[i]
                    i += 1
                    let v = table[Int(c)]
                    if v >= 0 {
                        if sawPadding { sawPadding = false; acc = 0; bits = 0; count = 0 }   // a new base64 run after padding
                        acc = (acc << 6) | UInt32(v)
                        bits += 6
                        count += 1
                        if bits >= 8 {
                            bits -= 8
                            out?[written] = UInt8(truncatingIfNeeded: acc >> UInt32(bits))
                            written += 1
                        }
                        continue
                    }
                    if c == 0x0D || c == 0x0A || c == 0x20 || c == 0x09 { continue }
                    if c == 0x3D { sawPadding = true; count += 1; continue }
                    if firstInvalid == nil { firstInvalid = i - 1 }
                }
            }
        }
        return (written, firstInvalid, count % 4 != 0)
    }

    @inline(__always) private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    /// Decode quoted-printable. Soft line breaks (`=` at end of line) are removed; a malformed escape is kept literally.
    /// With `underscoreIsSpace` (RFC 2047 Q encoding) `_` means a space.
    public static func decodeQuotedPrintable(_ input: ArraySlice<UInt8>, underscoreIsSpace: Bool = false) -> [UInt8] {
        // written into a buffer of the input's size (decoding never lengthens), literal runs copied at once up to
        // the next "=" (found by memchr): bodies are long and the per-byte append was most of the cost
        input.withUnsafeBufferPointer { p in
            [UInt8](unsafeUninitializedCapacity: p.count) { out, written in
                written = 0
                guard let base = p.baseAddress, let outBase = out.baseAddress else { return }
                var o = 0
                var i = 0
                let end = p.count
                while i < end {
                    let c = p[i]
                    if c == 0x3D {
                        // soft line break: "=" followed by optional whitespace then CRLF/LF
                        var j = i + 1
                        while j < end, p[j] == 0x20 || p[j] == 0x09 { j += 1 }
                        if j < end, p[j] == 0x0A { i = j + 1; continue }
                        if j + 1 < end, p[j] == 0x0D, p[j + 1] == 0x0A { i = j + 2; continue }
                        if j == end { i = end; continue }
                        if i + 2 < end, let h = hexValue(p[i + 1]), let l = hexValue(p[i + 2]) {
                            out[o] = h << 4 | l
                            o += 1
                            i += 3
                            continue
                        }
                        out[o] = c
                        o += 1
                        i += 1
                    } else if underscoreIsSpace {
                        // encoded words are short: byte by byte
                        out[o] = c == 0x5F ? 0x20 : c
                        o += 1
                        i += 1
                    } else {
                        let stop = memchr(base + i, 0x3D, end - i).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? end
                        (outBase + o).update(from: base + i, count: stop - i)
                        o += stop - i
                        i = stop
                    }
                }
                written = o
            }
        }
    }
}
