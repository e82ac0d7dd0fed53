/// A small backtracking matcher for the subset of regular-expression syntax the data files use (literals, `\s \w \d
/// \b`, classes such as `[^，。；,;]` and `[\w.\-]`, groups with `|`, and `? * + {m,n}`), case-insensitive for ASCII.
/// It answers the same leftmost match as ICU for these patterns without NSRegularExpression's per-call cost (bridging
/// the text to UTF-16 and back), which was a fifth of extraction time. `compile` returns nil for anything outside
/// the subset, and the caller keeps using NSRegularExpression for that pattern; a test checks both agree.
struct SmallRegex: Sendable {
    indirect enum Node: Sendable {
        case literal(Unicode.Scalar)
        case set(CharSet)
        case wordBoundary
        case group([[Node]])                       // alternatives
        case repeated(Node, min: Int, max: Int)     // greedy
    }

    struct CharSet: Sendable {
        var negated = false
        var scalars: Set<UInt32> = []
        var word = false, space = false, digit = false

        func contains(_ s: Unicode.Scalar) -> Bool {
            var hit = scalars.contains(SmallRegex.fold(s).value)
            if !hit, word { hit = SmallRegex.isWord(s) }
            if !hit, space { hit = s.properties.isWhitespace }
            if !hit, digit { hit = s.properties.numericType == .decimal }
            return hit != negated
        }
    }

    let alternatives: [[Node]]

    // MARK: compiling

    static func compile(_ pattern: String) -> SmallRegex? {
        var p = Parser(chars: Array(pattern.unicodeScalars))
        guard let alts = p.alternatives(), p.i == p.chars.count else { return nil }
        return SmallRegex(alternatives: alts)
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0

        mutating func alternatives() -> [[Node]]? {
            var alts: [[Node]] = [[]]
            while i < chars.count {
                let c = chars[i]
                if c == ")" { break }
                if c == "|" { alts.append([]); i += 1; continue }
                guard var atom = atom() else { return nil }
                guard let q = quantifier() else { return nil }
                if let q { atom = .repeated(atom, min: q.0, max: q.1) }
                alts[alts.count - 1].append(atom)
            }
            return alts
        }

        /// nil: unsupported; .some(nil): no quantifier.
        mutating func quantifier() -> (Int, Int)?? {
            guard i < chars.count else { return .some(nil) }
            var q: (Int, Int)
            switch chars[i] {
            case "?": q = (0, 1); i += 1
            case "*": q = (0, Int.max); i += 1
            case "+": q = (1, Int.max); i += 1
            case "{":
                var j = i + 1
                var a = 0, b = -1, digits = 0
                while j < chars.count, let d = chars[j].properties.numericType == .decimal ? Int(String(chars[j])) : nil { a = a * 10 + d; j += 1; digits += 1 }
                guard digits > 0, j < chars.count else { return nil }
                if chars[j] == "," {
                    j += 1
                    var bd = 0, bv = 0
                    while j < chars.count, let d = chars[j].properties.numericType == .decimal ? Int(String(chars[j])) : nil { bv = bv * 10 + d; j += 1; bd += 1 }
                    b = bd > 0 ? bv : Int.max
                } else { b = a }
                guard j < chars.count, chars[j] == "}" else { return nil }
                i = j + 1
                q = (a, b)
            default:
                return .some(nil)
            }
            // lazy or possessive quantifiers are outside the subset
            if i < chars.count, chars[i] == "?" || chars[i] == "+" { return nil }
            return .some(q)
        }

        mutating func atom() -> Node? {
            let c = chars[i]
            switch c {
            case "(":
                i += 1
                if i + 1 < chars.count, chars[i] == "?" {
                    guard chars[i + 1] == ":" else { return nil }   // lookarounds, flags: unsupported
                    i += 2
                }
                guard let alts = alternatives(), i < chars.count, chars[i] == ")" else { return nil }
                i += 1
                return .group(alts)
            case "[":
                return charClass()
            case "\\":
                guard i + 1 < chars.count else { return nil }
                let e = chars[i + 1]
                i += 2
                switch e {
                case "s": var s = CharSet(); s.space = true; return .set(s)
                case "w": var s = CharSet(); s.word = true; return .set(s)
                case "d": var s = CharSet(); s.digit = true; return .set(s)
                case "b": return .wordBoundary
                case ".", "-", "\\", "(", ")", "[", "]", "{", "}", "*", "+", "?", "|", "/", ":", "#", " ": return .literal(e)
                default: return nil
                }
            case ".", "^", "$", "*", "+", "?", "{", "}", "]":
                return nil
            default:
                i += 1
                return .literal(c)
            }
        }

        mutating func charClass() -> Node? {
            i += 1
            var s = CharSet()
            if i < chars.count, chars[i] == "^" { s.negated = true; i += 1 }
            var first = true
            while i < chars.count {
                let c = chars[i]
                if c == "]" && !first { i += 1; return .set(s) }
                first = false
                if c == "\\" {
                    guard i + 1 < chars.count else { return nil }
                    let e = chars[i + 1]
                    i += 2
                    switch e {
                    case "s": s.space = true
                    case "w": s.word = true
                    case "d": s.digit = true
                    case ".", "-", "\\", "(", ")", "[", "]", "/", ":", "#", " ", "+", "*", "?", "|", "{", "}": s.scalars.insert(SmallRegex.fold(e).value)
                    default: return nil
                    }
                    continue
                }
                // ranges (a-z) and nested classes are outside the subset; a '-' first or last is a literal
                if c == "-", i + 1 < chars.count, chars[i + 1] != "]", !s.scalars.isEmpty || s.word || s.space || s.digit { return nil }
                if c == "[" { return nil }
                s.scalars.insert(SmallRegex.fold(c).value)
                i += 1
            }
            return nil
        }
    }

