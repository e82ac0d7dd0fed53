import Foundation

/// Parsing of the date forms found in mail: RFC 5322 `Date:` headers, CRM export timestamps,
/// mbox `From ` lines and the Chinese forms of quote headers.
public enum MailDate {
    private static let months = ["jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
                                 "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12]
    private static let zoneNames: [String: Int] = [
        "ut": 0, "utc": 0, "gmt": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300,
        "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "cet": 60, "cest": 120, "jst": 540, "bst": 60,
    ]

    /// Build an instant from civil fields and an offset in minutes east of UTC.
    static func instant(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Double, offsetMinutes: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else { return nil }
        // days from civil (Howard Hinnant's algorithm)
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    private static func scanNumbers(_ s: Substring) -> [Substring] {
        s.split(whereSeparator: { !$0.isNumber && !$0.isLetter && $0 != "+" && $0 != "-" && $0 != "." })
    }

    /// RFC 5322 date, e.g. `Wed, 13 Sep 2017 13:05:45 +0200 (CEST)`; tolerant of missing seconds, two-digit years and zone names.
    public static func parseRFC5322(_ value: String) -> Date? {
        var copy = value
        switch copy.withUTF8({ parseRFC5322ASCII($0) }) {
        case .read(let date): return date
        case .notRead: return parseRFC5322Tokens(value)
        }
    }

    /// What the byte-level reading of a date made of it.
    enum ByteReading { case read(Date?), notRead }

    /// The reading `parseRFC5322Tokens` gives, taken from the bytes without making a string per token, for the
    /// usual ASCII date whose numbers are plain digits; `.notRead` for the rest (non-ASCII text, fractional or
    /// overlong numbers), which the token reading takes.
    static func parseRFC5322ASCII(_ p: UnsafeBufferPointer<UInt8>) -> ByteReading {
        var n = p.count
        for k in 0..<n {
            if p[k] >= 0x80 { return .notRead }
            if p[k] == 0x28 { n = k; break }   // a ( comment ends the date
        }
        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
        @inline(__always) func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
        /// `Int(text)`: an optional sign, then digits; nil for anything else; `.none` for more digits than an Int
        /// surely holds (left to the token reading).
        func integer(_ a: Int, _ b: Int) -> Int?? {
            var k = a, negative = false
            if k < b, p[k] == 0x2B || p[k] == 0x2D { negative = p[k] == 0x2D; k += 1 }
            guard k < b else { return .some(nil) }
            guard b - k <= 18 else { return .none }
            var v = 0
            while k < b { guard isDigit(p[k]) else { return .some(nil) }; v = v * 10 + Int(p[k] &- 0x30); k += 1 }
            return .some(negative ? -v : v)
        }
        var day: Int?, month: Int?, year: Int?, time: [Int]?, offset = 0
        var start = 0
        for end in 0...n {
            guard end == n || p[end] == 0x20 || p[end] == 0x09 || p[end] == 0x2C else { continue }
            defer { start = end + 1 }
            guard end > start else { continue }
            let a = start, b = end
            let first = p[a]
            let wordLike = !(isDigit(first) || first == 0x2B || first == 0x2D)
            if month == nil, wordLike, b - a >= 3, (a..<b).allSatisfy({ isLetter(p[$0]) }),
               let m = monthNumber(p[a] | 0x20, p[a + 1] | 0x20, p[a + 2] | 0x20) { month = m; continue }
            if time == nil, (a..<b).contains(where: { p[$0] == 0x3A }) {
                var nums: [Int] = []
                var partStart = a, index = 0
                for k in a...b where k == b || p[k] == 0x3A {
                    defer { partStart = k + 1 }
                    guard k > partStart else { continue }   // empty parts are skipped, as split does
                    if index == 2, !(partStart..<k).allSatisfy({ isDigit(p[$0]) }) { return .notRead }   // a fraction
                    guard let v = integer(partStart, k) else { return .notRead }
                    if let v { nums.append(v) }
                    index += 1
                }
                if nums.count >= 2 { time = nums }
                continue
            }
            if b - a == 5, first == 0x2B || first == 0x2D {
                guard let v = integer(a + 1, b) else { return .notRead }
                if let v {
                    offset = (first == 0x2D ? -1 : 1) * ((v / 100) * 60 + v % 100)
                    continue
                }
            }
            if wordLike, b - a <= 4 {
                if let z = zoneNames[ByteText.asciiLowercased(UnsafeBufferPointer(rebasing: p[a..<b]))] { offset = z; continue }
            }
            guard let parsed = integer(a, b) else { return .notRead }
            if let v = parsed {
                if day == nil && v <= 31 && b - a <= 2 { day = v } else if year == nil { year = v < 50 ? 2000 + v : (v < 100 ? 1900 + v : v) }
            }
        }
        guard let d = day, let m = month, let y = year else { return .read(nil) }
        let tm = time ?? [0, 0, 0]
        return .read(instant(year: y, month: m, day: d, hour: tm[0], minute: tm.count > 1 ? tm[1] : 0, second: tm.count > 2 ? tm[2] : 0,
                             fraction: 0, offsetMinutes: offset))
    }

    /// The number of the month whose name starts with these three lower-case letters, or nil (from `months`).
    static func monthNumber(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        monthsByLetters[UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)]
    }
    private static let monthsByLetters: [UInt32: Int] = Dictionary(uniqueKeysWithValues: months.map { name, number in
        (name.utf8.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }, number)
    })

