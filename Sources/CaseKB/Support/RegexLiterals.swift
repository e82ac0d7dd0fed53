/// Literals a regular expression needs, read from its pattern: the cheap byte test that decides whether the
/// expression runs at all (data-file patterns for advice actions and case numbers).
enum RegexLiterals {
    /// The literals a pattern cannot match without, as sets of alternatives: `(uninstall|remov)\w*\s+[\w.\-]+\.sys`
    /// → [["uninstall", "remov"], [".sys"]]; `卸载[^，。]{0,12}驱动` → [["卸载"], ["驱动"]]. A sentence is tried against the
    /// pattern only when it holds one literal of every set (the gate is a byte search; the regex runs rarely).
    static func required(_ pattern: String) -> [[String]] {
        let chars = Array(pattern)
        let meta: Set<Character> = ["\\", "[", "]", "(", ")", "{", "}", "*", "+", "?", "|", ".", "^", "$"]
        var sets: [[String]] = []
        var run = ""
        func flush() { if run.count >= 2 { sets.append([run]) }; run = "" }
        /// Whether a quantifier at `k` makes the atom before it optional (?, *, {0,…}); `+` keeps it required.
        func optional(_ k: Int) -> Bool {
            guard k < chars.count else { return false }
            return chars[k] == "?" || chars[k] == "*" || (chars[k] == "{" && k + 1 < chars.count && chars[k + 1] == "0")
        }
        func quantifier(_ k: Int) -> Bool { k < chars.count && (chars[k] == "?" || chars[k] == "*" || chars[k] == "+" || chars[k] == "{") }
        func skipQuantifier(_ k: Int) -> Int {
            var k = k
            if k < chars.count, chars[k] == "{" { while k < chars.count, chars[k] != "}" { k += 1 }; return k + 1 }
            if quantifier(k) { k += 1 }
            if k < chars.count, chars[k] == "?" { k += 1 }   // lazy
            return k
        }
        /// The literal prefix of an alternative (stops at the first non-literal; drops a char made optional).
        func prefix(_ alt: [Character]) -> String {
            var out = ""
            var k = 0
            while k < alt.count {
                var c = alt[k]
                if c == "\\" {
                    guard k + 1 < alt.count, alt[k + 1] == "." || alt[k + 1] == "-" else { break }
                    c = alt[k + 1]; k += 1
                } else if meta.contains(c) { break }
                if optional(k + 1) { break }
                out.append(c)
                if quantifier(k + 1) { break }
                k += 1
            }
            return out
        }
        var k = 0
        var depth0Alternation = false
        while k < chars.count {
            let c = chars[k]
            if c == "|" { depth0Alternation = true; break }
            if c == "\\", k + 1 < chars.count {
                let n = chars[k + 1]
                if n == "." || n == "-" {
                    if optional(k + 2) { flush() } else { run.append(n); if quantifier(k + 2) { flush() } }
                } else { flush() }
                k = skipQuantifier(k + 2)
                continue
            }
            if c == "[" {
                flush()
                k += 1
                while k < chars.count, chars[k] != "]" { if chars[k] == "\\" { k += 1 }; k += 1 }
                k = skipQuantifier(k + 1)
                continue
            }
            if c == "(" {
                flush()
                // the group's top-level alternatives
                var depth = 0, j = k + 1
                var alts: [[Character]] = [[]]
                while j < chars.count {
                    let d = chars[j]
                    if d == "\\", j + 1 < chars.count { alts[alts.count - 1] += [d, chars[j + 1]]; j += 2; continue }
                    if d == "(" { depth += 1 } else if d == ")" { if depth == 0 { break }; depth -= 1 }
                    if d == "|" && depth == 0 { alts.append([]) } else { alts[alts.count - 1].append(d) }
                    j += 1
                }
                if !optional(j + 1) {
                    let prefixes = alts.map(prefix)
                    if prefixes.allSatisfy({ $0.count >= 2 }) { sets.append(prefixes) }
                }
                k = skipQuantifier(j + 1)
                continue
            }
            if meta.contains(c) { flush(); k = skipQuantifier(k + 1); continue }
            if optional(k + 1) { flush(); k = skipQuantifier(k + 1); continue }
            run.append(c)
            if quantifier(k + 1) { flush(); k = skipQuantifier(k + 1); continue }
            k += 1
        }
        if depth0Alternation { return [] }   // a top-level | : no literal is required
        flush()
        return sets
    }
}
