import CaseKB
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// casekb-bench: prints throughput figures for casekb's stages on a generated corpus.
// Build in release: swift run -c release casekb-bench parse [--threads N]

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func option(_ name: String, _ def: Int) -> Int {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) { return v }
    return def
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? Int) ?? 0
}

let mode = CommandLine.arguments.dropFirst().first ?? "parse"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("casekb-bench-\(getpid())").path
defer { try? FileManager.default.removeItem(atPath: tmp) }

switch mode {
case "parse":
    let threads = option("--threads", 5000)
    let t0 = now()
    let count = try CorpusGenerator(seed: 7).write(threads: threads, to: tmp, layout: .mbox)
    let path = tmp + "/generated.mbox"
    let bytes = fileSize(path)
    print("generated \(count) messages, \(String(format: "%.1f", Double(bytes) / 1e6)) MB mbox in \(String(format: "%.1f", now() - t0)) s")
    let rssBefore = peakRSSMiB()
    let t1 = now()
    let result = MailReader.read(path: path)
    let t2 = now()
    let cases = CaseGrouper.group(result.messages)
    let t3 = now()
    let parseSecs = t2 - t1
    print("parse (MIME, charsets, HTML, quotes, signatures): \(result.messages.count) messages in \(String(format: "%.2f", parseSecs)) s")
    print(String(format: "  %.0f messages/s, %.1f MB/s (one core)", Double(result.messages.count) / parseSecs, Double(bytes) / 1e6 / parseSecs))
    print(String(format: "grouping into %d cases: %.2f s", cases.count, t3 - t2))
    print(String(format: "peak RSS: %.0f MiB (%.0f MiB before parsing; the parsed messages are kept in memory)", peakRSSMiB(), rssBefore))
    let errors = result.diagnostics.filter { $0.severity == .error }
    print("errors: \(errors.count)")
    for e in errors.prefix(5) { print("  \(e)") }
case "profile":
    // where parse time goes, on a sample of generated messages
    let msgs = CorpusGenerator(seed: 7).messages(threads: option("--threads", 500))
    let bytes = msgs.reduce(0) { $0 + $1.bytes.count }
    var t = now()
    var parsed: [ParsedMail] = []
    for m in msgs { parsed.append(MIMEParser.parse(m.bytes)) }
    let mime = now() - t
    t = now()
    var n = 0
    for p in parsed { n += QuoteSplitter.shared.split(p.body).newText.count }
    let quotes = now() - t
    t = now()
    for p in parsed { n += p.headers.value("Subject")?.count ?? 0; n += p.headers.value("From")?.count ?? 0 }
    let headers = now() - t
    print(String(format: "%d messages, %.1f MB: MIME %.2f s, quotes+signatures %.2f s, header decoding %.2f s (%d)", msgs.count, Double(bytes) / 1e6, mime, quotes, headers, n))
case "extract":
    // extraction throughput on one core, over the new text and text attachments of generated messages
    let threads = option("--threads", 2000)
    let msgs = CorpusGenerator(seed: 11).messages(threads: threads)
    var texts: [String] = []
    for m in msgs {
        let (parsed, _) = MailReader.messages(fromMail: m.bytes, file: "gen", format: .eml, index: 1, byteOffset: 0)
        for p in parsed { texts.append(p.newText); texts += p.attachments.compactMap(\.text) }
    }
    // plus the seed thread's analyses, which are denser WinDbg output
    if let seed = ThreadParser.parse(paths: ["Corpus/threads/crm/CAS-02698-C5V4N5.txt"]).cases.first {
        for _ in 0..<20 { texts += seed.messages.map(\.newText) }
    }
    let bytes = texts.reduce(0) { $0 + $1.utf8.count }
    let extractor = MessageExtractor()
    var items = 0
    let t0 = now()
    for (k, text) in texts.enumerated() {
        let f = extractor.extract(text: text, message: k, field: "new_text")
        items += f.bugchecks.count + f.stacks.count + f.poolTags.count + f.modules.count + f.recommendations.count + f.entities.count
    }
    let secs = now() - t0
    // where the time goes, extractor by extractor
    let lines = texts.enumerated().map { TextLinesProbe.make($1, $0) }
    for name in ["lines", "bugchecks", "stacks", "pool", "modules", "entities", "advice"] {
        let t = now()
        var n = 0
        for (k, text) in texts.enumerated() { n += TextLinesProbe.run(name, text, lines[k]) }
        print(String(format: "  %-10@ %.2f s (%d)", name as NSString, now() - t, n))
    }
    print(String(format: "extraction: %d texts, %.1f MB in %.2f s: %.1f MB/s, %.0f texts/s (one core), %d facts", texts.count, Double(bytes) / 1e6, secs, Double(bytes) / 1e6 / secs, Double(texts.count) / secs, items))
default:
    print("usage: casekb-bench parse [--threads N]")
    exit(2)
}
