import Foundation

/// Text prepared once for `ScalarRegex`: its Unicode scalars, their case-folded forms, their character classes
/// (`\w`, `\s`, `\d`) and the UTF-8 offset of each scalar. One text is matched against many patterns (an advice
/// sentence against every action of `recommendation-actions.txt`), so this work is done once, not per pattern.
struct ScalarText {
    let scalars: [UInt32]
    let folded: [UInt32]
    let classes: [UInt8]
    /// UTF-8 offset of each scalar from the start of the text, plus the text's length at the end.
    let utf8Offsets: [Int]
    let utf8: [UInt8]

    static let word: UInt8 = 1, space: UInt8 = 2, digit: UInt8 = 4, lineBreak: UInt8 = 8

    init(_ string: String) {
        let bytes = Array(string.utf8)
        self.init(utf8: bytes, 0, bytes.count)
    }

    /// The scalars of the (valid) UTF-8 bytes `start..<end` of `bytes`.
    init(utf8 bytes: [UInt8], _ start: Int, _ end: Int) {
        var scalars: [UInt32] = [], folded: [UInt32] = [], classes: [UInt8] = [], offsets: [Int] = []
        let n = end - start
        scalars.reserveCapacity(n); folded.reserveCapacity(n); classes.reserveCapacity(n); offsets.reserveCapacity(n + 1)
        bytes.withUnsafeBufferPointer { b in
            var i = start
            while i < end {
                let c = b[i]
                var v: UInt32
                var w = 1
                if c < 0x80 { v = UInt32(c) }
                else if c < 0xE0, i + 1 < end { v = UInt32(c & 0x1F) << 6 | UInt32(b[i + 1] & 0x3F); w = 2 }
                else if c < 0xF0, i + 2 < end { v = UInt32(c & 0x0F) << 12 | UInt32(b[i + 1] & 0x3F) << 6 | UInt32(b[i + 2] & 0x3F); w = 3 }
                else if i + 3 < end { v = UInt32(c & 0x07) << 18 | UInt32(b[i + 1] & 0x3F) << 12 | UInt32(b[i + 2] & 0x3F) << 6 | UInt32(b[i + 3] & 0x3F); w = 4 }
                else { v = 0xFFFD }
                offsets.append(i - start)
                scalars.append(v)
                if v < 0x80 {
                    folded.append(v &- 0x41 < 26 ? v | 0x20 : v)
                    classes.append(Self.asciiClasses[Int(v)])
                } else {
                    let (f, k) = Self.foldAndClass(v)
                    folded.append(f)
                    classes.append(k)
                }
                i += w
            }
        }
        offsets.append(n)
        self.scalars = scalars; self.folded = folded; self.classes = classes; self.utf8Offsets = offsets
        self.utf8 = Array(bytes[start..<end])
    }

    var count: Int { scalars.count }

    /// The text of scalars `range`.
    func string(_ range: Range<Int>) -> String {
        String(decoding: utf8[utf8Offsets[range.lowerBound]..<utf8Offsets[range.upperBound]], as: UTF8.self)
    }

    static let asciiClasses: [UInt8] = (0..<128).map { c -> UInt8 in
        switch c {
        case 0x30...0x39: return word | digit
        case 0x41...0x5A, 0x61...0x7A, 0x5F: return word
        case 0x09, 0x0C, 0x20: return space
        case 0x0A, 0x0D: return space | lineBreak
        case 0x0B: return lineBreak
        default: return 0
        }
    }

    /// ICU's case folding (simple) and classes: `\w` = alphabetic, marks, decimal digits, connector punctuation,
    /// ZWNJ/ZWJ; `\s` = tab, line feed, form feed, carriage return and separators (Z*); `\d` = decimal digits.
    static func foldAndClass(_ v: UInt32) -> (UInt32, UInt8) {
        // the common ranges of Chinese mail without a property lookup
        switch v {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x3005...0x3007: return (v, word)   // ideographs, 々〆〇
        case 0x3000: return (v, space)                                               // ideographic space
        case 0x3001...0x3004, 0x3008...0x3020: return (v, 0)                         // 、。〈〉《》「」【】…
        case 0xFF21...0xFF3A: return (v + 0x20, word)                                // full-width A–Z
        case 0xFF41...0xFF5A: return (v, word)                                       // full-width a–z
        case 0xFF10...0xFF19: return (v, word | digit)                               // full-width digits
        case 0xFF01...0xFF0F, 0xFF1A...0xFF20, 0xFF3B...0xFF3E, 0xFF40, 0xFF5B...0xFF65: return (v, 0)   // ，：；（）！？…
        case 0x2010...0x2027, 0x2030...0x203E, 0x2041...0x2053, 0x2055...0x205E: return (v, 0)   // dashes, quotes, …
        default: return foldAndClassByProperties(v)
        }
    }

