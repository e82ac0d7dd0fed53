import ArgumentParser
import CaseKB
import CMimalloc
import Foundation

/// Options every knowledge-base command takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Knowledge base file (default: $CASEKB_DB, else ./casekb.sqlite).")
    var db: String?

    @Flag(help: "Print JSON.")
    var json = false

    var path: String { KnowledgeBase.defaultPath(db) }
}

func parseDay(_ s: String?, option: String) throws -> Date? {
    guard let s else { return nil }
    if let d = MailDate.parseISOLike(s) { return d }
    throw ValidationError("\(option) \(s): expected a date like 2020-08-17 or 2020-08-17T14:00:00Z")
}

func printJSON<T: Encodable>(_ v: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try e.encode(v), as: UTF8.self))
}

/// A plain one-line error (ArgumentParser prints it as `Error: …` and exits 1, without usage text).
struct CLIError: Error, CustomStringConvertible {
    var description: String
}

/// Turns errors from the library into a plain message and a non-zero exit, never an SQLite trace.
func plainErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() }
    catch let e as SearchText.QueryError { throw CLIError(description: e.description) }
    catch let e as KnowledgeBase.StoreError { throw CLIError(description: e.description) }
    catch let e as ValidationError { throw e }
    catch let e as ExitCode { throw e }
    catch let e as CLIError { throw e }
    catch { throw CLIError(description: KnowledgeBase.describe(error)) }
}

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ingest", abstract: "Add mail files and folders to the knowledge base (unchanged files are skipped).")

    @Argument(help: "Files or folders to read.")
    var paths: [String]

    @OptionGroup var store: StoreOptions

    @Flag(name: .customLong("no-redact"), help: "Keep ID and phone numbers (they are masked by default).")
    var noRedact = false

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path) }
        let ingester = Ingester(kb)
        ingester.redact = !noRedact
        let interactive = isatty(STDERR_FILENO) == 1 && !store.json
        if interactive {
            ingester.progress = { p in
                let rate = p.seconds > 0 ? Double(p.messages) / p.seconds : 0
                FileHandle.standardError.write(Data(String(format: "\r%d/%d files, %d messages, %.0f messages/s, %d errors ", p.filesDone, p.filesTotal, p.messages, rate, p.errors).utf8))
            }
        }
        let summary = try plainErrors { try ingester.run(paths: paths) }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        for e in summary.errors { FileHandle.standardError.write(Data((e + "\n").utf8)) }
        if store.json {
            try printJSON(summary)
        } else {
            print("\(summary.files) files (\(summary.skipped) unchanged, \(summary.replaced) replaced, \(summary.failed) failed), \(summary.messages) new messages (\(summary.duplicates) duplicates), cases: \(summary.casesNew) new, \(summary.casesUpdated) updated\(summary.casesRelinked > 0 ? ", \(summary.casesRelinked) relinked" : ""), \(String(format: "%.1f", summary.seconds)) s (\(Int(summary.messagesPerSecond)) messages/s) → \(store.path)")
            if ProcessInfo.processInfo.environment["CASEKB_TIMINGS"] != nil {
                print(String(format: "waited %.1f s for parsing, wrote for %.1f s (of which rebuilding cases %.1f s, linking similar cases %.1f s; waited for plans %.1f s, for links %.1f s)",
                             summary.waitSeconds, summary.writeSeconds, summary.rebuildSeconds, summary.linkSeconds, summary.planWaitSeconds, summary.linkWaitSeconds))
                print("malloc: " + IngestCommand.allocator + ", SQLite memory statistics: " + (KnowledgeBase.sqliteMemoryStatisticsEnabled ? "on" : "off"))
            }
        }
        if summary.failed > 0 { throw ExitCode(1) }
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Search past cases (Chinese and English words, driver and frame names, KB numbers, \"phrases\").")

    @Argument(help: "Words to find (several words are ANDed); \"quote\" a phrase; OR between words; -word excludes (after --).")
    var words: [String]

    var query: String { words.joined(separator: " ") }

    @Option(help: "Only cases that crashed with this bugcheck (d1, 0xD1, DRIVER_IRQL_NOT_LESS_OR_EQUAL).") var bugcheck: String?
    @Option(help: "Only cases naming or blaming this module.") var module: String?
    @Option(help: "Only cases with this pool tag.") var tag: String?
    @Option(help: "Only cases with advice of this action type (update_driver, contact_vendor, …).") var action: String?
    @Option(help: "Only messages sent on or after this date.") var since: String?
    @Option(help: "Only messages sent before this date.") var until: String?
    @Option(help: "Most hits to show.") var limit: Int = 20
    @OptionGroup var store: StoreOptions

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path, readOnly: true) }
        let filters = SearchFilters(bugcheck: bugcheck, module: module, tag: tag, action: action,
                                    since: try parseDay(since, option: "--since"), until: try parseDay(until, option: "--until"))
        let r = try plainErrors { try kb.search(query, filters: filters, limit: limit) }
        if store.json { try printJSON(r); return }
        if r.results.isEmpty { print("no match for \(query)"); return }
        for h in r.results {
            print("\(h.case)  #\(h.message)  \(h.sent ?? "")  \(h.from)  (\(String(format: "%.2f", h.score)))")
            print("  \(h.subject)")
            print("  \(h.snippet)")
        }
        print("\(r.results.count) of \(r.total) hits")
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a case: subject, ids, participants, timeline and extracted facts.")

    @Argument(help: "Case key or case number (CAS-…, REG:…).")
    var key: String
    @OptionGroup var store: StoreOptions

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path, readOnly: true) }
        let (thread, knowledge) = try plainErrors { try kb.show(key) }
        let links = try plainErrors { try kb.links(thread.key) }
        if store.json {
            var c = ParseReport.CaseJSON(thread, knowledge: knowledge)
            c.similarCases = links
            try printJSON(c)
            return
        }
        CaseText.print(thread, knowledge)
        if !links.isEmpty {
            print("\nsimilar earlier cases:")
            for l in links {
                print("  \(l.case)  \(l.confidence.rawValue) (\(String(format: "%.2f", l.score)))  \(l.subject)")
                for r in l.reasons { print("    - \(r)") }
            }
        }
    }
}