    // MARK: matching

    @inline(__always) static func fold(_ s: Unicode.Scalar) -> Unicode.Scalar {
        s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(s.value | 0x20) ?? s : s
    }

    /// ICU's \w: alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ.
    static func isWord(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 { return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F }
        if v == 0x200C || v == 0x200D { return true }
        let p = s.properties
        if p.isAlphabetic || p.numericType == .decimal { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Leftmost matches, non-overlapping, as scalar offset ranges of `text`.
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start <= text.count {
            if let end = matchAt(text, start) {
                out.append(start..<end)
                start = end > start ? end : start + 1
            } else {
                start += 1
            }
        }
        return out
    }

    func matchAt(_ t: [Unicode.Scalar], _ start: Int) -> Int? {
        for alt in alternatives {
            if let e = Self.match(alt, 0, t, start, { $0 }) { return e }
        }
        return nil
    }

    /// Match `seq[k...]` at `pos`, then the continuation; backtracking through greedy repeats and alternatives.
    static func match(_ seq: [Node], _ k: Int, _ t: [Unicode.Scalar], _ pos: Int, _ next: (Int) -> Int?) -> Int? {
        if k == seq.count { return next(pos) }
        return matchNode(seq[k], t, pos) { p in match(seq, k + 1, t, p, next) }
    }

    static func matchNode(_ node: Node, _ t: [Unicode.Scalar], _ pos: Int, _ next: (Int) -> Int?) -> Int? {
        switch node {
        case .literal(let c):
            guard pos < t.count, fold(t[pos]) == fold(c) else { return nil }
            return next(pos + 1)
        case .set(let s):
            guard pos < t.count, s.contains(t[pos]) else { return nil }
            return next(pos + 1)
        case .wordBoundary:
            let before = pos > 0 && isWord(t[pos - 1]), after = pos < t.count && isWord(t[pos])
            return before != after ? next(pos) : nil
        case .group(let alts):
            for alt in alts { if let e = match(alt, 0, t, pos, next) { return e } }
            return nil
        case .repeated(let inner, let lo, let hi):
            return repeatGreedy(inner, lo, hi, 0, t, pos, next)
        }
    }

    static func repeatGreedy(_ inner: Node, _ lo: Int, _ hi: Int, _ count: Int, _ t: [Unicode.Scalar], _ pos: Int, _ next: (Int) -> Int?) -> Int? {
        // one more repetition first (greedy), unless the maximum is reached; an empty repetition stops the loop
        if count < hi, let e = matchNode(inner, t, pos, { p in p == pos ? nil : repeatGreedy(inner, lo, hi, count + 1, t, p, next) }) { return e }
        return count >= lo ? next(pos) : nil
    }
}