    /// The RFC 5322 reading, token by token, for any text.
    static func parseRFC5322Tokens(_ value: String) -> Date? {
        // tokens split at spaces, tabs and commas among the UTF-8 bytes, up to a `(` comment
        var tokens: [String] = []
        var bytes = Array(value.utf8)
        if let paren = bytes.firstIndex(of: 0x28) { bytes.removeSubrange(paren...) }
        var start = 0
        for k in 0...bytes.count where k == bytes.count || bytes[k] == 0x20 || bytes[k] == 0x09 || bytes[k] == 0x2C {
            if k > start { tokens.append(String(decoding: bytes[start..<k], as: UTF8.self)) }
            start = k + 1
        }
        var day: Int?, month: Int?, year: Int?, time: [Int]?, offset = 0
        var fraction = 0.0
        for t in tokens {
            // a month or zone name is letters: a token starting with a digit or sign is not lower-cased (most are)
            let first = t.utf8.first ?? 0
            let lower = (first &- 0x30) < 10 || first == 0x2B || first == 0x2D ? "" : t.lowercased()
            if month == nil, lower.count >= 3, let m = months[String(lower.prefix(3))], lower.allSatisfy({ $0.isLetter }) { month = m; continue }
            if time == nil && t.utf8.contains(0x3A) {
                let parts = t.utf8.split(separator: 0x3A).map { Substring($0) }
                var nums: [Int] = []
                for (k, p) in parts.enumerated() {
                    if k == 2, let d = Double(p) {
                        // seconds out of range make no date (and "inf" or "1e300" must not reach Int(_:), which traps)
                        guard d.isFinite, abs(d) < 1e9 else { return nil }
                        nums.append(Int(d)); fraction = d - Double(Int(d))
                    } else if let v = Int(p) { nums.append(v) }
                }
                if nums.count >= 2 { time = nums }
                continue
            }
            if (t.hasPrefix("+") || t.hasPrefix("-")), t.count == 5, let v = Int(t.dropFirst()) {
                let sign = t.hasPrefix("-") ? -1 : 1
                offset = sign * ((v / 100) * 60 + v % 100)
                continue
            }
            if let z = zoneNames[lower] { offset = z; continue }
            if let v = Int(t) {
                if day == nil && v <= 31 && t.count <= 2 { day = v } else if year == nil { year = v < 50 ? 2000 + v : (v < 100 ? 1900 + v : v) }
            }
        }
        guard let d = day, let m = month, let y = year else { return nil }
        let tm = time ?? [0, 0, 0]
        return instant(year: y, month: m, day: d, hour: tm[0], minute: tm.count > 1 ? tm[1] : 0, second: tm.count > 2 ? tm[2] : 0, fraction: fraction, offsetMinutes: offset)
    }

