import Foundation

/// A case as readable text (`casekb show`).
public enum CaseText {
    public static func render(_ c: CaseThread, _ k: CaseKnowledge) -> String {
        var s = "\(c.key)  \(c.normalizedSubject)\n"
        s += "subject: \(c.subject)\n"
        if !c.caseIDs.isEmpty { s += "case ids: \(c.caseIDs.joined(separator: ", "))\n" }
        s += "participants: \(c.participants.joined(separator: ", "))\n"
        let sents = c.messages.compactMap(\.sent)
        if let a = sents.min(), let b = sents.max() { s += "from \(MailDate.iso(a)) to \(MailDate.iso(b)), \(c.messages.count) messages\n" }
        if !k.bugchecks.isEmpty {
            s += "\nbugchecks:\n"
            for b in k.bugchecks {
                s += "  \(b.code) \(b.name ?? "?")  (message \(b.messages.map(String.init).joined(separator: ", ")))\n"
                for (i, a) in b.args.enumerated() { s += "    Arg\(i + 1): \(a)" + ((i < b.argMeanings.count ? b.argMeanings[i] : nil).map { "  — \($0)" } ?? "") + "\n" }
            }
        }
        if !k.culprits.isEmpty { s += "\nculprits: \(k.culpritDetails.map { "\($0.module) (\($0.evidence.joined(separator: "; ")))" }.joined(separator: "\n          "))\n" }
        if !k.poolTags.isEmpty { s += "\npool tags: \(k.poolTags.map { $0.tag + ($0.owner.map { " → " + $0 } ?? "") + ($0.suspect ? " (suspect)" : "") }.joined(separator: ", "))\n" }
        for (n, st) in k.stacks.enumerated() {
            s += "\nstack \(n + 1) (\(st.command), message \(st.messages.map(String.init).joined(separator: ", "))):\n"
            for (i, f) in st.frames.enumerated() { s += String(format: "  %02x ", i) + f + (st.inlineFrames.contains(i) ? "  (inline)" : "") + "\n" }
        }
        if !k.recommendations.isEmpty {
            s += "\nrecommendations:\n"
            for r in k.recommendations { s += "  #\(r.message) \(r.action)\(r.target.map { " [\($0)]" } ?? ""): \(r.text.replacingOccurrences(of: "\n", with: " ").prefix(120))\n" }
        }
        let e = k.entities
        if !(e.kb + e.errorCodes + e.osVersions + e.machineModels).isEmpty {
            s += "\nKB: \(e.kb.joined(separator: ", "))  error codes: \(e.errorCodes.joined(separator: ", "))  OS: \(e.osVersions.joined(separator: ", "))  models: \(e.machineModels.joined(separator: ", "))\n"
        }
        s += "\ntimeline:\n"
        for (i, m) in c.messages.enumerated() {
            s += "\n#\(i + 1)  \(m.sent.map(MailDate.iso) ?? "(no date)")  \(m.from.display)\(m.from.address.map { m.from.name != nil ? " <\($0)>" : "" } ?? "")\n"
            s += m.newText.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n") + "\n"
            if !m.attachments.isEmpty { s += "  attachments: \(m.attachments.map { "\($0.filename ?? "?") (\($0.contentType), \($0.size) bytes)" }.joined(separator: ", "))\n" }
        }
        return s
    }

    public static func print(_ c: CaseThread, _ k: CaseKnowledge) { Swift.print(render(c, k), terminator: "") }
}
