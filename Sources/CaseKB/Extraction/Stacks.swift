import Foundation

/// Finds call stacks in WinDbg output of every shape: `k`/`kn`/`kp`/`kL`, `kb`/`kv` and `STACK_TEXT` (` : args : `
/// columns), `kc` (call sites only), `!thread`/`!mex.t` listings, x86 `ChildEBP` rows, and bare `module!function`
/// lists. Inline frames stay in the list, marked. A stack is a run of at least two frame lines.
struct StackExtractor {
    enum Shape { case columns, numbered, callSitesOnly, bareList }

    /// One line as a frame, given whether a `kc` header or frame run is open (bare module names allowed).
    static func parseLine(_ line: Substring, inRun: Bool) -> (StackFrame, String)? {
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBufferPointer { parseLine($0, 0, $0.count, inRun: inRun) }
    }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool { (c &- 0x30) < 10 || (c &- 0x61) < 6 || (c &- 0x41) < 6 }

    /// Whether bytes a..<b are a WinDbg address: 8 or 16 hex digits, or ``xxxxxxxx`xxxxxxxx``.
    static func isAddress(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        let n = b - a
        if n == 17 {
            for k in 0..<17 { let c = p[a + k]; if k == 8 { if c != 0x60 { return false } } else if !isHex(c) { return false } }
            return true
        }
        guard n == 8 || n == 16 else { return false }
        for k in a..<b where !isHex(p[k]) { return false }
        return true
    }

    static func isFrameNumber(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        let n = b - a
        guard n >= 1, n <= 3 else { return false }
        for k in a..<b where !isHex(p[k]) { return false }
        return true
    }

    /// Byte-level parse of one line (a..<b of `p`), the hot path of stack extraction.
    static func parseLine(_ p: UnsafeBufferPointer<UInt8>, _ a0: Int, _ b0: Int, inRun: Bool) -> (StackFrame, String)? {
        var a = a0, b = b0
        while a < b, isSpace(p[a]) { a += 1 }
        while b > a, isSpace(p[b - 1]) { b -= 1 }
        guard a < b else { return nil }
        // "(Inline" anywhere marks an inline frame
        var inline = false
        if b - a > 7 {
            var k = a
            while k + 7 <= b { if p[k] == 0x28, p[k + 1] == 0x49, p[k + 2] == 0x6E, p[k + 3] == 0x6C, p[k + 4] == 0x69, p[k + 5] == 0x6E, p[k + 6] == 0x65 { inline = true; break }; k += 1 }
        }
        // kb / kv / STACK_TEXT: two " : " separators; the call site follows the last
        var sepCount = 0, lastSep = -1
        var k = a
        while k + 2 < b { if p[k] == 0x20, p[k + 1] == 0x3A, p[k + 2] == 0x20 { sepCount += 1; lastSep = k; k += 3; if sepCount > 2 { break } } else { k += 1 } }
        if sepCount >= 2 {
            var e = a
            while e < b, !isSpace(p[e]) { e += 1 }
            guard isAddress(p, a, e) || isFrameNumber(p, a, e) || (p[a] == 0x28) else { return nil }
            guard let f = parseCallSite(p, lastSep + 3, b, inline: inline, allowBareModule: true) else { return nil }
            return (f, "kv")
        }
        // tokens
        var tokens: [(Int, Int)] = []
        tokens.reserveCapacity(6)
        k = a
        while k < b, tokens.count < 6 {
            while k < b, isSpace(p[k]) { k += 1 }
            let s = k
            while k < b, !isSpace(p[k]) { k += 1 }
            if k > s { tokens.append((s, k)) }
        }
        guard !tokens.isEmpty else { return nil }
        var ti = 0
        var numbered = false
        if tokens.count >= 2, isFrameNumber(p, tokens[0].0, tokens[0].1) { numbered = true; ti = 1 }
        if p[tokens[ti].0] == 0x28, inline {
            // "(Inline Function) --------`--------  site" / "(Inline)  -  site"
            var j = ti
            while j < tokens.count, p[tokens[j].1 - 1] != 0x29 { j += 1 }
            j += 1
            while j < tokens.count, p[tokens[j].0] == 0x2D { j += 1 }
            guard j < tokens.count, let f = parseCallSite(p, tokens[j].0, tokens[j].1, inline: true, allowBareModule: false) else { return nil }
            return (f, numbered ? "k" : "!mex.t")
        }
        let rem = tokens.count - ti
        if rem >= 3, isAddress(p, tokens[ti].0, tokens[ti].1), isAddress(p, tokens[ti + 1].0, tokens[ti + 1].1),
           tokens[ti].1 - tokens[ti].0 == tokens[ti + 1].1 - tokens[ti + 1].0 {
            let siteStart = tokens[ti + 2].0
            // x86 "ChildEBP RetAddr Args×3 call site"
            if rem >= 6, tokens[ti].1 - tokens[ti].0 == 8, isAddress(p, tokens[ti + 2].0, tokens[ti + 2].1), isAddress(p, tokens[ti + 3].0, tokens[ti + 3].1), isAddress(p, tokens[ti + 4].0, tokens[ti + 4].1) {
                if let f = parseCallSite(p, tokens[ti + 5].0, b, inline: inline, allowBareModule: true) { return (f, "kv") }
                return nil
            }
            guard let f = parseCallSite(p, siteStart, b, inline: inline, allowBareModule: true) else { return nil }
            if f.module != nil, f.function == nil, f.offset == nil, !numbered && !inRun { return nil }
            return (f, numbered ? "k" : "!thread")
        }
        if numbered, rem >= 1 {
            guard let f = parseCallSite(p, tokens[ti].0, b, inline: inline, allowBareModule: inRun) else { return nil }
            return (f, "kc")
        }
        if tokens.count == 1 {
            var hasBang = false, hasPlus = false
            for q in a..<b { if p[q] == 0x21 { hasBang = true } else if p[q] == 0x2B { hasPlus = true } }
            if hasBang || hasPlus, let f = parseCallSite(p, a, b, inline: inline, allowBareModule: false), f.address == nil { return (f, "list") }
        }
        return nil
    }

