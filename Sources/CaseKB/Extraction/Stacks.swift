import Foundation

/// Finds call stacks in WinDbg output of every shape: `k`/`kn`/`kp`/`kL`, `kb`/`kv` and `STACK_TEXT` (` : args : `
/// columns), `kc` (call sites only), `!thread`/`!mex.t` listings, x86 `ChildEBP` rows, and bare `module!function`
/// lists. Inline frames stay in the list, marked. A stack is a run of at least two frame lines.
struct StackExtractor {
    enum Shape { case columns, numbered, callSitesOnly, bareList }

    /// Parse a call-site text: `nt!KiPageFault+0x42e`, `gscfmgr+0xaa39`, `Netwtw08`, `0x3200360035`,
    /// ``00000032`00360035``, `wdiwifi!CTxMgr::CompleteNBLs`, with trailing `[file @ line]` and `(Inline Function @ …)` dropped.
    static func parseCallSite(_ raw: Substring, inline: Bool, allowBareModule: Bool) -> StackFrame? {
        var s = ByteText.trim(raw)
        for marker in [" [", " (Inline Function @", " (FPO:", " (CONV:", "  "] {
            if let r = s.range(of: marker) { s = s[..<r.lowerBound] }
        }
        // !mex.t "Info" column: "TrapFrame @ …" after the call site
        if let r = s.range(of: " TrapFrame @") { s = s[..<r.lowerBound] }
        s = ByteText.trim(s)
        guard !s.isEmpty else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") {
            guard let v = Hex.parse(s) else { return nil }
            return StackFrame(module: nil, function: nil, offset: nil, address: "0x" + String(v, radix: 16), isInline: inline)
        }
        if s.utf8.count == 17, Hex.isAddress(s), let v = Hex.parse(s) {
            return StackFrame(module: nil, function: nil, offset: nil, address: "0x" + String(v, radix: 16), isInline: inline)
        }
        if let bang = s.firstIndex(of: "!") {
            let module = s[..<bang]
            guard isModuleName(module) else { return nil }
            var fn = s[s.index(after: bang)...]
            var offset: UInt64? = nil
            if let plus = fn.range(of: "+0x", options: .backwards), let v = Hex.parse(fn[plus.upperBound...]) {
                offset = v
                fn = fn[..<plus.lowerBound]
            } else if let plus = fn.range(of: "+", options: .backwards), let v = Hex.parse(fn[plus.upperBound...]) {
                offset = v     // SYMBOL_NAME style "Driver!fn+11b1"
                fn = fn[..<plus.lowerBound]
            }
            guard !fn.isEmpty, !fn.hasSuffix(":"), !fn.hasSuffix(",") else { return nil }
            return StackFrame(module: String(module), function: String(fn), offset: offset, address: nil, isInline: inline)
        }
        if let plus = s.range(of: "+0x") {
            let module = s[..<plus.lowerBound]
            guard isModuleName(module), let v = Hex.parse(s[plus.upperBound...]) else { return nil }
            return StackFrame(module: String(module), function: nil, offset: v, address: nil, isInline: inline)
        }
        if allowBareModule, isModuleName(s), !s.contains(" "), !(s.utf8.allSatisfy(Hex.isHexByte) && s.utf8.count >= 8) {
            return StackFrame(module: String(s), function: nil, offset: nil, address: nil, isInline: inline)
        }
        return nil
    }

    static func isModuleName(_ s: Substring) -> Bool {
        guard let f = s.utf8.first, !s.isEmpty, s.utf8.count <= 64 else { return false }
        guard (f >= 0x41 && f <= 0x5A) || (f >= 0x61 && f <= 0x7A) || f == 0x5F || (f >= 0x30 && f <= 0x39) else { return false }
        return s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    static func isFrameNumber(_ s: Substring) -> Bool {
        s.utf8.count <= 3 && !s.isEmpty && s.utf8.allSatisfy(Hex.isHexByte)
    }

    /// One line as a frame, given whether a `kc` header or frame run is open (bare module names allowed).
    static func parseLine(_ line: Substring, inRun: Bool) -> (StackFrame, String)? {
        let trimmed = ByteText.trim(line)
        guard !trimmed.isEmpty else { return nil }
        let inline = trimmed.contains("(Inline")
        // kb / kv / STACK_TEXT: "<sp> <ret> : <args> : <call site>"
        if let last = trimmed.range(of: " : ", options: .backwards), trimmed[..<last.lowerBound].contains(" : ") || trimmed[..<last.lowerBound].contains(": ") {
            let head = trimmed[..<trimmed.range(of: " : ")!.lowerBound].split(separator: " ", omittingEmptySubsequences: true)
            guard let firstTok = head.first, Hex.isAddress(firstTok) || isFrameNumber(firstTok) || firstTok.hasPrefix("(Inline") else { return nil }
            if let f = parseCallSite(trimmed[last.upperBound...], inline: inline, allowBareModule: true) { return (f, "kv") }
            return nil
        }
        var tokens = trimmed.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
        guard !tokens.isEmpty else { return nil }
        var numbered = false
        if tokens.count >= 2, isFrameNumber(tokens[0]), !Hex.isAddress(tokens[0]) {
            numbered = true
            tokens.removeFirst()
        }
        // "(Inline Function) --------`--------  call site" / "(Inline)  -  call site"
        if tokens.first == "(Inline" || tokens.first == "(Inline)" {
            let rest = trimmed.range(of: "(Inline").map { trimmed[$0.upperBound...] } ?? trimmed
            var r = rest.drop(while: { $0 != ")" }).dropFirst()
            r = ByteText.trim(r)
            // skip the dashed address column(s)
            while let f = r.first, f == "-" { r = ByteText.trim(r.drop(while: { $0 != " " })) }
            if let f = parseCallSite(r.split(separator: " ", maxSplits: 1).first ?? r, inline: true, allowBareModule: false) { return (f, numbered ? "k" : "!mex.t") }
            return nil
        }
        // "<sp> <ret> <call site>" (k, kn, !thread, !mex.t)
        if tokens.count >= 3, Hex.isAddress(tokens[0]), Hex.isAddress(tokens[1]), tokens[0].utf8.count == tokens[1].utf8.count {
            let site = trimmed.split(separator: " ", maxSplits: numbered ? 3 : 2, omittingEmptySubsequences: true).last ?? ""
            // x86 "ChildEBP RetAddr Args×3 call site"
            let parts = site.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 4, parts[0].utf8.count == 8, Hex.isAddress(parts[0]), Hex.isAddress(parts[1]), Hex.isAddress(parts[2]) {
                if let f = parseCallSite(parts[3...].joined(separator: " ")[...], inline: inline, allowBareModule: true) { return (f, "kv") }
            }
            let firstSite = site.hasPrefix("0x") ? site.split(separator: " ").first ?? site : site
            if let f = parseCallSite(firstSite, inline: inline, allowBareModule: true) {
                // a bare 16-digit token is an address column, never a module
                if f.module != nil, f.function == nil, f.offset == nil, !numbered && !inRun { return nil }
                return (f, numbered ? "k" : "!thread")
            }
            return nil
        }
        // kc: "NN call site"
        if numbered, tokens.count >= 1 {
            let site = trimmed.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true).last ?? ""
            if let f = parseCallSite(site, inline: inline, allowBareModule: inRun) { return (f, "kc") }
            return nil
        }
        // a bare "module!function+0x1f" line
        if tokens.count == 1, trimmed.contains("!") || trimmed.contains("+0x") {
            if let f = parseCallSite(trimmed, inline: inline, allowBareModule: false), f.address == nil { return (f, "list") }
        }
        return nil
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
            let line = t.lines[i]
            if StackExtractor.isHeader(line) {
                close()
                headerOpen = true
                let tr = ByteText.trim(line)
                command = tr.hasPrefix("STACK_TEXT") ? "STACK_TEXT" : (tr.hasPrefix("# Call Site") ? "kc" : "")
                blankRun = 0
                continue
            }
            let inRun = headerOpen || !frames.isEmpty
            // cheap test: frame lines hold '!', "+0x", a back-tick, "(Inline", or follow a header
            let candidate = inRun || t.has(i, TextLines.Flag.bang) || t.has(i, TextLines.Flag.backtick) || t.has(i, TextLines.Flag.plus) && t.contains(i, Needles.n25)
            if candidate, let (frame, shape) = StackExtractor.parseLine(line, inRun: inRun) {
                if frames.isEmpty { start = i; if command.isEmpty || command == "list" { command = shape == "list" ? "list" : (command.isEmpty ? shape : command) } }
                if command == "" { command = shape }
                frames.append(frame)
                last = i
                blankRun = 0
                continue
            }
            if ByteText.trim(line).isEmpty && frames.isEmpty && headerOpen && blankRun == 0 { blankRun += 1; continue }   // "STACK_TEXT:" then a blank
            // a frame line wrapped by a mail client: "<sp> <ret>" then the call site alone on the next line
            if !frames.isEmpty, i + 1 < t.count {
                let joined = line + " " + t.lines[i + 1]
                if StackExtractor.parseLine(joined[...], inRun: true) != nil, ByteText.trim(line).split(separator: " ").allSatisfy({ Hex.isAddress($0) || StackExtractor.isFrameNumber($0) || $0 == ":" }) {
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