    /// `foldAndClass` from the Unicode properties (the fast ranges above are checked against this by a test).
    static func foldAndClassByProperties(_ v: UInt32) -> (UInt32, UInt8) {
        guard let s = Unicode.Scalar(v) else { return (v, 0) }
        let p = s.properties
        var k: UInt8 = 0
        switch p.generalCategory {
        case .spaceSeparator: k = space
        case .lineSeparator, .paragraphSeparator: k = space | lineBreak
        case .decimalNumber: k = word | digit
        case .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: k = word
        default: if p.isAlphabetic || v == 0x200C || v == 0x200D { k = word }
        }
        if v == 0x85 { k |= lineBreak }
        var f = v
        if p.changesWhenCaseFolded, let l = p.lowercaseMapping.unicodeScalars.first, p.lowercaseMapping.unicodeScalars.count == 1 { f = l.value }
        return (f, k)
    }
}

/// One match of a `ScalarRegex`: the scalar ranges of the whole match (group 0) and of each capture group (nil where
/// the group did not take part).
struct ScalarMatch: Equatable {
    var groups: [Range<Int>?]
    var range: Range<Int> { groups[0] ?? 0..<0 }
}

/// A regular expression for the extraction hot paths: patterns in the common subset of ICU syntax (literals, `.`,
/// `\s \S \w \W \d \D \b \B`, classes with ranges, capturing and `(?:…)` groups, `|`, greedy and lazy `? * + {m,n}`,
/// `^ $`, a leading `(?i)`, and lookarounds of fixed-length alternatives such as `(?<![0-9])` or `(?<=tel|phone)`)
/// run on a small backtracking machine over pre-decoded scalars, which answers the same leftmost-first matches as ICU
/// without NSRegularExpression's per-call cost (bridging the text to UTF-16, result objects) — that cost was a fifth
/// of extraction time. Anything outside the subset, or a match that takes too many steps, is
/// answered by NSRegularExpression itself; a test checks both engines agree on every data-file pattern.
final class ScalarRegex: @unchecked Sendable {
    let pattern: String
    let caseInsensitive: Bool
    /// The ICU expression: the validity check at load, and the engine for what the machine does not run.
    let icu: NSRegularExpression
    let program: Program?

    init(_ pattern: String, caseInsensitive: Bool = false) throws {
        self.pattern = pattern
        self.caseInsensitive = caseInsensitive
        icu = try NSRegularExpression(pattern: pattern, options: caseInsensitive ? [.caseInsensitive] : [])
        var parser = Parser(chars: Array(pattern.unicodeScalars), caseInsensitive: caseInsensitive)
        if let node = parser.parse(), parser.groups == icu.numberOfCaptureGroups {
            program = Program(node, groups: parser.groups, caseInsensitive: parser.caseInsensitive, classes: parser.classes, looks: parser.looks)
        } else {
            program = nil
        }
    }

    /// Whether the fast machine runs this pattern (else every call goes to ICU).
    var isCompiled: Bool { program != nil }

    /// All non-overlapping matches, leftmost first, as NSRegularExpression's `matches(in:)` finds them.
    func matches(in text: ScalarText) -> [ScalarMatch] {
        if let program, let found = program.matches(text, first: false) { return found }
        return icuMatches(text, first: false)
    }

    func firstMatch(in text: ScalarText) -> ScalarMatch? {
        if let program, let found = program.matches(text, first: true) { return found.first }
        return icuMatches(text, first: true).first
    }

