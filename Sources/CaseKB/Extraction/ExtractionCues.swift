import Foundation

/// The cue words of `Resources/extraction-cues.txt`, by kind, as strings and as byte needles.
struct ExtractionCues: Sendable {
    let byKind: [String: [String]]

    static let shared: ExtractionCues = {
        var map: [String: [String]] = [:]
        for e in (try? DataFile.entries("extraction-cues.txt")) ?? [] {
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            var v = parts[1]
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            map[parts[0], default: []].append(v)
        }
        return ExtractionCues(byKind: map)
    }()

    func strings(_ kind: String) -> [String] { byKind[kind] ?? [] }

    /// An alternation of the kind's values for a regular expression, longest first.
    func alternation(_ kind: String) -> String {
        strings(kind).sorted { $0.count > $1.count }.map(NSRegularExpression.escapedPattern).joined(separator: "|")
    }
}