    static func hexValue(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> UInt64? {
        var v: UInt64 = 0
        var n = 0
        for k in a..<b {
            let c = p[k]
            if c == 0x60 { continue }
            let d: UInt64
            if (c &- 0x30) < 10 { d = UInt64(c - 0x30) } else if (c &- 0x61) < 6 { d = UInt64(c - 0x61 + 10) } else if (c &- 0x41) < 6 { d = UInt64(c - 0x41 + 10) } else { return nil }
            n += 1
            if n > 16 { return nil }
            v = v << 4 | d
        }
        return n > 0 ? v : nil
    }

    @inline(__always) static func isModuleByte(_ c: UInt8) -> Bool {
        (c &- 0x30) < 10 || (c &- 0x41) < 26 || (c &- 0x61) < 26 || c == 0x5F || c == 0x2E || c == 0x2D
    }

    /// Byte-level call-site parse of a..<b (the rest of a line).
    static func parseCallSite(_ p: UnsafeBufferPointer<UInt8>, _ a0: Int, _ b0: Int, inline: Bool, allowBareModule: Bool) -> StackFrame? {
        var a = a0, b = b0
        while a < b, isSpace(p[a]) { a += 1 }
        // cut at "  ", " [", " (" (source lines, Inline Function @, FPO, CONV) and " TrapFrame"
        var k = a
        while k + 1 < b {
            if p[k] == 0x20, p[k + 1] == 0x20 || p[k + 1] == 0x5B || p[k + 1] == 0x28 || p[k + 1] == 0x54 { b = k; break }
            k += 1
        }
        while b > a, isSpace(p[b - 1]) { b -= 1 }
        guard a < b else { return nil }
        if b - a > 2, p[a] == 0x30, p[a + 1] == 0x78 || p[a + 1] == 0x58 {
            guard let v = hexValue(p, a + 2, b) else { return nil }
            return StackFrame(module: nil, function: nil, offset: nil, address: "0x" + String(v, radix: 16), isInline: inline)
        }
        if b - a == 17, isAddress(p, a, b), let v = hexValue(p, a, b) {
            return StackFrame(module: nil, function: nil, offset: nil, address: "0x" + String(v, radix: 16), isInline: inline)
        }
        var bang = -1
        for q in a..<b where p[q] == 0x21 { bang = q; break }
        func str(_ x: Int, _ y: Int) -> String { String(decoding: UnsafeBufferPointer(rebasing: p[x..<y]), as: UTF8.self) }
        if bang > a {
            for q in a..<bang where !isModuleByte(p[q]) { return nil }
            guard bang - a <= 64 else { return nil }
            var fnEnd = b
            var offset: UInt64? = nil
            // offset: the last '+' followed by hex to the end ("+0x4b", or SYMBOL_NAME's "+11b1")
            var plus = b - 1
            while plus > bang, p[plus] != 0x2B { plus -= 1 }
            if plus > bang + 1 {
                let hs = plus + 1 + ((plus + 2 < b && p[plus + 1] == 0x30 && p[plus + 2] == 0x78) ? 2 : 0)
                if hs < b, let v = hexValue(p, hs, b) { offset = v; fnEnd = plus }
            }
            guard fnEnd > bang + 1, p[fnEnd - 1] != 0x3A, p[fnEnd - 1] != 0x2C else { return nil }
            return StackFrame(module: str(a, bang), function: str(bang + 1, fnEnd), offset: offset, address: nil, isInline: inline)
        }
        if bang == a { return nil }
        // module+0xoff
        var q = a
        while q < b, isModuleByte(p[q]) { q += 1 }
        if q + 3 < b, p[q] == 0x2B, p[q + 1] == 0x30, p[q + 2] == 0x78, q > a, let v = hexValue(p, q + 3, b) {
            return StackFrame(module: str(a, q), function: nil, offset: v, address: nil, isInline: inline)
        }
        if allowBareModule, q == b, b - a <= 64, !(b - a >= 8 && isAddressLike(p, a, b)) {
            let f = p[a]
            guard (f &- 0x41) < 26 || (f &- 0x61) < 26 || f == 0x5F else { return nil }
            return StackFrame(module: str(a, b), function: nil, offset: nil, address: nil, isInline: inline)
        }
        return nil
    }

    static func isAddressLike(_ p: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int) -> Bool {
        for k in a..<b where !isHex(p[k]) { return false }
        return true
    }

    /// Parse a call-site string (used when re-reading stored frames).
    static func parseCallSite(_ raw: Substring, inline: Bool, allowBareModule: Bool) -> StackFrame? {
        let bytes = Array(raw.utf8)
        return bytes.withUnsafeBufferPointer { parseCallSite($0, 0, $0.count, inline: inline, allowBareModule: allowBareModule) }
    }

    static func isHeader(_ line: Substring) -> Bool {
        let t = ByteText.trim(line)
        return t.hasPrefix("# Call Site") || t.hasPrefix("# Child-SP") || t.hasPrefix("Child-SP") || t.hasPrefix("# RetAddr")
            || t.hasPrefix("STACK_TEXT:") || t.hasPrefix("# ChildEBP") || t.hasPrefix("ChildEBP") || (t.hasPrefix("#") && t.contains("Call Site"))
    }

    func extract(_ t: TextLines) -> [StackFact] {
        var out: [StackFact] = []
        var frames: [StackFrame] = []
        var command = ""
        var start = -1, last = -1
        var headerOpen = false
        var blankRun = 0
        func close() {
            if frames.count >= 2 || (frames.count >= 1 && headerOpen && command != "list") {
                out.append(StackFact(frames: frames, command: command, source: t.span(lines: start, last)))
            }
            frames = []; command = ""; start = -1; last = -1
        }
        for i in 0..<t.count {
            if t.hit(i, Trigger.stackHeader), StackExtractor.isHeader(t.lines[i]) {
                close()
                headerOpen = true
                let tr = ByteText.trim(t.lines[i])
                command = tr.hasPrefix("STACK_TEXT") ? "STACK_TEXT" : (tr.hasPrefix("# Call Site") ? "kc" : "")
                blankRun = 0
                continue
            }
            let inRun = headerOpen || !frames.isEmpty
            // cheap test: frame lines hold '!', "+0x", a back-tick, "(Inline", or follow a header
            let candidate = inRun || t.has(i, TextLines.Flag.bang) || t.has(i, TextLines.Flag.backtick) || t.hit(i, Trigger.plusHex)
            if !candidate { continue }
            let lineEnd = t.lineEnd(i)
            if let (frame, shape) = t.bytes.withUnsafeBufferPointer({ StackExtractor.parseLine($0, t.offsets[i], lineEnd, inRun: inRun) }) {
                if frames.isEmpty { start = i; if command.isEmpty || command == "list" { command = shape == "list" ? "list" : (command.isEmpty ? shape : command) } }
                if command == "" { command = shape }
                frames.append(frame)
                last = i
                blankRun = 0
                continue
            }
            let blank = BugcheckExtractor.skipSpaces(t.bytes, t.offsets[i], lineEnd) == lineEnd
            if blank && frames.isEmpty && headerOpen && blankRun == 0 { blankRun += 1; continue }   // "STACK_TEXT:" then a blank
            // a frame line wrapped by a mail client: "<sp> <ret>" then the call site alone on the next line
            if !frames.isEmpty, i + 1 < t.count {
                let line = t.lines[i]
                let joined = line + " " + t.lines[i + 1]
                if StackExtractor.parseLine(joined[...], inRun: true) != nil, ByteText.trim(line).split(separator: " ").allSatisfy({ Hex.isAddress($0) || ($0.utf8.count <= 3 && $0.utf8.allSatisfy(Hex.isHexByte)) || $0 == ":" }) {
                    continue   // the next line completes it; parseLine sees it as a bare call site in the run
                }
            }
            close()
            headerOpen = false
        }
        close()
        return out
    }
}
