import Foundation

/// A small deterministic PRNG (SplitMix64), so a generated corpus is the same on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
}

/// Writes realistic case threads for benchmarks and tests: mixed Chinese and English, GB18030 and UTF-8, base64 and
/// quoted-printable, HTML alternatives, quoted replies, binary attachments, and WinDbg output from `CrashFamily.all`.
public struct CorpusGenerator {
    public enum Layout: String, Sendable { case maildir, mbox }

    public var seed: UInt64
    public var startDate: Date
    public init(seed: UInt64 = 42, startDate: Date = Date(timeIntervalSince1970: 1_672_531_200)) {   // 2023-01-01
        self.seed = seed
        self.startDate = startDate
    }

    /// One generated message: raw RFC 5322 bytes and what the generator knows about it.
    public struct GeneratedMessage: Sendable {
        public var bytes: [UInt8]
        public var threadIndex: Int
        public var family: String
        public var date: Date
    }

    /// Generate `threads` threads (3–6 messages each), in date order of thread start.
    public func messages(threads: Int) -> [GeneratedMessage] {
        var rng = SeededGenerator(seed: seed)
        var out: [GeneratedMessage] = []
        for t in 0..<threads {
            out += thread(index: t, rng: &rng)
        }
        return out
    }

    /// Write `threads` threads as a maildir (`cur/` files) or one mbox under `directory`. Returns the message count.
    @discardableResult
    public func write(threads: Int, to directory: String, layout: Layout) throws -> Int {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let msgs = messages(threads: threads)
        switch layout {
        case .maildir:
            for sub in ["cur", "new", "tmp"] { try fm.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true) }
            for (k, m) in msgs.enumerated() {
                let name = "\(Int(m.date.timeIntervalSince1970)).M\(k)P\(m.threadIndex).casekb-gen:2,S"
                guard fm.createFile(atPath: directory + "/cur/" + name, contents: Data(m.bytes)) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: directory + "/cur/" + name])
                }
            }
        case .mbox:
            let path = directory + "/generated.mbox"
            guard fm.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            defer { try? h.close() }
            var buffer = [UInt8]()
            for m in msgs {
                buffer += Array("From casekb-gen@example.com \(asctime(m.date))\n".utf8)
                // mboxrd escaping
                var lineStart = true
                var i = 0
                let b = m.bytes
                while i < b.count {
                    if lineStart {
                        var j = i
                        while j < b.count, b[j] == 0x3E { j += 1 }
                        if j + 5 <= b.count, b[j..<(j + 5)].elementsEqual(Array("From ".utf8)) { buffer.append(0x3E) }
                    }
                    buffer.append(b[i])
                    lineStart = b[i] == 0x0A
                    i += 1
                }
                if buffer.last != 0x0A { buffer.append(0x0A) }
                buffer.append(0x0A)
                if buffer.count > 1 << 20 { h.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
            }
            h.write(Data(buffer))
        }
        return msgs.count
    }

    // MARK: - content

    static let customersZH = [("王建国", "wangjg", "contoso-bank.cn"), ("陈静", "chenjing", "fabrikam-fin.cn"), ("刘洋", "liuyang", "northwind-ins.cn"),
                              ("赵敏", "zhaomin", "adatum-sec.cn"), ("孙磊", "sunlei", "woodgrove.cn"), ("周婷", "zhouting", "litware.cn")]
    static let customersEN = [("Priya Raman", "priya.raman", "fabrikam.example"), ("Tom Keller", "tom.keller", "woodgrove.example"),
                              ("Marco Bianchi", "marco.bianchi", "northwind.example"), ("Ana Souza", "ana.souza", "tailspin.example")]
    static let engineers = [("李琦", "Li Qi", "liqi"), ("华斌", "Bin Hua", "bihua"), ("张伟", "Wei Zhang", "zhangwei"), ("Daniel Ortiz", "Daniel Ortiz", "daniel.ortiz"),
                            ("Sara Lind", "Sara Lind", "sara.lind")]
    static let models = ["ThinkPad T490s", "ThinkPad X1 Carbon", "Latitude 7420", "EliteBook 840 G8", "Surface Pro 7", "OptiPlex 7090", "PowerEdge R740"]
    static let builds = ["1809 (17763.1432)", "1903 (18362.1082)", "21H2 (19044.2604)", "22H2 (19045.3324)", "Windows 11 22H2 (22621.1928)"]

    func thread(index t: Int, rng: inout SeededGenerator) -> [GeneratedMessage] {
        let family = CrashFamily.all[Int(rng.next() % UInt64(CrashFamily.all.count))]
        let chinese = rng.next() % 3 != 0
        let cust = chinese ? Self.customersZH[Int(rng.next() % UInt64(Self.customersZH.count))] : Self.customersEN[Int(rng.next() % UInt64(Self.customersEN.count))]
        let eng = Self.engineers[Int(rng.next() % UInt64(Self.engineers.count))]
        let model = Self.models[Int(rng.next() % UInt64(Self.models.count))]
        let build = Self.builds[Int(rng.next() % UInt64(Self.builds.count))]
        let hasCase = rng.next() % 10 < 6
        let caseNo = String(format: "CAS-%05d-%@", 10000 + t, Self.caseSuffix(&rng))
        let regNumber = String(20_000_000_000 + t * 7919)
        let reg = "REG:1" + String(repeating: "0", count: max(0, 14 - regNumber.count)) + regNumber
        let topic = chinese ? family.symptomZH : family.symptomEN
        let baseSubject = hasCase ? "[\(reg)] \(caseNo) - \(topic)" : (chinese ? "\(model) \(topic)" : "\(model): \(topic)")
        var date = startDate.addingTimeInterval(Double(t) * 3600 * 2 + Double(rng.next() % 3600))
        let count = 3 + Int(rng.next() % 4)
        var result: [GeneratedMessage] = []
        var previousBody = ""
        var previousFrom = ""
        var previousID: String? = nil
        var references: [String] = []
        let custAddr = "\(cust.1)@\(cust.2)"
        let engAddr = "\(eng.2)@support.example.com"
        let bugcheck = family.bugchecks[Int(rng.next() % UInt64(family.bugchecks.count))]
        for k in 0..<count {
            let fromCustomer = k % 2 == 0
            let fromName = fromCustomer ? cust.0 : (chinese ? eng.0 : eng.1)
            let fromAddr = fromCustomer ? custAddr : engAddr
            let toName = fromCustomer ? (chinese ? eng.0 : eng.1) : cust.0
            let toAddr = fromCustomer ? engAddr : custAddr
            var body: String
            switch k {
            case 0:
                body = chinese
                    ? "\(toName)您好：\n我行有 \(5 + rng.next() % 40) 台 \(model) 最近\(topic)，系统版本 Windows 10 \(build)。\n蓝屏代码 0x\(String(format: "%08X", bugcheck))，dump 已上传到 sftp，请帮忙分析，谢谢！\n\n\(cust.0)\n手机：1\(3 + rng.next() % 6)\(String(format: "%09d", rng.next() % 1_000_000_000))\n"
                    : "Hello \(toName),\n\nAbout \(5 + rng.next() % 40) \(model) machines on Windows 10 \(build) show a \(topic).\nStop code 0x\(String(format: "%08X", bugcheck)). The memory dump is uploaded to the share.\n\nRegards,\n\(cust.0)\nPhone: +1 425 555 \(String(format: "%04d", rng.next() % 10000))\n"
            case 1, 3:
                let bc = k == 1 ? bugcheck : family.bugchecks[Int(rng.next() % UInt64(family.bugchecks.count))]
                body = analysis(family: family, bugcheck: bc, chinese: chinese, to: toName, from: fromName, rng: &rng)
            default:
                body = chinese
                    ? "\(toName)您好：\n已按建议处理，目前观察中。另有一台 \(model) 今天又出现一次蓝屏，dump 稍后上传。\n\n\(fromName)\n"
                    : "Hi \(toName),\n\nWe applied the recommendation on the pilot group. One more \(model) crashed today; dump follows.\n\nThanks,\n\(fromName)\n"
            }
            if k > 0 {
                body += quote(previousBody, from: previousFrom, date: date.addingTimeInterval(-3600), chinese: chinese, rng: &rng)
            }
            let messageID = "gen-\(t)-\(k)-\(seed)@\(fromCustomer ? cust.2 : "support.example.com")"
            let subject = k == 0 ? baseSubject : (chinese ? (rng.next() % 2 == 0 ? "答复: " : "回复：") : "RE: ") + baseSubject
            let bytes = encode(from: (fromName, fromAddr), to: (toName, toAddr), subject: subject, date: date, messageID: messageID,
                               inReplyTo: previousID, references: references, body: body, chinese: chinese, rng: &rng)
            result.append(GeneratedMessage(bytes: bytes, threadIndex: t, family: family.id, date: date))
            previousBody = body
            previousFrom = "\(fromName) <\(fromAddr)>"
            if let p = previousID { references.append(p) }
            previousID = messageID
            if k == 0 { references = [] }
            date = date.addingTimeInterval(3600 * Double(2 + rng.next() % 40))
        }
        return result
    }

    static func caseSuffix(_ rng: inout SeededGenerator) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
        return String((0..<6).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    func hex16(_ rng: inout SeededGenerator, kernel: Bool = true) -> String {
        let v = rng.next()
        let hi = kernel ? (0xFFFF_F800 | UInt32(truncatingIfNeeded: v >> 48) & 0x7FF) : UInt32(truncatingIfNeeded: v >> 32)
        return String(format: "%08x`%08x", hi, UInt32(truncatingIfNeeded: v))
    }

    func boilerplate(_ bugcheck: UInt32) -> [String] {
        switch bugcheck {
        case 0x1E: return ["nt!KeBugCheckEx", "nt!KiFatalFilter", "nt!__C_specific_handler", "nt!RtlDispatchException", "nt!KiDispatchException", "nt!KiExceptionDispatch", "nt!KiPageFault"]
        case 0xFC: return ["nt!KeBugCheckEx", "nt!MiCheckSystemNxFault", "nt!MiSystemFault", "nt!MmAccessFault", "nt!KiPageFault"]
        case 0x50, 0xD1: return ["nt!KeBugCheckEx", "nt!KiBugCheckDispatch", "nt!KiPageFault"]
        case 0x3B, 0x7E, 0x1000007E: return ["nt!KeBugCheckEx", "nt!KiBugCheckDispatch", "nt!KiSystemServiceHandler", "nt!RtlpExecuteHandlerForException", "nt!RtlDispatchException", "nt!KiDispatchException", "nt!KiExceptionDispatch", "nt!KiPageFault"]
        case 0x133: return ["nt!KeBugCheckEx", "nt!KeAccumulateTicks", "nt!KeClockInterruptNotify", "nt!HalpTimerClockIpiRoutine", "nt!KiInterruptDispatchNoLockNoEtw"]
        case 0xEF: return ["nt!KeBugCheckEx", "nt!PspCatchCriticalBreak", "nt!PspTerminateAllThreads"]
        default: return ["nt!KeBugCheckEx"]
        }
    }

    func analysis(family: CrashFamily, bugcheck: UInt32, chinese: Bool, to: String, from: String, rng: inout SeededGenerator) -> String {
        let name = GeneratorBugcheckNames.names[bugcheck] ?? "UNKNOWN_BUGCHECK"
        var frames = boilerplate(bugcheck)
        if bugcheck == 0x1E && rng.next() % 2 == 0 { frames.append("0x" + String(format: "%x", rng.next() & 0xFF_FFFF_FFFF)) }
        frames += family.coreFrames
        frames += family.outerFrames.prefix(Int(rng.next() % UInt64(family.outerFrames.count + 1)))
        var s = chinese ? "\(to)您好：\n\ndump 分析如下：\n" : "Hi \(to),\n\nHere is the dump analysis:\n"
        s += "\n\(name) (\(String(bugcheck, radix: 16)))\nArguments:\n"
        for a in 1...4 { s += "Arg\(a): \(hex16(&rng).replacingOccurrences(of: "`", with: "")), parameter \(a)\n" }
        let style = rng.next() % 3
        s += style == 0 ? "\n0: kd> kc\n # Call Site\n" : (style == 1 ? "\n0: kd> k\n # Child-SP          RetAddr               Call Site\n" : "\nSTACK_TEXT:  \n")
        for (i, f) in frames.enumerated() {
            var frame = f
            if !f.hasPrefix("0x"), !f.contains("+0x"), style != 0 { frame += "+0x" + String(rng.next() % 0x400, radix: 16) }
            switch style {
            case 0: s += String(format: "%02x ", i) + frame.components(separatedBy: "+0x")[0] + "\n"
            case 1: s += String(format: "%02x ", i) + hex16(&rng) + " " + hex16(&rng) + "     " + frame + "\n"
            default: s += hex16(&rng) + " " + hex16(&rng) + "     : " + (0..<4).map { _ in hex16(&rng) }.joined(separator: " ") + " : " + frame + "\n"
            }
        }
        if let tag = family.poolTag, rng.next() % 2 == 0 {
            s += "\n1: kd> !pool \(hex16(&rng))\n"
            for _ in 0..<3 { s += " \(hex16(&rng).replacingOccurrences(of: "`", with: "")) size:   30 previous size:    0  (Allocated)  Io  \n" }
            s += "*\(hex16(&rng).replacingOccurrences(of: "`", with: "")) size:  600 previous size:    0  (Allocated) *\(tag)\n"
            s += "\n1: kd> !tag \(tag)\n\(family.culpritModule)              1 0.0.0.0 06/23/2020 03:10:42 \\SystemRoot\\system32\\DRIVERS\\\(family.culpritModule).sys\n"
        }
        s += "\nIMAGE_NAME:  \(family.culpritModule).sys\n"
        s += chinese ? "\n下一步建议：\n\(family.adviceZH)\n" : "\nNext steps:\n\(family.adviceEN)\n"
        if let kb = family.kb { s += chinese ? "补丁 \(kb) 已发布。\n" : "\(kb) is available from the update catalog.\n" }
        s += chinese ? "\n\(from)\nSupport Escalation Eng | Microsoft China | +86 (10) 5917 \(String(format: "%04d", rng.next() % 10000))\n" : "\nBest regards,\n\(from)\n"
        return s
    }

    func quote(_ body: String, from: String, date: Date, chinese: Bool, rng: inout SeededGenerator) -> String {
        switch rng.next() % 3 {
        case 0:
            return "\n-----邮件原件-----\n发件人: \(from)\n发送时间: \(MailDate.iso(date))\n主题: RE\n\n" + body
        case 1:
            return "\n________________________________\nFrom: \(from)\nSent: \(MailDate.iso(date))\nSubject: RE\n\n" + body
        default:
            let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
            return chinese ? "\n在 \(MailDate.iso(date))，\(from) 写道：\n" + lines + "\n" : "\nOn \(MailDate.iso(date)), \(from) wrote:\n" + lines + "\n"
        }
    }

    // MARK: - encoding

    func encodedWord(_ s: String, gb: Bool) -> String {
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        if gb, let bytes = Self.gb18030(s) { return "=?gb2312?B?" + Data(bytes).base64EncodedString() + "?=" }
        return "=?utf-8?B?" + Data(s.utf8).base64EncodedString() + "?="
    }

    static func gb18030(_ s: String) -> [UInt8]? {
        Charset.encode(s, to: "GB18030")
    }

    static func quotedPrintable(_ s: String) -> String {
        var out = ""
        for line in s.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for b in line.utf8 {
                let piece: String
                if (b >= 33 && b <= 126 && b != 61) || b == 32 { piece = String(UnicodeScalar(b)) } else { piece = String(format: "=%02X", b) }
                if current.count + piece.count > 75 { out += current + "=\n"; current = "" }
                current += piece
            }
            if current.hasSuffix(" ") { current = String(current.dropLast()) + "=20" }
            out += current + "\n"
        }
        return out
    }

    func encode(from: (String, String), to: (String, String), subject: String, date: Date, messageID: String, inReplyTo: String?,
                references: [String], body: String, chinese: Bool, rng: inout SeededGenerator) -> [UInt8] {
        let useGB = chinese && rng.next() % 2 == 0
        var h = "Return-Path: <\(from.1)>\n"
        h += "From: \(encodedWord(from.0, gb: useGB)) <\(from.1)>\n"
        h += "To: \(encodedWord(to.0, gb: useGB)) <\(to.1)>\n"
        h += "Subject: \(encodedWord(subject, gb: useGB))\n"
        h += "Date: \(rfc5322(date))\n"
        h += "Message-ID: <\(messageID)>\n"
        if let p = inReplyTo { h += "In-Reply-To: <\(p)>\nReferences: \((references + [p]).map { "<\($0)>" }.joined(separator: " "))\n" }
        h += "MIME-Version: 1.0\n"
        let style = rng.next() % 10
        let charset = useGB ? "gb18030" : "utf-8"
        let bodyBytes: [UInt8] = useGB ? (Self.gb18030(body) ?? Array(body.utf8)) : Array(body.utf8)
        var mail: String
        if style < 4 {
            // plain text, base64 (GB) or 8bit (UTF-8)
            if useGB {
                mail = h + "Content-Type: text/plain; charset=\"\(charset)\"\nContent-Transfer-Encoding: base64\n\n" + base64Lines(bodyBytes)
            } else {
                mail = h + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body
            }
        } else if style < 8 {
            // multipart/alternative with an HTML part, quoted-printable
            let html = "<html><head><meta charset=\"utf-8\"><style>p{margin:0}</style></head><body>" +
                body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                    let esc = line.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
                    return "<p>\(esc.isEmpty ? "&nbsp;" : esc)</p>"
                }.joined(separator: "\n") + "</body></html>"
            let b = "----=_NextPart_\(rng.next() % 1_000_000)"
            let plainPart = useGB
                ? "Content-Type: text/plain; charset=\"\(charset)\"\nContent-Transfer-Encoding: base64\n\n" + base64Lines(bodyBytes)
                : "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + Self.quotedPrintable(body)
            mail = h + "Content-Type: multipart/alternative; boundary=\"\(b)\"\n\nThis is a multi-part message in MIME format.\n\n--\(b)\n" + plainPart +
                "\n--\(b)\nContent-Type: text/html; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + Self.quotedPrintable(html) + "\n--\(b)--\n"
        } else {
            // multipart/mixed with a binary attachment
            let b = "_mixed_\(rng.next() % 1_000_000)"
            var blob = [UInt8](repeating: 0, count: 12_288)
            blob.replaceSubrange(0..<4, with: Array("MDMP".utf8))
            for i in stride(from: 4, to: blob.count, by: 8) { let v = rng.next(); for j in 0..<min(8, blob.count - i) { blob[i + j] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(j))) } }
            let textPart = useGB
                ? "Content-Type: text/plain; charset=\"\(charset)\"\nContent-Transfer-Encoding: base64\n\n" + base64Lines(bodyBytes)
                : "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: quoted-printable\n\n" + Self.quotedPrintable(body)
            mail = h + "Content-Type: multipart/mixed; boundary=\"\(b)\"\n\n--\(b)\n" + textPart +
                "\n--\(b)\nContent-Type: application/octet-stream; name=\"Mini\(rng.next() % 100000).dmp\"\nContent-Disposition: attachment; filename=\"Mini\(rng.next() % 100000).dmp\"\nContent-Transfer-Encoding: base64\n\n" +
                base64Lines(blob) + "\n--\(b)--\n"
        }
        return Array(mail.utf8)
    }

    func base64Lines(_ bytes: [UInt8]) -> String {
        let s = Data(bytes).base64EncodedString()
        var out = ""
        out.reserveCapacity(s.count + s.count / 76 + 2)
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 76, limitedBy: s.endIndex) ?? s.endIndex
            out += s[i..<j]
            out += "\n"
            i = j
        }
        return out
    }

    func rfc5322(_ d: Date) -> String {
        let iso = MailDate.iso(d)   // 2023-01-01T00:00:00.000Z
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let y = iso.prefix(4), m = Int(iso.dropFirst(5).prefix(2)) ?? 1, day = Int(iso.dropFirst(8).prefix(2)) ?? 1
        return "\(day) \(months[m - 1]) \(y) \(iso.dropFirst(11).prefix(8)) +0000"
    }

    func asctime(_ d: Date) -> String {
        let iso = MailDate.iso(d)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let m = Int(iso.dropFirst(5).prefix(2)) ?? 1, day = Int(iso.dropFirst(8).prefix(2)) ?? 1
        return "Mon \(months[m - 1]) \(day < 10 ? " " : "")\(day) \(iso.dropFirst(11).prefix(8)) \(iso.prefix(4))"
    }
}