    /// NSRegularExpression's answer in scalar offsets.
    func icuMatches(_ text: ScalarText, first: Bool) -> [ScalarMatch] {
        let string = String(decoding: text.utf8, as: UTF8.self)
        // UTF-16 offset → scalar offset
        var scalarAt: [Int] = []
        scalarAt.reserveCapacity(text.count * 2 + 1)
        for (k, v) in text.scalars.enumerated() {
            scalarAt.append(k)
            if v > 0xFFFF { scalarAt.append(k) }
        }
        scalarAt.append(text.count)
        let ns = NSRange(location: 0, length: scalarAt.count - 1)
        let results = first ? (icu.firstMatch(in: string, range: ns).map { [$0] } ?? []) : icu.matches(in: string, range: ns)
        return results.map { m in
            ScalarMatch(groups: (0..<m.numberOfRanges).map { g in
                let r = m.range(at: g)
                guard r.location != NSNotFound, r.location + r.length < scalarAt.count else { return nil }
                return scalarAt[r.location]..<scalarAt[r.location + r.length]
            })
        }
    }

    // MARK: parsing

    indirect enum Node {
        case char(UInt32)
        case set(Int)              // index into the parser's classes
        case any
        case wordBoundary(Bool)    // true: \b, false: \B
        case start, end
        case group(Int?, [[Node]]) // capture index (nil: (?:…)), alternatives
        case look(Int)             // index into the parser's lookarounds
        case repeated(Node, min: Int, max: Int, greedy: Bool)

        /// Whether the node can match the empty string.
        var nullable: Bool {
            switch self {
            case .char, .set, .any: return false
            case .wordBoundary, .start, .end, .look: return true
            case .group(_, let alts): return alts.contains { $0.allSatisfy(\.nullable) }
            case .repeated(let inner, let lo, _, _): return lo == 0 || inner.nullable
            }
        }
    }

    /// A character class: ASCII members as a bitmap, others as ranges or by class bits, possibly negated.
    struct CharClass {
        var low: UInt64 = 0, high: UInt64 = 0
        var ranges: [(UInt32, UInt32)] = []
        var bits: UInt8 = 0
        var negated = false

        mutating func add(_ a: UInt32, _ b: UInt32, caseInsensitive: Bool) {
            var v = a
            while v <= b && v < 0x80 {
                addASCII(v)
                if caseInsensitive, (v | 0x20) &- 0x61 < 26 { addASCII(v ^ 0x20) }
                v += 1
            }
            if b >= 0x80 { ranges.append((max(a, 0x80), b)) }
        }
        mutating func addASCII(_ v: UInt32) { if v < 64 { low |= 1 << UInt64(v) } else { high |= 1 << UInt64(v - 64) } }
        mutating func addBits(_ k: UInt8) {
            bits |= k
            for v in 0..<128 where ScalarText.asciiClasses[v] & k != 0 { addASCII(UInt32(v)) }
        }

        @inline(__always) func contains(_ v: UInt32, folded: UInt32, classes: UInt8) -> Bool {
            var hit: Bool
            if v < 64 { hit = low & (1 << UInt64(v)) != 0 }
            else if v < 128 { hit = high & (1 << UInt64(v - 64)) != 0 }
            else {
                hit = classes & bits != 0
                if !hit { for (a, b) in ranges where (v >= a && v <= b) || (folded >= a && folded <= b) { hit = true; break } }
            }
            return hit != negated
        }
    }

    /// A lookaround of fixed-length alternatives (`(?<![0-9A-Za-z])`, `(?<=tel|phone|电话)`, `(?![0-9])`): each
    /// alternative is a sequence of single characters or classes.
    struct Lookaround {
        var ahead: Bool
        var negated: Bool
        /// Per alternative, its atoms: (is a class, scalar or class index).
        var alternatives: [[(Bool, UInt32)]]
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var caseInsensitive: Bool
        var i = 0
        var groups = 0
        var classes: [CharClass] = []
        var looks: [Lookaround] = []

        mutating func parse() -> Node? {
            // a leading (?i) makes the whole pattern case-insensitive, as ICU reads it
            if chars.count >= 4, chars[0] == "(", chars[1] == "?", chars[2] == "i", chars[3] == ")" { caseInsensitive = true; i = 4 }
            guard let alts = alternatives(), i == chars.count else { return nil }
            return .group(nil, alts)
        }

