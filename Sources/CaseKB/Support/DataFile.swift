import Foundation

/// Domain knowledge shipped as data files in `Resources/`: one entry a line, a comment after ` # `,
/// blank lines and lines starting with `#` ignored (the style of Mozilla siggen's lists).
public enum DataFile {
    public struct Entry: Sendable, Equatable {
        public var value: String
        public var comment: String
        public var line: Int
    }

    public enum LoadError: Error, CustomStringConvertible {
        case missing(String)
        case badEntry(file: String, line: Int, reason: String)
        public var description: String {
            switch self {
            case .missing(let f): return "casekb data file \(f) is missing from the installed resources"
            case .badEntry(let f, let l, let r): return "\(f):\(l): \(r)"
            }
        }
    }

    /// The raw text of a data file.
    public static func text(_ name: String) throws -> String {
        if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources")
            ?? Bundle.module.url(forResource: name, withExtension: nil),
           let data = try? Data(contentsOf: url) {
            return String(decoding: data, as: UTF8.self)
        }
        throw LoadError.missing(name)
    }

    /// Parse the entries of a data file's text.
    public static func entries(fromText text: String) -> [Entry] {
        var out: [Entry] = []
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.trimmingSpaces()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var value = String(line)
            var comment = ""
            if let r = value.range(of: " # ") ?? value.range(of: "\t# ") {
                comment = String(value[r.upperBound...]).trimmingSpaces()
                value = String(value[..<r.lowerBound])
            }
            value = value.trimmingSpaces()
            if !value.isEmpty { out.append(Entry(value: value, comment: comment, line: n + 1)) }
        }
        return out
    }

    public static func entries(_ name: String) throws -> [Entry] {
        entries(fromText: try text(name))
    }

    /// Entries compiled as regular expressions (case-insensitive unless told); a bad pattern names its file and line.
    static func regexes(_ name: String, caseInsensitive: Bool = true) throws -> [ScalarRegex] {
        try entries(name).map { e in
            do { return try ScalarRegex(e.value, caseInsensitive: caseInsensitive) }
            catch { throw LoadError.badEntry(file: name, line: e.line, reason: "invalid pattern \(e.value)") }
        }
    }
}
