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

    /// Entries compiled as case-insensitive regular expressions; a bad pattern names its file and line.
    public static func regexes(_ name: String, options: NSRegularExpression.Options = [.caseInsensitive]) throws -> [NSRegularExpression] {
        try entries(name).map { e in
            do { return try NSRegularExpression(pattern: e.value, options: options) }
            catch { throw LoadError.badEntry(file: name, line: e.line, reason: "invalid pattern \(e.value)") }
        }
    }
}

extension NSRegularExpression {
    /// Whether the pattern matches anywhere in `s`.
    func matches(_ s: String) -> Bool {
        firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
    }

    /// The first match's whole text, or the text of capture group `group` when it participated.
    func firstMatchText(in s: String, group: Int = 0) -> String? {
        guard let m = firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return nil }
        let r = m.range(at: group).location == NSNotFound ? m.range : m.range(at: group)
        return Range(r, in: s).map { String(s[$0]) }
    }

    func allMatchTexts(in s: String) -> [String] {
        matches(in: s, range: NSRange(s.startIndex..., in: s)).compactMap { Range($0.range, in: s).map { String(s[$0]) } }
    }
}