        mutating func alternatives() -> [[Node]]? {
            var alts: [[Node]] = [[]]
            while i < chars.count {
                let c = chars[i]
                if c == ")" { break }
                if c == "|" { alts.append([]); i += 1; continue }
                guard var node = atom() else { return nil }
                guard let q = quantifier() else { return nil }
                if let (lo, hi, greedy) = q {
                    // a repeated empty match would loop; such patterns stay with ICU
                    if hi > 1, node.nullable { return nil }
                    node = .repeated(node, min: lo, max: hi, greedy: greedy)
                }
                alts[alts.count - 1].append(node)
            }
            return alts
        }

        mutating func number() -> Int? {
            var value = 0, digits = 0
            while i < chars.count, chars[i].value &- 0x30 < 10, digits < 4 { value = value * 10 + Int(chars[i].value - 0x30); i += 1; digits += 1 }
            return digits > 0 ? value : nil
        }

        /// nil: unsupported; .some(nil): no quantifier.
        mutating func quantifier() -> (Int, Int, Bool)?? {
            guard i < chars.count else { return .some(nil) }
            var q: (Int, Int)
            switch chars[i] {
            case "?": q = (0, 1); i += 1
            case "*": q = (0, Int.max); i += 1
            case "+": q = (1, Int.max); i += 1
            case "{":
                i += 1
                guard let lo = number(), i < chars.count else { return nil }
                var hi = lo
                if chars[i] == "," {
                    i += 1
                    hi = number() ?? Int.max
                }
                guard i < chars.count, chars[i] == "}", hi >= lo else { return nil }
                i += 1
                q = (lo, hi)
            default:
                return .some(nil)
            }
            var greedy = true
            if i < chars.count, chars[i] == "?" { greedy = false; i += 1 }
            else if i < chars.count, chars[i] == "+" { return nil }   // possessive
            return .some((q.0, q.1, greedy))
        }

        mutating func newClass(_ c: CharClass) -> Node {
            classes.append(c)
            return .set(classes.count - 1)
        }

        mutating func shorthand(_ e: Unicode.Scalar) -> Node? {
            var c = CharClass()
            switch e {
            case "s", "S": c.addBits(ScalarText.space)
            case "w", "W": c.addBits(ScalarText.word)
            case "d", "D": c.addBits(ScalarText.digit)
            default: return nil
            }
            c.negated = e.properties.isUppercase
            return newClass(c)
        }

        /// A literal escape (`\.`, `\t`, `\u4E00`), or nil.
        mutating func escapedLiteral(_ e: Unicode.Scalar) -> UInt32? {
            switch e {
            case "t": return 0x09
            case "n": return 0x0A
            case "r": return 0x0D
            case "f": return 0x0C
            case "u":
                guard i + 4 <= chars.count else { return nil }
                let hex = String(String.UnicodeScalarView(chars[i..<(i + 4)]))
                guard let v = UInt32(hex, radix: 16) else { return nil }
                i += 4
                return v
            default:
                // escaped punctuation stands for itself; letters and digits are ICU escapes outside the subset
                let v = e.value
                if v < 0x80, ScalarText.asciiClasses[Int(v)] & ScalarText.word != 0 { return nil }
                return v
            }
        }

        func literal(_ v: UInt32) -> Node {
            guard caseInsensitive else { return .char(v) }
            return .char(v < 0x80 ? (v &- 0x41 < 26 ? v | 0x20 : v) : ScalarText.foldAndClass(v).0)
        }