    /// ISO-like timestamps: `2020-07-30 10:53:06.971000+00:00`, `2020-07-30T10:53:06Z`, `2020/7/30 10:53`.
    /// A timestamp without an offset is read in `defaultOffsetMinutes` (UTC unless told otherwise).
    public static func parseISOLike(_ value: String, defaultOffsetMinutes: Int = 0) -> Date? {
        let s = value.trimmingSpaces()
        let chars = Array(s.utf8)
        var i = 0
        func number(maxDigits: Int = 10) -> Int? {
            var v = 0, n = 0
            while i < chars.count, n < maxDigits, chars[i] >= 0x30, chars[i] <= 0x39 { v = v * 10 + Int(chars[i] - 0x30); i += 1; n += 1 }
            return n > 0 ? v : nil
        }
        func skip(_ set: Set<UInt8>) -> Bool { if i < chars.count, set.contains(chars[i]) { i += 1; return true }; return false }
        guard let y = number(maxDigits: 4), y > 1900, skip([0x2D, 0x2F]), let mo = number(maxDigits: 2), skip([0x2D, 0x2F]), let d = number(maxDigits: 2) else { return nil }
        var h = 0, mi = 0, se = 0, frac = 0.0, offset = defaultOffsetMinutes
        if skip([0x20, 0x54, 0x74]) {
            while skip([0x20]) {}
            guard let hh = number(maxDigits: 2), skip([0x3A]), let mm = number(maxDigits: 2) else { return nil }
            h = hh; mi = mm
            if skip([0x3A]), let ss = number(maxDigits: 2) { se = ss }
            if skip([0x2E, 0x2C]) {
                let fs = i
                _ = number(maxDigits: 9)
                if let f = Double("0." + String(decoding: chars[fs..<i], as: UTF8.self)) { frac = f }
            }
            while skip([0x20]) {}
            if i < chars.count {
                if chars[i] == 0x5A || chars[i] == 0x7A { offset = 0 }
                else if chars[i] == 0x2B || chars[i] == 0x2D {
                    let sign = chars[i] == 0x2D ? -1 : 1
                    i += 1
                    let oh = number(maxDigits: 2) ?? 0
                    _ = skip([0x3A])
                    let om = number(maxDigits: 2) ?? 0
                    offset = sign * (oh * 60 + om)
                }
            }
        }
        return instant(year: y, month: mo, day: d, hour: h, minute: mi, second: se, fraction: frac, offsetMinutes: offset)
    }

    /// asctime form of an mbox `From ` line: `Mon Aug 17 14:53:31 2020`.
    public static func parseAsctime(_ value: String) -> Date? {
        let t = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let mIdx = t.firstIndex(where: { months[String($0.lowercased().prefix(3))] != nil && $0.count == 3 }), mIdx + 3 < t.count,
              let m = months[t[mIdx].lowercased()], let d = Int(t[mIdx + 1]) else { return nil }
        let parts = t[mIdx + 2].split(separator: ":").compactMap { Int($0) }
        guard parts.count >= 2, let y = Int(t[mIdx + 3]) else { return nil }
        return instant(year: y, month: m, day: d, hour: parts[0], minute: parts[1], second: parts.count > 2 ? parts[2] : 0, fraction: 0, offsetMinutes: 0)
    }

    /// Any of the forms above, tried in order.
    public static func parse(_ value: String) -> Date? {
        parseISOLike(value) ?? parseRFC5322(value) ?? parseAsctime(value)
    }

    /// `2020-07-30T10:53:06.971Z`: the form casekb prints, with milliseconds, always UTC.
    public static func iso(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let secs = Int(ms.quotientAndRemainder(dividingBy: 1000).quotient) - (ms < 0 && ms % 1000 != 0 ? 1 : 0)
        let milli = Int(ms - Int64(secs) * 1000)
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        // civil from days
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func p(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem % 3600 / 60, 2)):\(p(rem % 60, 2)).\(p(milli, 3))Z"
    }
}
