import ArgumentParser
import CaseKB
import Foundation

/// `casekb parse PATH...`: read mail files and folders and print the cases and messages found.
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse mail files (CRM export, .eml, mbox, maildir, HTML) into cases and messages."
    )

    @Argument(help: "Files or folders to read.")
    var paths: [String]

    @Flag(help: "Print JSON instead of a readable summary.")
    var json = false

    @Flag(name: .customLong("no-redact"), help: "Keep ID and phone numbers (they are masked by default).")
    var noRedact = false

    func run() throws {
        let (cases, files, diags) = ThreadParser.parse(paths: paths, redact: !noRedact)
        let report = ParseReport(cases: cases, files: files, extraDiagnostics: diags)
        var stderr = StandardError()
        for d in diags + files.flatMap(\.diagnostics) { print(d.description, to: &stderr) }
        if json {
            print(try report.json())
        } else {
            for c in cases {
                print("\(c.key)  \(c.normalizedSubject)")
                if c.caseIDs.count > 1 { print("  case ids: \(c.caseIDs.joined(separator: ", "))") }
                print("  \(c.messages.count) message(s), participants: \(c.participants.joined(separator: ", "))")
                for (k, m) in c.messages.enumerated() {
                    let firstLine = m.newText.split(separator: "\n").first.map(String.init) ?? ""
                    let sent = m.sent.map(MailDate.iso) ?? "(no date)"
                    print("  \(String(format: "%3d", k + 1)). \(sent)  \(m.from.display): \(firstLine.prefix(70))")
                }
                let facts = CaseKnowledge.build(c)
                if !facts.bugchecks.isEmpty {
                    print("  bugchecks: " + facts.bugchecks.map { "\($0.code) \($0.name ?? "?") (msg \($0.messages.map(String.init).joined(separator: ",")))" }.joined(separator: "; "))
                }
                if !facts.culprits.isEmpty { print("  culprits: \(facts.culprits.joined(separator: ", "))") }
                if !facts.stacks.isEmpty { print("  stacks: \(facts.stacks.count), pool tags: \(facts.poolTags.map { $0.tag + ($0.owner.map { "→" + $0 } ?? "") }.joined(separator: ", "))") }
                for r in facts.recommendations.prefix(6) { print("  advice (msg \(r.message)): \(r.action)\(r.target.map { " " + $0 } ?? "")") }
                if facts.recommendations.count > 6 { print("  … \(facts.recommendations.count - 6) more recommendations") }
            }
            let failed = files.filter(\.failed).count
            print("\(files.count) file(s), \(files.reduce(0) { $0 + $1.messages.count }) message(s), \(cases.count) case(s), \(failed) failed")
        }
        if files.contains(where: \.failed) || diags.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { FileHandle.standardError.write(Data(string.utf8)) }
}