        mutating func atom() -> Node? {
            let c = chars[i]
            switch c {
            case "(":
                i += 1
                var capture: Int? = nil
                if i < chars.count, chars[i] == "?" {
                    guard i + 1 < chars.count else { return nil }
                    switch chars[i + 1] {
                    case ":": i += 2
                    case "=", "!": i += 2; return lookaround(ahead: true, negated: chars[i - 1] == "!")
                    case "<" where i + 2 < chars.count && (chars[i + 2] == "=" || chars[i + 2] == "!"):
                        i += 3
                        return lookaround(ahead: false, negated: chars[i - 1] == "!")
                    default: return nil   // flags, names, atomic groups
                    }
                } else {
                    groups += 1
                    capture = groups
                }
                guard let alts = alternatives(), i < chars.count, chars[i] == ")" else { return nil }
                i += 1
                return .group(capture, alts)
            case "[":
                return charClass()
            case "\\":
                guard i + 1 < chars.count else { return nil }
                let e = chars[i + 1]
                i += 2
                if e == "b" { return .wordBoundary(true) }
                if e == "B" { return .wordBoundary(false) }
                if let n = shorthand(e) { return n }
                return escapedLiteral(e).map(literal)
            case ".": i += 1; return .any
            case "^": i += 1; return .start
            case "$": i += 1; return .end
            case "*", "+", "?", "{", "}", "]", ")": return nil
            default:
                i += 1
                return literal(c.value)
            }
        }

        /// The body of a lookaround (after its `(?<!`-style opening): fixed-length alternatives only.
        mutating func lookaround(ahead: Bool, negated: Bool) -> Node? {
            guard let alts = alternatives(), i < chars.count, chars[i] == ")" else { return nil }
            i += 1
            var out: [[(Bool, UInt32)]] = []
            for alt in alts {
                var atoms: [(Bool, UInt32)] = []
                for node in alt {
                    switch node {
                    case .char(let v): atoms.append((false, v))
                    case .set(let k): atoms.append((true, UInt32(k)))
                    default: return nil
                    }
                }
                guard !atoms.isEmpty else { return nil }
                out.append(atoms)
            }
            looks.append(Lookaround(ahead: ahead, negated: negated, alternatives: out))
            return .look(looks.count - 1)
        }

        mutating func charClass() -> Node? {
            i += 1
            var set = CharClass()
            if i < chars.count, chars[i] == "^" { set.negated = true; i += 1 }
            var first = true
            while i < chars.count {
                var c = chars[i]
                if c == "]" && !first { i += 1; return newClass(set) }
                first = false
                if c == "[" { return nil }   // nested classes and set operations
                var lo: UInt32
                if c == "\\" {
                    guard i + 1 < chars.count else { return nil }
                    let e = chars[i + 1]
                    i += 2
                    switch e {
                    case "s": set.addBits(ScalarText.space); continue
                    case "w": set.addBits(ScalarText.word); continue
                    case "d": set.addBits(ScalarText.digit); continue
                    default:
                        guard let v = escapedLiteral(e) else { return nil }
                        lo = v
                    }
                } else {
                    lo = c.value
                    i += 1
                }
                // a range a-z (a '-' before ']' is a literal)
                if i + 1 < chars.count, chars[i] == "-", chars[i + 1] != "]" {
                    i += 1
                    c = chars[i]
                    var hi: UInt32
                    if c == "\\" {
                        guard i + 1 < chars.count else { return nil }
                        let e = chars[i + 1]
                        i += 2
                        guard let v = escapedLiteral(e) else { return nil }
                        hi = v
                    } else if c == "[" {
                        return nil
                    } else {
                        hi = c.value
                        i += 1
                    }
                    guard hi >= lo else { return nil }
                    if caseInsensitive, hi >= 0x80 { return nil }   // case-closed non-ASCII ranges stay with ICU
                    set.add(lo, hi, caseInsensitive: caseInsensitive)
                } else {
                    set.add(lo, lo, caseInsensitive: caseInsensitive)
                    if caseInsensitive, lo >= 0x80 {
                        let f = ScalarText.foldAndClass(lo).0
                        if f != lo { set.add(f, f, caseInsensitive: false) }
                    }
                }
            }
            return nil
        }
    }

    // MARK: the machine

    struct Program {
        enum Op: UInt8 { case char, set, any, split, jump, save, wordBoundary, notWordBoundary, start, end, look, match }
        struct Instruction { var op: Op; var a: Int32; var b: Int32 }

        var code: [Instruction] = []
        let classes: [CharClass]
        let looks: [Lookaround]
        let slots: Int
        let caseInsensitive: Bool
        /// The scalars a match can start with (folded when case-insensitive), when the pattern says.
        var firstLow: UInt64 = 0, firstHigh: UInt64 = 0
        var firstOther: [UInt32] = []
        var firstKnown = false
        /// The first two scalars a match can start with, hashed into 4,096 bits, when every start is two literals.
        var pairBits: [UInt64] = []
        var pairKnown = false
        @inline(__always) static func pairHash(_ a: UInt32, _ b: UInt32) -> Int { Int((a &* 0x9E37 ^ b &* 0x85EB) & 4095) }

