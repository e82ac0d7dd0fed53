import ArgumentParser
import CaseKB
import Foundation

/// `casekb digest`: the weekly digest as Markdown, HTML or JSON.
struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "digest", abstract: "Weekly digest: what crashed, what recurs, which drivers to chase.")

    @Option(help: "ISO week, e.g. 2020-W34 (default: the last complete week).") var week: String?
    @Option(help: "Start date (with --to) instead of a week.") var from: String?
    @Option(help: "End date, exclusive (with --from).") var to: String?
    @Option(help: "md, html or json.") var format: String = "md"
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(help: "Time zone of the week boundaries: UTC or an offset like +08:00.") var tz: String?
    @Option(name: .long, help: "Knowledge base file (default: $CASEKB_DB, else ./casekb.sqlite).") var db: String?

    func run() throws {
        guard ["md", "html", "json"].contains(format) else { throw CLIError(description: "--format \(format): expected md, html or json") }
        let offset = try plainErrors { try Digest.offset(tz) }
        let (start, end, label): (Date, Date, String)
        if let week {
            let (a, b) = try plainErrors { try Digest.week(week, offsetMinutes: offset) }
            (start, end, label) = (a, b, week.uppercased())
        } else if let from, let to {
            guard let a = MailDate.parseISOLike(from, defaultOffsetMinutes: offset) else { throw CLIError(description: "--from \(from): expected a date like 2020-08-17") }
            guard let b = MailDate.parseISOLike(to, defaultOffsetMinutes: offset) else { throw CLIError(description: "--to \(to): expected a date like 2020-08-24") }
            guard a < b else { throw CLIError(description: "--from must be before --to") }
            (start, end, label) = (a, b, "\(from) to \(to)")
        } else if from != nil || to != nil {
            throw CLIError(description: "--from and --to go together")
        } else {
            let thisWeek = Digest.weekLabel(Date(), offsetMinutes: offset)
            let (monday, _) = try plainErrors { try Digest.week(thisWeek, offsetMinutes: offset) }
            let last = Digest.weekLabel(monday.addingTimeInterval(-86400), offsetMinutes: offset)
            let (a, b) = try plainErrors { try Digest.week(last, offsetMinutes: offset) }
            (start, end, label) = (a, b, last)
        }
        let kb = try plainErrors { try KnowledgeBase(path: KnowledgeBase.defaultPath(db), readOnly: true) }
        let d = try plainErrors { try kb.digest(from: start, to: end, label: label) }
        let text: String
        switch format {
        case "html": text = d.html
        case "json":
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            text = String(decoding: try e.encode(d), as: UTF8.self) + "\n"
        default: text = d.markdown
        }
        if let out {
            do { try text.write(toFile: out, atomically: true, encoding: .utf8) }
            catch { throw CLIError(description: "\(out): cannot write the digest") }
        } else {
            print(text, terminator: "")
        }
    }
}
