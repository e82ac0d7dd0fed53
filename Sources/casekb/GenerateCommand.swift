import ArgumentParser
import CaseKB
import Foundation

/// `casekb generate`: write a synthetic corpus of realistic case threads (for benchmarks and trying casekb out).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write N synthetic case threads (mixed Chinese/English, GB18030/UTF-8, HTML, quotes, WinDbg output) as a maildir or mbox."
    )

    @Option(help: "Number of threads to write (3-6 messages each).")
    var threads: Int = 100

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "maildir or mbox.")
    var layout: String = "maildir"

    @Option(help: "Random seed; the same seed writes the same corpus.")
    var seed: UInt64 = 42

    func run() throws {
        guard let l = CorpusGenerator.Layout(rawValue: layout) else {
            throw ValidationError("--layout must be maildir or mbox, not \(layout)")
        }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        let n = try CorpusGenerator(seed: seed).write(threads: threads, to: out, layout: l)
        print("wrote \(n) messages in \(threads) threads to \(out) (\(layout))")
    }
}