        /// Expanded copies of `{m,n}` beyond this make the program too large; such patterns stay with ICU.
        static let maxInstructions = 4000
        /// Backtracking steps one call may take before the call is handed to ICU (a guard against patterns that
        /// backtrack exponentially).
        static let stepBudget = 200_000

        init?(_ node: Node, groups: Int, caseInsensitive: Bool, classes: [CharClass], looks: [Lookaround]) {
            self.classes = classes
            self.looks = looks
            slots = 2 * (groups + 1)
            self.caseInsensitive = caseInsensitive
            code.append(Instruction(op: .save, a: 0, b: 0))
            guard emit(node) else { return nil }
            code.append(Instruction(op: .save, a: 1, b: 0))
            code.append(Instruction(op: .match, a: 0, b: 0))
            computeFirst()
        }

        mutating func emit(_ node: Node) -> Bool {
            guard code.count < Self.maxInstructions else { return false }
            switch node {
            case .char(let v): code.append(Instruction(op: .char, a: Int32(bitPattern: v), b: 0))
            case .set(let k): code.append(Instruction(op: .set, a: Int32(k), b: 0))
            case .any: code.append(Instruction(op: .any, a: 0, b: 0))
            case .wordBoundary(let yes): code.append(Instruction(op: yes ? .wordBoundary : .notWordBoundary, a: 0, b: 0))
            case .start: code.append(Instruction(op: .start, a: 0, b: 0))
            case .end: code.append(Instruction(op: .end, a: 0, b: 0))
            case .look(let k): code.append(Instruction(op: .look, a: Int32(k), b: 0))
            case .group(let capture, let alts):
                if let capture { code.append(Instruction(op: .save, a: Int32(2 * capture), b: 0)) }
                var jumps: [Int] = []
                for (k, alt) in alts.enumerated() {
                    var split = -1
                    if k < alts.count - 1 {
                        split = code.count
                        code.append(Instruction(op: .split, a: Int32(code.count + 1), b: 0))
                    }
                    for n in alt { guard emit(n) else { return false } }
                    if k < alts.count - 1 {
                        jumps.append(code.count)
                        code.append(Instruction(op: .jump, a: 0, b: 0))
                        code[split].b = Int32(code.count)
                    }
                }
                for j in jumps { code[j].a = Int32(code.count) }
                if let capture { code.append(Instruction(op: .save, a: Int32(2 * capture + 1), b: 0)) }
            case .repeated(let inner, let lo, let hi, let greedy):
                for _ in 0..<lo { guard emit(inner) else { return false } }
                if hi == Int.max {
                    // L: split body, out; body; jump L
                    let split = code.count
                    code.append(Instruction(op: .split, a: 0, b: 0))
                    guard emit(inner) else { return false }
                    code.append(Instruction(op: .jump, a: Int32(split), b: 0))
                    setSplit(split, body: split + 1, out: code.count, greedy: greedy)
                } else if hi > lo {
                    // nested optionals: split body, out; body; split body, out; body; … out:
                    var splits: [Int] = []
                    for _ in lo..<hi {
                        splits.append(code.count)
                        code.append(Instruction(op: .split, a: 0, b: 0))
                        guard emit(inner) else { return false }
                    }
                    for s in splits { setSplit(s, body: s + 1, out: code.count, greedy: greedy) }
                }
            }
            return code.count < Self.maxInstructions
        }

        mutating func setSplit(_ at: Int, body: Int, out: Int, greedy: Bool) {
            code[at].a = Int32(greedy ? body : out)
            code[at].b = Int32(greedy ? out : body)
        }

