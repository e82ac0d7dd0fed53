import Foundation

/// `!pool` blocks, `Pooltag X : …, Binary : nt!fsrtl` owner lines, `!tag`/`!mex.tag` lookups that name the image
/// owning a tag, and `!poolfind`.
struct PoolExtractor {
    /// A `!pool` row: ` fffffa8003a1b000 size:  1f0 previous size:    0  (Allocated) *Filt` (a `*` before the
    /// address or the tag marks the block asked about).
    static func poolRow(_ b: [UInt8], _ a: Int, _ end: Int) -> PoolBlock? {
        typealias B = BugcheckExtractor
        func lit(_ k: Int, _ s: String) -> Int? {
            let u = Array(s.utf8)
            guard end - k >= u.count, b[k..<k + u.count].elementsEqual(u) else { return nil }
            return k + u.count
        }
        func hexRun(_ k: Int) -> Int? { var e = k; while e < end, Hex.isHexByte(b[e]) { e += 1 }; return e > k ? e : nil }
        func spaces(_ k: Int, atLeastOne: Bool) -> Int? { let e = B.skipSpaces(b, k, end); return atLeastOne && e == k ? nil : e }
        var k = a
        var starred = false
        if k < end, b[k] == 0x2A { starred = true; k += 1 } else if k < end, b[k] == 0x20 { k += 1 }
        let addrStart = k
        while k < end, Hex.isHexByte(b[k]) || b[k] == 0x60 { k += 1 }
        guard k - addrStart >= 8, k - addrStart <= 17 else { return nil }
        let address = String(decoding: b[addrStart..<k].filter { $0 != 0x60 }, as: UTF8.self)
        guard let s1 = spaces(k, atLeastOne: true), let s2 = lit(s1, "size:"), let s3 = spaces(s2, atLeastOne: false), let sizeEnd = hexRun(s3) else { return nil }
        let size = String(decoding: b[s3..<sizeEnd], as: UTF8.self)
        guard let p1 = spaces(sizeEnd, atLeastOne: true), let p2 = lit(p1, "previous size:"), let p3 = spaces(p2, atLeastOne: false), let prevEnd = hexRun(p3),
              let q1 = spaces(prevEnd, atLeastOne: true) else { return nil }
        var allocated = true
        var q2: Int
        if let e = lit(q1, "(Allocated)") { q2 = e } else if let e = lit(q1, "(Free)") { q2 = e; allocated = false } else { return nil }
        guard let q3 = spaces(q2, atLeastOne: true), q3 < end else { return nil }
        q2 = q3
        if b[q2] == 0x2A { starred = true; q2 += 1 }
        // the tag: up to four characters
        var e = q2, chars = 0
        while e < end, chars < 4 { e += 1; while e < end, b[e] & 0xC0 == 0x80 { e += 1 }; chars += 1 }
        let tag = String(decoding: b[q2..<e], as: UTF8.self).trimmingSpaces()
        return PoolBlock(address: address, size: size, allocated: allocated, tag: tag, starred: starred)
    }
    static let pooltagLine = try! ScalarRegex(#"Pooltag\s+(\S{1,4})\s*:.*?Binary\s*:\s*(\S+)"#)
    static let tagCommand = try! ScalarRegex(#"!(?:mex\.)?(?:tag|poolfind|pooltag)\s+(\S{1,4})"#)
    static let tagHit = try! ScalarRegex(#"^(\S+)\s+\d+\s+\S+\s+\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}:\d{2}\s+(\S+)"#)

    func extract(_ t: TextLines) -> [PoolTagFact] {
        var facts: [PoolTagFact] = []
        func upsert(_ tag: String, owner: String?, suspect: Bool, block: PoolBlock?, span: TextSpan) {
            if let k = facts.firstIndex(where: { $0.tag == tag }) {
                if facts[k].owner == nil { facts[k].owner = owner }
                facts[k].suspect = facts[k].suspect || suspect
                if let block { facts[k].blocks.append(block) }
            } else {
                facts.append(PoolTagFact(tag: tag, owner: owner, suspect: suspect, blocks: block.map { [$0] } ?? [], source: span))
            }
        }
        var pendingTag: (String, Int)? = nil
        for i in 0..<t.count {
            if t.triggers[i] & (Trigger.poolRow | Trigger.pooltagLine | Trigger.tagCommand | Trigger.dotSys | Trigger.dotDllExe) == 0 { continue }
            if t.hit(i, Trigger.poolRow) {
                if let b = Self.poolRow(t.bytes, t.offsets[i], t.lineEnd(i)), !b.tag.isEmpty {
                    upsert(b.tag, owner: nil, suspect: b.starred, block: b, span: t.span(lines: i, i))
                }
                continue
            }
            if t.hit(i, Trigger.pooltagLine) {
                let s = ScalarText(utf8: t.bytes, t.offsets[i], t.lineEnd(i))
                if let m = Self.pooltagLine.firstMatch(in: s), let tr = m.groups[1], let or = m.groups[2] {
                    let owner = s.string(or).trimmingCharacters(in: CharacterSet(charactersIn: ",."))
                    upsert(s.string(tr), owner: owner, suspect: false, block: nil, span: t.span(lines: i, i))
                }
                continue
            }
            // "Owning component : Unknown (update pooltag.txt)" names no owner: nothing to record
            if t.hit(i, Trigger.tagCommand) {
                let s = ScalarText(utf8: t.bytes, t.offsets[i], t.lineEnd(i))
                if let m = Self.tagCommand.firstMatch(in: s), let tr = m.groups[1] {
                    let tag = s.string(tr)
                    pendingTag = (tag, i)
                    upsert(tag, owner: nil, suspect: true, block: nil, span: t.span(lines: i, i))
                    continue
                }
            }
            if let (tag, at) = pendingTag, i - at <= 6, t.hit(i, Trigger.dotSys | Trigger.dotDllExe) {
                let s = ScalarText(utf8: t.bytes, t.offsets[i], t.lineEnd(i))
                if let m = Self.tagHit.firstMatch(in: s), let pr = m.groups[2] {
                    let path = s.string(pr)
                    let image = path.split(whereSeparator: { $0 == "\\" || $0 == "/" }).last.map(String.init) ?? path
                    upsert(tag, owner: image, suspect: true, block: nil, span: t.span(lines: at, i))
                    pendingTag = nil
                }
            }
        }
        return facts
    }
}

/// Modules: `lmvm` blocks, `!analyze` MODULE_NAME / IMAGE_NAME / SYMBOL_NAME / FAILURE_BUCKET_ID / IMAGE_VERSION,
/// drivers named in prose (`vwifimf.sys`), and NDIS filter lists.
struct ModuleExtractor {
    /// Driver file names in prose (`vwifimf.sys`, `Netwtw08.SYS`): a name of 2–41 letters, digits, `_` or `-` starting
    /// with a letter, not part of a path or a longer name: (start, end, end of the name before `.sys`).
    static func driverNames(_ t: TextLines, _ line: Int) -> [(Int, Int, Int)] {
        driverNames(t.bytes, t.offsets[line], t.lineEnd(line), insidePaths: false)
    }

    /// The same over bytes `a..<end`; with `insidePaths`, names at the end of a path (`\drivers\vwifimf.sys`) count too.
    static func driverNames(_ b: [UInt8], _ a: Int, _ end: Int, insidePaths: Bool) -> [(Int, Int, Int)] {
        @inline(__always) func nameByte(_ c: UInt8) -> Bool { BugcheckExtractor.isWord(c) || c == 0x2D }
        var out: [(Int, Int, Int)] = []
        for dot in ByteText.positions(b, a, end, Array(".sys".utf8), folded: true) {
            let ext = String(decoding: b[dot + 1..<dot + 4], as: UTF8.self)
            guard ext == "sys" || ext == "SYS" || ext == "Sys" || insidePaths else { continue }
            if dot + 4 < end, BugcheckExtractor.isWord(b[dot + 4]) { continue }
            var s = dot
            while s > a, nameByte(b[s - 1]) { s -= 1 }
            if insidePaths { while s < dot, !((b[s] &- 0x41) < 26 || (b[s] &- 0x61) < 26) { s += 1 } }
            guard dot - s >= 2, dot - s <= 41, (b[s] &- 0x41) < 26 || (b[s] &- 0x61) < 26 else { continue }
            if !insidePaths, s > a, b[s - 1] == 0x2E || b[s - 1] == 0x5C { continue }   // part of a path or a dotted name
            out.append((s, dot + 4, dot))
        }
        return out
    }
    static let analyzeFields = ["MODULE_NAME", "IMAGE_NAME", "SYMBOL_NAME", "FAILURE_BUCKET_ID", "IMAGE_VERSION", "DEFAULT_BUCKET_ID", "BUCKET_ID", "PROCESS_NAME", "OS_VERSION", "BUILDLAB_STR", "FAILURE_ID_HASH", "BUGCHECK_STR", "Probably caused by"]

    func extract(_ t: TextLines) -> (modules: [ModuleFact], entities: [EntityFact], blamed: [String]) {
        var modules: [ModuleFact] = []
        var entities: [EntityFact] = []
        var blamed: [String] = []
        var i = 0
        while i < t.count {
            let hits = t.triggers[i] & (Trigger.lmvmHeader | Trigger.analyzeField | Trigger.probablyCaused | Trigger.filterList | Trigger.dotSys)
            if hits == 0 { i += 1; continue }
            let line = t.lines[i]
            let trimmed = ByteText.trim(line)
            // lmvm: "start end module name" header, then "<start> <end>   name   (status)"
            if hits & Trigger.lmvmHeader != 0, trimmed.hasPrefix("start"), i + 1 < t.count {
                let parts = ByteText.trim(t.lines[i + 1]).split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 3, Hex.isAddress(parts[0]), Hex.isAddress(parts[1]) {
                    var m = ModuleFact(name: String(parts[2]), origin: .lmvm, source: t.span(lines: i, i + 1))
                    var j = i + 2
                    while j < t.count {
                        let l = ByteText.trim(t.lines[j])
                        guard let colon = l.firstIndex(of: ":"), t.lines[j].hasPrefix(" ") || t.lines[j].hasPrefix("\t") else {
                            if l.hasPrefix("Browse") || l.hasPrefix("Information from") || l.hasPrefix("Image was built") { j += 1; continue }
                            break
                        }
                        let key = l[..<colon].trimmingSpaces()
                        let value = l[l.index(after: colon)...].trimmingSpaces()
                        switch key {
                        case "Image path": m.path = value
                        case "Image name": m.image = value
                        case "Loaded symbol image file": if m.image == nil { m.image = value }
                        case "Timestamp":
                            if let lp = value.lastIndex(of: "("), let rp = value.lastIndex(of: ")"), lp < rp { m.timestamp = String(value[value.index(after: lp)..<rp]) } else { m.timestamp = value }
                        case "CheckSum": m.checksum = value
                        case "ImageSize": m.imageSize = value
                        case "File version", "FileVersion": m.fileVersion = m.fileVersion ?? value
                        case "Product version", "ProductVersion": m.productVersion = m.productVersion ?? value
                        case "CompanyName": m.company = value
                        default: break
                        }
                        j += 1
                    }
                    m.source = t.span(lines: i, max(i + 1, j - 1))
                    modules.append(m)
                    i = j
                    continue
                }
            }
            // !analyze single-line fields
            if hits & (Trigger.analyzeField | Trigger.probablyCaused) != 0, let f = trimmed.utf8.first, (f &- 0x41) < 26 {
                for key in Self.analyzeFields where trimmed.hasPrefix(key) {
                    let rest = trimmed.dropFirst(key.count)
                    guard let c = rest.first, c == ":" || (key == "Probably caused by" && c == " ") else { continue }
                    var value = rest.drop(while: { $0 == ":" || $0 == " " }).trimmingSpaces()
                    if key == "Probably caused by" {
                        value = value.drop(while: { $0 == ":" || $0 == " " }).split(separator: " ").first.map(String.init) ?? value
                    }
                    guard !value.isEmpty else { break }
                    entities.append(EntityFact(kind: .analyzeField, value: value, key: key == "Probably caused by" ? "IMAGE_NAME" : key, source: t.span(lines: i, i)))
                    if key == "MODULE_NAME" || key == "IMAGE_NAME" || key == "Probably caused by" {
                        let name = value.hasSuffix(".sys") || value.hasSuffix(".SYS") ? String(value.dropLast(4)) : value
                        modules.append(ModuleFact(name: name, image: key == "MODULE_NAME" ? nil : value, origin: .analyze, source: t.span(lines: i, i)))
                    }
                    break
                }
            }
            // NDIS filter list: "Filter list  Driver  Module  Context", then "    Name-0000" / address rows
            if hits & Trigger.filterList != 0, trimmed.hasPrefix("Filter list") {
                var j = i + 1
                var names: [String] = []
                while j < t.count {
                    let l = ByteText.trim(t.lines[j])
                    if l.isEmpty { break }
                    let parts = l.split(separator: " ", omittingEmptySubsequences: true)
                    if parts.allSatisfy({ Hex.isAddress($0) }) { j += 1; continue }
                    var name = l
                    if let dash = name.range(of: "-", options: .backwards), name[dash.upperBound...].allSatisfy(\.isNumber) { name = name[..<dash.lowerBound] }
                    names.append(String(name))
                    j += 1
                }
                for n in names { entities.append(EntityFact(kind: .ndisFilter, value: n, key: nil, source: t.span(lines: i, max(i, j - 1)))) }
                i = j
                continue
            }
            // drivers named in prose
            if hits & Trigger.dotSys != 0 {
                let isBlame = t.hit(i, Trigger.blame)
                for (x, y, nameEnd) in Self.driverNames(t, i) {
                    let name = String(decoding: t.bytes[x..<nameEnd], as: UTF8.self)
                    modules.append(ModuleFact(name: name, image: String(decoding: t.bytes[x..<y], as: UTF8.self), origin: .prose, source: t.span(bytes: x, y)))
                    if isBlame { blamed.append(name) }
                }
            }
            i += 1
        }
        return (modules, entities, blamed)
    }
}

/// KB numbers, HRESULT/NTSTATUS codes, OS versions and builds, machine models.
struct EntityExtractor {
    static let featureUpdateNames = ExtractionCues.shared.strings("feature-update").sorted { $0.utf8.count > $1.utf8.count }.map { Array($0.utf8) }

    /// Feature-update names (1809, 21H2) standing alone, not inside a longer number, word or version.
    static func featureUpdates(_ t: TextLines, _ line: Int) -> [(Int, Int)] {
        let b = t.bytes, a = t.offsets[line], end = t.lineEnd(line)
        @inline(__always) func joins(_ c: UInt8) -> Bool { BugcheckExtractor.isAlnum(c) || c == 0x2E }
        var out: [(Int, Int)] = []
        for name in featureUpdateNames {
            for at in t.positions(line, name, folded: false) {
                let e = at + name.count
                if at > a, joins(b[at - 1]) { continue }
                if e < end, joins(b[e]) { continue }
                if out.contains(where: { $0.0 < e && at < $0.1 }) { continue }
                out.append((at, e))
            }
        }
        return out.sorted { $0.0 < $1.0 }
    }

    /// Build numbers: `19045.3324`, `10.0.19045.3324` (the part after 10.0.): five digits starting 1x or 2x, a dot,
    /// one to five digits, not inside a longer number.
    static func builds(_ b: [UInt8], _ a: Int, _ end: Int) -> [(Int, Int)] {
        @inline(__always) func digit(_ k: Int) -> Bool { k < end && (b[k] &- 0x30) < 10 }
        var out: [(Int, Int)] = []
        var k = a
        while k < end {
            guard digit(k), k == a || !(digit(k - 1) || b[k - 1] == 0x2E) else { k += 1; continue }
            var s = k
            // "10.0." before the build
            if end - s > 5, b[s] == 0x31, b[s + 1] == 0x30, b[s + 2] == 0x2E, b[s + 3] == 0x30, b[s + 4] == 0x2E, digit(s + 5) { s += 5 }
            var e = s
            while digit(e) { e += 1 }
            if e - s == 5, b[s] == 0x31 || b[s] == 0x32, e < end, b[e] == 0x2E, digit(e + 1) {
                var f = e + 1
                while digit(f) { f += 1 }
                if f - e - 1 <= 5 { out.append((s, f)); k = f; continue }
            }
            k = max(e, k + 1)
        }
        return out
    }

    static let windowsPrefixes: [[UInt8]] = ["Windows 10 ", "Windows 11 "].map { Array($0.utf8) }

    /// `Windows 10 Kernel Version 18362`, `Windows Server 2019 Kernel Version 17763`: the build.
    static func kernelVersions(_ t: TextLines, _ line: Int) -> [(Int, Int)] {
        let b = t.bytes, a = t.offsets[line], end = t.lineEnd(line)
        let marker = Array("Kernel Version ".utf8)
        var out: [(Int, Int)] = []
        for at in t.positions(line, marker, folded: false) {
            let before = b[a..<at]
            let named = windowsPrefixes.contains { before.count >= $0.count && before.suffix($0.count).elementsEqual($0) }
                || (before.count >= 20 && before.suffix(20).starts(with: Array("Windows Server ".utf8)) && before.suffix(5).prefix(4).allSatisfy { ($0 &- 0x30) < 10 } && before.last == 0x20)
            guard named else { continue }
            let s = at + marker.count
            var e = s
            while e < end, (b[e] &- 0x30) < 10 { e += 1 }
            if e - s >= 4 {
                out.append((s, min(e, s + 5)))
            }
        }
        return out
    }
    static let model = try! ScalarRegex(#"(?:"# + ExtractionCues.shared.alternation("model-label") + #")\s*[:：]?\s*((?:ThinkPad\s+)?[A-Z][A-Za-z]?\d{2,4}[a-z]{0,2}(?:\s?Gen\s?\d+)?)|\b((?:"#
        + ExtractionCues.shared.alternation("model-series") + #")\s+(?:[A-Z]{0,3}\d{1,4}[a-z]{0,2}|[A-Z][a-z]+)(?:\s(?:G\d|Gen\s?\d|Carbon|Yoga))?)"#)

    /// `KB4559003`, `KB 4559003` (any case), not inside a longer word or number: (match range, digits range).
    static func kbNumbers(_ t: TextLines, _ line: Int) -> [(Int, Int, Int, Int)] {
        kbNumbers(t.bytes, t.offsets[line], t.lineEnd(line))
    }

    static func kbNumbers(_ b: [UInt8], _ a: Int, _ end: Int) -> [(Int, Int, Int, Int)] {
        var out: [(Int, Int, Int, Int)] = []
        for at in ByteText.positions(b, a, end, Array("kb".utf8), folded: true) {
            if at > a, BugcheckExtractor.isAlnum(b[at - 1]) { continue }
            var k = at + 2
            if k < end, BugcheckExtractor.isSpace(b[k]) { k += 1 }
            let ds = k
            while k < end, (b[k] &- 0x30) < 10 { k += 1 }
            guard k - ds >= 6, k - ds <= 7 else { continue }
            out.append((at, k, ds, k))
        }
        return out
    }

    /// HRESULT/NTSTATUS-shaped codes `0x8…`/`0xC…` of 8 hex digits, not part of a longer token: code ranges after 0x.
    static func errorCodes(_ t: TextLines, _ line: Int) -> [(Int, Int)] {
        BugcheckExtractor.hex8(t, line).filter { let c = t.bytes[$0.0]; return c == 0x38 || c == 0x43 || c == 0x63 }
    }

    func extract(_ t: TextLines) -> [EntityFact] {
        var out: [EntityFact] = []
        func add(_ kind: EntityFact.Kind, _ value: String, _ x: Int, _ y: Int) {
            if !out.contains(where: { $0.kind == kind && $0.value == value }) {
                out.append(EntityFact(kind: kind, value: value, key: nil, source: t.span(bytes: x, y)))
            }
        }
        let b = t.bytes
        for i in 0..<t.count where t.has(i, TextLines.Flag.digit) {   // every entity holds a digit
            if t.hit(i, Trigger.kb) {
                for (x, y, dx, dy) in Self.kbNumbers(t, i) { add(.kb, "KB" + String(decoding: b[dx..<dy], as: UTF8.self), x, y) }
            }
            // error codes only in prose lines: register dumps, Arg lines and dt output hold many such values
            if t.hit(i, Trigger.errorCodeHex), !t.has(i, TextLines.Flag.backtick), !t.hit(i, Trigger.kdPrompt) {
                let line = t.lines[i]
                let trimmed = ByteText.trim(line)
                let isWinDbgOutput = line.hasPrefix("Arg") || trimmed.hasPrefix("+0x") || line.hasPrefix("r") && t.contains(i, [0x3D])
                if !isWinDbgOutput {
                    for (x, y) in Self.errorCodes(t, i) { add(.errorCode, "0x" + String(decoding: b[x..<y], as: UTF8.self).uppercased(), x - 2, y) }
                }
            }
            // OS versions on lines that speak of Windows, versions or builds: feature updates (1809, 21H2), builds
            // (19045.3324), "Kernel Version 18362"
            let osLine = t.hit(i, Trigger.osContext)
            let features = osLine && t.hit(i, Trigger.featureUpdate)
            let builds = osLine && t.has(i, TextLines.Flag.dot) && !t.has(i, TextLines.Flag.backtick)
            let kernel = osLine && t.hit(i, Trigger.kernelVersion)
            let modelLine = t.hit(i, Trigger.modelCue)
            guard features || builds || kernel || modelLine else { continue }
            let b = t.bytes, a = t.offsets[i], end = t.lineEnd(i)
            func text(_ x: Int, _ y: Int) -> String { String(decoding: b[x..<y], as: UTF8.self) }
            if features {
                for (x, y) in Self.featureUpdates(t, i) { add(.osVersion, text(x, y), x, y) }
            }
            if builds {
                for (x, y) in Self.builds(b, a, end) { add(.osVersion, text(x, y), x, y) }
            }
            if kernel {
                for (x, y) in Self.kernelVersions(t, i) { add(.osVersion, text(x, y), x, y) }
            }
            guard modelLine else { continue }
            let line = ScalarText(utf8: b, a, end)
            for m in Self.model.matches(in: line) {
                for g in [1, 2] where g < m.groups.count {
                    if let r = m.groups[g] { add(.machineModel, line.string(r), a + line.utf8Offsets[r.lowerBound], a + line.utf8Offsets[r.upperBound]) }
                }
            }
        }
        return out
    }
}
