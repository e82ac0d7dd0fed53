import ArgumentParser
import CaseKB
import Foundation

/// `casekb similar [FILE | -]`: prior cases with the same root cause as a new dump's analysis.
struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "Find prior cases like a new crash: paste !analyze -v, a kc stack, or give a mail or thread file.")

    @Argument(help: "A file with crash output or mail, or - for standard input (the default).")
    var file: String = "-"

    @Option(help: "Most cases to show.") var limit: Int = 5
    @OptionGroup var store: StoreOptions

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path, readOnly: true) }
        let text: String
        var path: String? = nil
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(description: "\(file): cannot read the file") }
            text = Charset.decode([UInt8](data), label: nil).text
            path = file
        }
        if text.trimmingSpacesAndNewlines().isEmpty { throw CLIError(description: "no crash output given (pass a file, or pipe text to `casekb similar -`)") }
        let r = try plainErrors { try kb.similar(text: text, path: path, limit: limit) }
        if store.json { try printJSON(r); return }
        print("query: bugchecks \(r.query.bugchecks.joined(separator: ", ")); frames \(r.query.frames.prefix(4).joined(separator: " ← ")); culprits \(r.query.culprits.joined(separator: ", ")); pool \(r.query.poolTags.joined(separator: ", "))")
        if r.results.isEmpty {
            print("no credible match in the knowledge base (confidence: none)")
            return
        }
        for s in r.results {
            print("\n\(s.case)  \(s.confidence.rawValue)  (score \(String(format: "%.2f", s.score)))")
            print("  \(s.subject)")
            for reason in s.reasons { print("  - \(reason)") }
            let advice = s.recommendations.map { "\($0.action)\($0.target.map { " " + $0 } ?? "")" }
            if !advice.isEmpty { print("  advice there: \(Array(Set(advice)).sorted().joined(separator: "; "))") }
        }
    }
}

/// `casekb eval-similar`: leave-one-out evaluation of similar-case lookup on a labelled set, with two baselines.
struct EvalSimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-similar",
        abstract: "Leave-one-out R@1, R@5, MRR and new-vs-known ROC-AUC on a labelled set, against bucket and TF-IDF baselines.")

    @Option(help: "Folder of evaluation threads with a labels.tsv (file<TAB>group).") var set: String = "Corpus/eval"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let report = try plainErrors { try SimilarityEvaluation.run(directory: set) }
        if json { try printJSON(report); return }
        print(report.text)
    }
}