        /// The literal scalars that can come first from `pc` on (each with the instruction after it), following
        /// splits, jumps, saves and zero-width assertions; nil when something other than a literal can.
        func literalsFrom(_ pc: Int) -> [(UInt32, Int)]? {
            var seen = Set<Int>(), todo = [pc], out: [(UInt32, Int)] = []
            while let pc = todo.popLast() {
                guard seen.insert(pc).inserted else { continue }
                let ins = code[pc]
                switch ins.op {
                case .char: out.append((UInt32(bitPattern: ins.a), pc + 1))
                case .split: todo.append(Int(ins.a)); todo.append(Int(ins.b))
                case .jump: todo.append(Int(ins.a))
                case .save, .wordBoundary, .notWordBoundary, .start, .look: todo.append(pc + 1)
                case .set, .any, .end, .match: return nil
                }
            }
            return out
        }

        /// The scalars a match may begin with (`firstLow`/`firstHigh`/`firstOther`) and, when every start is two
        /// literals, the pairs it may begin with (`pairBits`).
        mutating func computeFirst() {
            guard let firsts = literalsFrom(0) else { return }   // anything may start a match
            for (v, _) in firsts {
                if v < 64 { firstLow |= 1 << UInt64(v) } else if v < 128 { firstHigh |= 1 << UInt64(v - 64) } else { firstOther.append(v) }
            }
            firstKnown = true
            var bits = [UInt64](repeating: 0, count: 64)
            for (a, next) in firsts {
                guard let seconds = literalsFrom(next) else { return }
                for (b, _) in seconds { let h = Self.pairHash(a, b); bits[h >> 6] |= 1 << UInt64(h & 63) }
            }
            pairBits = bits
            pairKnown = true
        }

        /// Matches from left to right; nil when a call ran out of steps (the caller asks ICU instead).
        func matches(_ text: ScalarText, first: Bool) -> [ScalarMatch]? {
            var out: [ScalarMatch] = []
            var machine = Machine(slots: slots)
            defer { machine.release() }
            var budget = Self.stepBudget
            let n = text.count
            let ok: Bool = text.scalars.withUnsafeBufferPointer { scalars in
            text.folded.withUnsafeBufferPointer { folded in
            text.classes.withUnsafeBufferPointer { kinds in
            classes.withUnsafeBufferPointer { sets in
            code.withUnsafeBufferPointer { code in
            firstOther.withUnsafeBufferPointer { firstOther in
            pairBits.withUnsafeBufferPointer { pairBits in
                let subject = caseInsensitive ? folded : scalars
                var start = 0
                while start <= n {
                    if firstKnown {
                        // skip to the next position a match can begin at (its first scalar, then its first two)
                        while start < n {
                            let v = subject[start]
                            var may = false
                            if v < 64 { may = firstLow & (1 << UInt64(v)) != 0 }
                            else if v < 128 { may = firstHigh & (1 << UInt64(v - 64)) != 0 }
                            else { may = firstOther.contains(v) }
                            if may, pairKnown {
                                if start + 1 < n {
                                    let h = Self.pairHash(v, subject[start + 1])
                                    may = pairBits[h >> 6] & (1 << UInt64(h & 63)) != 0
                                } else {
                                    may = false
                                }
                            }
                            if may { break }
                            start += 1
                        }
                        if start == n { break }
                    }
                    switch machine.run(code, sets, looks, subject, scalars, folded, kinds, n, start, &budget) {
                    case .some(true):
                        let caps = machine.caps
                        out.append(ScalarMatch(groups: (0..<(slots / 2)).map { g in
                            caps[2 * g] >= 0 && caps[2 * g + 1] >= caps[2 * g] ? caps[2 * g]..<caps[2 * g + 1] : nil
                        }))
                        if first { return true }
                        start = caps[1] > start ? caps[1] : start + 1
                    case .some(false):
                        start += 1
                    case .none:
                        return false
                    }
                }
                return true
            }}}}}}}
            return ok ? out : nil
        }
    }

    /// The backtracking machine's memory for one call: capture slots and a stack of branch points (pc, position)
    /// and capture restores (slot, old value), as raw buffers (the loop runs millions of steps per second).
    struct Machine {
        var caps: UnsafeMutablePointer<Int>
        let slots: Int
        var stack: UnsafeMutablePointer<Int>
        var capacity = 192

        init(slots: Int) {
            self.slots = slots
            caps = .allocate(capacity: slots)
            stack = .allocate(capacity: capacity)
        }

        func release() { caps.deallocate(); stack.deallocate() }