struct CasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cases", abstract: "List cases, most recently active first.")
    @Option(help: "Only cases active on or after this date.") var since: String?
    @Option(help: "Only cases that started before this date.") var until: String?
    @Option(help: "Most cases to list.") var limit: Int = 50
    @OptionGroup var store: StoreOptions

    struct Output: Encodable { var cases: [CaseSummary] }

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path, readOnly: true) }
        let list = try plainErrors { try kb.cases(since: try parseDay(since, option: "--since"), until: try parseDay(until, option: "--until"), limit: limit) }
        if store.json { try printJSON(Output(cases: list)); return }
        for c in list {
            print("\(c.case)  \(c.lastSent?.prefix(10) ?? "")  \(c.messages) msgs  \(c.bugchecks.joined(separator: ","))  \(c.culprits.joined(separator: ","))")
            print("  \(c.subject)")
        }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Counts, top bugchecks, top culprits and database size.")
    @OptionGroup var store: StoreOptions

    func run() throws {
        let kb = try plainErrors { try KnowledgeBase(path: store.path, readOnly: true) }
        let s = try plainErrors { try kb.stats() }
        if store.json { try printJSON(s); return }
        print("\(s.cases) cases, \(s.messages) messages, \(s.files) files, \(s.attachments) attachments, \(s.stacks) stacks, \(s.recommendations) recommendations")
        print("database: \(String(format: "%.1f", Double(s.databaseBytes) / 1_048_576)) MiB")
        print("top bugchecks:")
        for b in s.topBugchecks { print("  \(b.name) \(b.label ?? "")  \(b.cases) cases") }
        print("top culprits:")
        for c in s.topCulprits { print("  \(c.name)  \(c.cases) cases") }
    }
}

extension IngestCommand {
    /// Which malloc serves the process: mimalloc when the link put it ahead of glibc's (a block from `malloc` lies
    /// in mimalloc's heap), else glibc's.
    static var allocator: String {
        guard let block = malloc(64) else { return "unknown" }
        defer { free(block) }
        let v = Int(mi_version())
        return mi_is_in_heap_region(block) ? "mimalloc \(v / 100).\(v / 10 % 10).\(v % 10)" : "glibc (mimalloc \(v) linked but not in use)"
    }
}
