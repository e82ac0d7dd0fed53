import Foundation

/// Reads the CRM text export: a `邮件主题：` line, then `====第N封邮件====` blocks with `发件人：`, `发送时间：` and
/// `邮件内容:` fields (full-width or ASCII colons). Only a block marker starts a new message: `发件人: X` lines inside
/// a body are quoted mail, not blocks.
public enum CRMExportReader {
    /// The N of a `====第N封邮件====` line.
    static func blockNumber(_ line: Substring) -> Int? {
        let t = line.trimmingSpaces()
        guard t.hasPrefix("="), t.hasSuffix("="), let di = t.range(of: "第"), let fi = t.range(of: "封邮件") ?? t.range(of: "封郵件"), di.upperBound <= fi.lowerBound else { return nil }
        let before = t[..<di.lowerBound], after = t[fi.upperBound...]
        guard before.allSatisfy({ $0 == "=" || $0 == " " }), after.allSatisfy({ $0 == "=" || $0 == " " }) else { return nil }
        return Int(t[di.upperBound..<fi.lowerBound].trimmingSpaces())
    }

    /// The value of a `label：value` / `label: value` line, if the line starts with one of `labels`.
    static func field(_ line: Substring, _ labels: [String]) -> String? {
        let t = line.drop(while: { $0 == " " || $0 == "\t" })
        for l in labels where t.hasPrefix(l) {
            let rest = t.dropFirst(l.count).drop(while: { $0 == " " })
            if rest.first == ":" || rest.first == "：" { return rest.dropFirst().trimmingSpaces() }
        }
        return nil
    }

    static let subjectLabels = ["邮件主题", "郵件主題", "主题"]
    static let senderLabels = ["发件人", "發件人", "寄件者"]
    static let sentLabels = ["发送时间", "發送時間", "寄件日期"]
    static let toLabels = ["收件人", "收件者"]
    static let ccLabels = ["抄送", "副本"]
    static let bodyLabels = ["邮件内容", "郵件內容", "内容"]

    public static func read(text: String, file: String) -> (messages: [Message], diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var messages: [Message] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        var subject = ""
        var i = 0
        var byteOffsets: [Int] = []
        var off = 0
        for l in lines { byteOffsets.append(off); off += l.utf8.count + 1 }
        // preamble: the subject line
        while i < lines.count, blockNumber(lines[i]) == nil {
            if subject.isEmpty, let s = field(lines[i], subjectLabels) { subject = s }
            i += 1
        }
        if i == lines.count {
            diagnostics.append(Diagnostic(file: file, byteOffset: 0, message: "CRM export without any ====第N封邮件==== block"))
            return ([], diagnostics)
        }
        var lastNumber = 0
        while i < lines.count {
            guard let n = blockNumber(lines[i]) else { i += 1; continue }
            let blockStart = i
            lastNumber = n
            i += 1
            var sender: String? = nil, sent: String? = nil, to: String? = nil, cc: String? = nil
            var blockSubject: String? = nil
            // header fields until 邮件内容 (or the first line that is no field)
            var bodyStart: Int? = nil
            while i < lines.count {
                let l = lines[i]
                if blockNumber(l).map({ $0 > lastNumber }) == true { break }
                if let v = field(l, bodyLabels) {
                    bodyStart = i + 1
                    if !v.isEmpty { bodyStart = i }   // text on the same line as 邮件内容:
                    break
                }
                if sender == nil, let v = field(l, senderLabels) { sender = v }
                else if sent == nil, let v = field(l, sentLabels) { sent = v }
                else if to == nil, let v = field(l, toLabels) { to = v }
                else if cc == nil, let v = field(l, ccLabels) { cc = v }
                else if blockSubject == nil, let v = field(l, ["主题", "邮件主题"]) { blockSubject = v }
                else if !l.trimmingSpaces().isEmpty { bodyStart = i; break }
                i += 1
            }
            var bodyLines: [Substring] = []
            if var b = bodyStart {
                if b == i, let v = field(lines[b], bodyLabels) { bodyLines.append(Substring(v)); b += 1 }
                i = b
                while i < lines.count {
                    if let m = blockNumber(lines[i]), m > lastNumber { break }
                    bodyLines.append(lines[i])
                    i += 1
                }
            }
            if sender == nil {
                diagnostics.append(Diagnostic(file: file, severity: .warning, byteOffset: byteOffsets[blockStart], messageNumber: n, message: "block has no 发件人 field"))
            }
            var date: Date? = nil
            if let s = sent {
                date = MailDate.parse(s)
                if date == nil {
                    diagnostics.append(Diagnostic(file: file, severity: .warning, byteOffset: byteOffsets[blockStart], messageNumber: n, message: "unreadable 发送时间 \"\(s)\""))
                }
            } else {
                diagnostics.append(Diagnostic(file: file, severity: .warning, byteOffset: byteOffsets[blockStart], messageNumber: n, message: "block has no 发送时间 field"))
            }
            let body = bodyLines.joined(separator: "\n")
            let msg = Message(
                source: SourceLocation(file: file, format: .crmExport, index: n, byteOffset: byteOffsets[blockStart]),
                from: MailAddress.parse(sender ?? ""),
                to: to.map(AddressList.parse) ?? [],
                cc: cc.map(AddressList.parse) ?? [],
                sent: date,
                subject: blockSubject ?? subject,
                body: body)
            messages.append(msg)
        }
        return (messages, diagnostics)
    }
}

/// Address lists (`To:`/`Cc:`), split on commas and semicolons outside quotes and angle brackets.
public enum AddressList {
    /// Addresses separated by `,` `;` `，` `；` outside quotes and angle brackets (scanned as UTF-8 bytes: every
    /// delimiter is ASCII or a whole 3-byte sequence, never part of another character's bytes).
    public static func parse(_ raw: String) -> [MailAddress] {
        var out: [MailAddress] = []
        let u = Array(raw.utf8)
        var start = 0, i = 0
        var inQuote = false, inAngle = false
        func add(upTo end: Int) {
            let a = MailAddress.parse(String(decoding: u[start..<end], as: UTF8.self))
            if a.name != nil || a.address != nil { out.append(a) }
        }
        while i < u.count {
            let b = u[i]
            if b == 0x22 { inQuote.toggle() } else if b == 0x3C { inAngle = true } else if b == 0x3E { inAngle = false }
            var separator = 0
            if !inQuote && !inAngle {
                if b == 0x2C || b == 0x3B { separator = 1 }   // , ;
                else if b == 0xEF, i + 2 < u.count, u[i + 1] == 0xBC, u[i + 2] == 0x8C || u[i + 2] == 0x9B { separator = 3 }   // ， ；
            }
            if separator > 0 {
                add(upTo: i)
                i += separator
                start = i
            } else {
                i += 1
            }
        }
        add(upTo: u.count)
        return out
    }
}