        /// One match attempt at `start`: true (captures in `caps`), false, or nil when out of steps.
        @inline(__always)
        mutating func run(_ code: UnsafeBufferPointer<Program.Instruction>, _ sets: UnsafeBufferPointer<CharClass>, _ looks: [Lookaround],
                          _ subject: UnsafeBufferPointer<UInt32>,
                          _ scalars: UnsafeBufferPointer<UInt32>, _ folded: UnsafeBufferPointer<UInt32>, _ kinds: UnsafeBufferPointer<UInt8>,
                          _ n: Int, _ start: Int, _ budget: inout Int) -> Bool? {
            for k in 0..<slots { caps[k] = -1 }
            var top = 0
            var pc = 0, sp = start
            var steps = budget
            defer { budget = steps }
            while true {
                steps -= 1
                if steps < 0 { return nil }
                let ins = code[pc]
                var fail = false
                switch ins.op {
                case .char:
                    if sp < n, subject[sp] == UInt32(bitPattern: ins.a) { pc += 1; sp += 1 } else { fail = true }
                case .set:
                    if sp < n, sets[Int(ins.a)].contains(scalars[sp], folded: folded[sp], classes: kinds[sp]) { pc += 1; sp += 1 } else { fail = true }
                case .any:
                    if sp < n, kinds[sp] & ScalarText.lineBreak == 0 { pc += 1; sp += 1 } else { fail = true }
                case .split:
                    if top + 3 > capacity { grow() }
                    stack[top] = Int(ins.b); stack[top + 1] = sp; stack[top + 2] = -1
                    top += 3
                    pc = Int(ins.a)
                case .jump:
                    pc = Int(ins.a)
                case .save:
                    if top + 3 > capacity { grow() }
                    let slot = Int(ins.a)
                    stack[top] = slot; stack[top + 1] = caps[slot]; stack[top + 2] = -2
                    top += 3
                    caps[slot] = sp
                    pc += 1
                case .wordBoundary, .notWordBoundary:
                    let before = sp > 0 && kinds[sp - 1] & ScalarText.word != 0
                    let after = sp < n && kinds[sp] & ScalarText.word != 0
                    if (before != after) == (ins.op == .wordBoundary) { pc += 1 } else { fail = true }
                case .start:
                    if sp == 0 { pc += 1 } else { fail = true }
                case .end:
                    // end of input, or before a final line break
                    if sp == n || (sp == n - 1 && kinds[sp] & ScalarText.lineBreak != 0)
                        || (sp == n - 2 && scalars[sp] == 0x0D && scalars[sp + 1] == 0x0A) { pc += 1 } else { fail = true }
                case .look:
                    let look = looks[Int(ins.a)]
                    var found = false
                    for alt in look.alternatives {
                        let from = look.ahead ? sp : sp - alt.count
                        guard from >= 0, from + alt.count <= n else { continue }
                        var k = 0
                        while k < alt.count {
                            let (isSet, v) = alt[k], at = from + k
                            let ok = isSet ? sets[Int(v)].contains(scalars[at], folded: folded[at], classes: kinds[at]) : subject[at] == v
                            if !ok { break }
                            k += 1
                        }
                        if k == alt.count { found = true; break }
                    }
                    if found != look.negated { pc += 1 } else { fail = true }
                case .match:
                    return true
                }
                if fail {
                    // back to the most recent branch, undoing captures on the way
                    while true {
                        if top == 0 { return false }
                        top -= 3
                        if stack[top + 2] == -2 { caps[stack[top]] = stack[top + 1]; continue }
                        pc = stack[top]; sp = stack[top + 1]
                        break
                    }
                }
            }
        }

        mutating func grow() {
            let bigger = UnsafeMutablePointer<Int>.allocate(capacity: capacity * 2)
            bigger.update(from: stack, count: capacity)
            stack.deallocate()
            stack = bigger
            capacity *= 2
        }
    }
}

extension ScalarRegex {
    /// Whether the pattern matches anywhere in `s`.
    func matches(_ s: String) -> Bool { firstMatch(in: ScalarText(s)) != nil }

    /// The text of every match.
    func allMatchTexts(in s: String) -> [String] {
        let text = ScalarText(s)
        return matches(in: text).map { text.string($0.range) }
    }
}
