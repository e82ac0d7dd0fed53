import Foundation

/// Advice sentences in Chinese and English, typed by action from `Resources/recommendation-actions.txt`, with the
/// driver, KB or product they name.
struct RecommendationExtractor: @unchecked Sendable {
    struct Cue { var text: String; var bytes: [UInt8]; var ascii: Bool }
    let cues: [Cue]
    /// The cues, found in a sentence in one pass (literal k is cue k).
    let cueLiterals: TriggerSet
    let actions: [(String, ScalarRegex)]
    /// Per pattern: the index of the first pattern of the same action type (one id per action type).
    let actionIDs: [Int]
    /// Per action: the literal sets its pattern needs (lower-case), derived from the pattern (see `requiredLiterals`).
    let gates: [[[[UInt8]]]]
    /// The gate literals, found in a sentence in one pass; `gateIDs` holds the gates as indices into it.
    let gateLiterals: TriggerSet
    let gateIDs: [[[Int]]]

    static let shared: RecommendationExtractor = {
        do { return try RecommendationExtractor() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    static let vendorWord = try! ScalarRegex(#"([A-Za-z][A-Za-z0-9\-]{1,20})\s*(?:厂商|厂家|公司|vendor)|(?:the\s+)([A-Za-z][A-Za-z0-9_\-]{1,20})\s+vendor"#)
    static let versionOf = try! ScalarRegex(#"(?:降级|回退|回滚)\s*([A-Za-z][A-Za-z0-9_\-]{0,20}|[^\s，。的]{1,10})\s*的?(?:版本|软件|客户端)"#)
    static let driverPhrase = try! ScalarRegex(#"(?:升级|更新|降级|回退|回滚|卸载)\s*([^\s，。；,;]{1,12}驱动)"#)
    static let stepMarks: [[UInt8]] = [".", "、", ")", "．"].map { Array($0.utf8) }

    /// A numbered step: `1.`, `2、`, `a)`, `3．` at the start of line `j`.
    static func isStep(_ t: TextLines, _ j: Int) -> Bool {
        let b = t.bytes, end = t.lineEnd(j)
        var k = BugcheckExtractor.skipSpaces(b, t.offsets[j], end)
        guard k < end else { return false }
        if (b[k] &- 0x30) < 10 { k += 1; if k < end, (b[k] &- 0x30) < 10 { k += 1 } }
        else if (b[k] &- 0x61) < 8 { k += 1 }
        else { return false }
        k = BugcheckExtractor.skipSpaces(b, k, end)
        return stepMarks.contains { m in end - k >= m.count && (0..<m.count).allSatisfy { b[k + $0] == m[$0] } }
    }

    init() throws {
        let cueEntries = try DataFile.entries("recommendation-cues.txt")
        if let short = cueEntries.first(where: { $0.value.utf8.count < 2 }) {
            throw DataFile.LoadError.badEntry(file: "recommendation-cues.txt", line: short.line, reason: "a cue must be at least two bytes long")
        }
        cues = cueEntries.map { e in
            Cue(text: e.value.lowercased(), bytes: Array(e.value.lowercased().utf8), ascii: e.value.utf8.allSatisfy { $0 < 0x80 })
        }
        cueLiterals = TriggerSet(cues.map { ($0.text, true, 1) })
        actions = try DataFile.entries("recommendation-actions.txt").map { e in
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DataFile.LoadError.badEntry(file: "recommendation-actions.txt", line: e.line, reason: "expected 'action regex'") }
            do { return (parts[0], try ScalarRegex(parts[1], caseInsensitive: true)) }
            catch { throw DataFile.LoadError.badEntry(file: "recommendation-actions.txt", line: e.line, reason: "invalid pattern") }
        }
        let names = actions.map(\.0)
        actionIDs = names.map { name in names.firstIndex(of: name) ?? 0 }
        gates = actions.map { RegexLiterals.required($0.1.pattern).map { $0.map { Array($0.lowercased().utf8) } } }
        var literalIDs: [[UInt8]: Int] = [:]
        var literals: [(String, Bool, UInt64)] = []
        gateIDs = gates.map { sets in
            sets.map { set in
                set.map { lit in
                    if let id = literalIDs[lit] { return id }
                    literalIDs[lit] = literals.count
                    literals.append((String(decoding: lit, as: UTF8.self), true, 1))
                    return literals.count - 1
                }
            }
        }
        gateLiterals = TriggerSet(literals)
    }

    /// The first ':' or '：' in bytes a..<end, as a byte range.
    static func firstColon(_ b: [UInt8], _ a: Int, _ end: Int) -> (Int, Int)? {
        var k = a
        while k < end {
            if b[k] == 0x3A { return (k, k + 1) }
            if b[k] == 0xEF, k + 2 < end, b[k + 1] == 0xBC, b[k + 2] == 0x9A { return (k, k + 3) }
            k += 1
        }
        return nil
    }

    /// UTF-8 of the sentence ends: 。！？； ! ? ; (and ". ", handled apart).
    static let sentenceEnds: [[UInt8]] = ["。", "！", "？", "；"].map { Array($0.utf8) }

    /// Sentences of line `i` as byte ranges.
    static func sentences(_ t: TextLines, _ i: Int) -> [(Int, Int)] {
        let b = t.bytes, a = t.offsets[i], end = t.lineEnd(i)
        var out: [(Int, Int)] = []
        var start = a
        var k = a
        while k < end {
            let c = b[k]
            var next = -1
            if c == 0x21 || c == 0x3F || c == 0x3B { next = k + 1 }
            else if c == 0x2E, k + 1 < end, b[k + 1] == 0x20 { next = k + 1 }
            else if c == 0xE3 || c == 0xEF, k + 2 < end, sentenceEnds.contains(where: { $0[0] == c && $0[1] == b[k + 1] && $0[2] == b[k + 2] }) { next = k + 3 }
            if next > 0 { out.append((start, next)); start = next; k = next; continue }
            k += 1
        }
        if start < end { out.append((start, end)) }
        return out
    }

    /// Whether the character before byte `k` (not before `a`) is a letter (CJK characters count as letters).
    static func letterBefore(_ b: [UInt8], _ a: Int, _ k: Int) -> Bool {
        guard k > a else { return false }
        var s = k - 1
        if b[s] < 0x80 { return (b[s] | 0x20) &- 0x61 < 26 }
        while s > a, b[s] & 0xC0 == 0x80 { s -= 1 }
        return String(decoding: b[s..<k], as: UTF8.self).unicodeScalars.first?.properties.isAlphabetic ?? false
    }

    static func letterAt(_ b: [UInt8], _ k: Int, _ end: Int) -> Bool {
        guard k < end else { return false }
        if b[k] < 0x80 { return (b[k] | 0x20) &- 0x61 < 26 }
        var e = k + 1
        while e < end, b[e] & 0xC0 == 0x80 { e += 1 }
        return String(decoding: b[k..<e], as: UTF8.self).unicodeScalars.first?.properties.isAlphabetic ?? false
    }

    /// Negations that cancel a cue right before it ("不建议", "do not recommend"), lower-case.
    static let negations: [[UInt8]] = ["不", "无需", "not ", "don't ", "n't "].map { Array($0.utf8) }
    static let looseEnd: Set<String> = ["recommend", "suggest", "advise"]

    /// The byte offset of the first cue in bytes a..<end; a cue right after a negation does not count, nor does an
    /// English cue inside a longer word. Each cue is judged at its first occurrence only.
    func firstCue(_ t: TextLines, _ a: Int, _ end: Int) -> Int? {
        let b = t.bytes
        var best: Int? = nil
        var judged = [Bool](repeating: false, count: cues.count)
        b.withUnsafeBufferPointer { p in
            cueLiterals.scan(p, a, end) { id, at in
                let c = id
                if judged[c] { return false }
                judged[c] = true
                let cue = cues[c]
                if cue.ascii {
                    // whole words only for English cues
                    if Self.letterBefore(b, a, at) { return false }
                    if Self.letterAt(b, at + cue.bytes.count, end), !Self.looseEnd.contains(cue.text) { return false }
                }
                if Self.negations.contains(where: { n in at - a >= n.count && (0..<n.count).allSatisfy { TriggerSet.lower[Int(b[at - n.count + $0])] == n[$0] } }) { return false }
                best = at
                return true
            }
        }
        return best
    }

    func extract(_ t: TextLines) -> [RecommendationFact] {
        var out: [RecommendationFact] = []
        var seen: [(Int, String?)] = []   // (action index, target) of `out`
        var i = 0
        while i < t.count {
            // a cue literal on the line (found in TextLines' single pass)
            guard t.hit(i, Trigger.adviceCue) else { i += 1; continue }
            var consumedTo = i
            let lineEnd = t.lineEnd(i)
            for (sa, sb) in Self.sentences(t, i) {
                guard let cue = firstCue(t, sa, sb) else { continue }
                var text = String(decoding: t.bytes[cue..<sb], as: UTF8.self)
                var startByte = cue
                var endByte = sb
                // a heading: the sentence ends the line, and its first colon is its last character
                let isHeading = sb == lineEnd && Self.firstColon(t.bytes, cue, sb).map { $0.1 == sb } == true
                var j = i + 1
                if isHeading {
                    // "下一步建议：" — the advice is on the following lines
                    var taken = 0
                    while j < t.count, taken < 4, !ByteText.trim(t.lines[j]).isEmpty {
                        let l = ByteText.trim(t.lines[j])
                        if l.hasPrefix("Dump") || l.hasPrefix("=====") || l.hasSuffix("：") && taken > 0 { break }
                        text += "\n" + l
                        endByte = t.lineEnd(j)
                        taken += 1
                        j += 1
                    }
                    consumedTo = max(consumedTo, j - 1)
                } else if sb == lineEnd {
                    // numbered steps right under the advice belong to it
                    var taken = 0
                    while j < t.count, taken < 8, Self.isStep(t, j) {
                        text += "\n" + ByteText.trim(t.lines[j])
                        endByte = t.lineEnd(j)
                        taken += 1
                        j += 1
                    }
                    consumedTo = max(consumedTo, j - 1)
                }
                startByte = max(startByte, t.offsets[i])
                let span = t.span(bytes: startByte, endByte)
                for (k, rec) in classify(text, span: span) where !seen.contains(where: { $0.0 == k && $0.1 == rec.target }) {
                    seen.append((k, rec.target))
                    out.append(rec)
                }
            }
            i = max(i + 1, consumedTo + 1)
        }
        return out
    }

    /// Action types in an advice text, each with its action id (`actionIDs`); earlier patterns win where two cover the
    /// same words.
    func classify(_ text: String, span: TextSpan) -> [(Int, RecommendationFact)] {
        var taken: [Range<Int>] = []
        var out: [(Int, RecommendationFact)] = []
        let bytes = Array(text.utf8)
        let found = bytes.withUnsafeBufferPointer { gateLiterals.literalsFound($0, 0, $0.count) }
        var prepared: ScalarText? = nil
        for (k, (action, re)) in actions.enumerated() {
            if !gateIDs[k].allSatisfy({ set in set.contains { found[$0] } }) { continue }
            let scalars = prepared ?? ScalarText(utf8: bytes, 0, bytes.count)
            prepared = scalars
            for m in re.matches(in: scalars) {
                let r = m.range
                if taken.contains(where: { $0.overlaps(r) }) { continue }
                taken.append(r)
                if out.contains(where: { $0.0 == actionIDs[k] }) { continue }
                out.append((actionIDs[k], RecommendationFact(action: action, target: target(for: action, in: scalars, near: scalars.utf8Offsets[r.lowerBound]), text: text, source: span)))
            }
        }
        return out
    }

    /// The driver, KB or product an advice of type `action` names; `nearByte` is where the action's words start.
    func target(for action: String, in text: ScalarText, near nearByte: Int) -> String? {
        let bytes = text.utf8
        func first(_ re: ScalarRegex, group: Int) -> String? {
            for m in re.matches(in: text) {
                for g in [group, group + 1] where g < m.groups.count {
                    if let r = m.groups[g] { return text.string(r) }
                }
            }
            return nil
        }
        func has(_ literal: String) -> Bool { bytes.withUnsafeBufferPointer { ByteText.find($0, 0, $0.count, Array(literal.utf8), folded: true) != nil } }
        switch action {
        case "install_updates":
            return EntityExtractor.kbNumbers(bytes, 0, bytes.count).first.map { "KB" + String(decoding: bytes[$0.2..<$0.3], as: UTF8.self) }
        case "uninstall_driver", "downgrade_driver", "update_driver", "contact_vendor", "uninstall_software":
            let names = ModuleExtractor.driverNames(bytes, 0, bytes.count, insidePaths: true)
            if !names.isEmpty {
                // the first one from shortly before the action's words, else the first one
                let pick = names.first { $0.0 >= nearByte - 40 } ?? names[0]
                return String(decoding: bytes[pick.0..<pick.1], as: UTF8.self)
            }
            if action == "contact_vendor", has("厂商") || has("厂家") || has("公司") || has("vendor"), let v = first(Self.vendorWord, group: 1) { return v }
            if has("驱动"), let d = first(Self.driverPhrase, group: 1) { return d }
            return nil
        case "downgrade_software":
            guard has("版本") || has("软件") || has("客户端") else { return nil }
            return first(Self.versionOf, group: 1)
        default:
            return nil
        }
    }
}
