import Foundation

/// Masks personal data (national ID numbers, mobile and landline phone numbers) with `*`, keeping the length so
/// spans stay valid. Patterns live in `Resources/pii-patterns.txt`; ID numbers must pass the GB 11643 checksum.
public struct Redactor: @unchecked Sendable {
    struct Rule { var kind: String; var regex: NSRegularExpression }
    let rules: [Rule]

    public static let shared: Redactor = {
        do { return try Redactor() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    init() throws {
        rules = try DataFile.entries("pii-patterns.txt").map { e in
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DataFile.LoadError.badEntry(file: "pii-patterns.txt", line: e.line, reason: "expected 'kind regex'") }
            do { return Rule(kind: parts[0], regex: try NSRegularExpression(pattern: parts[1])) }
            catch { throw DataFile.LoadError.badEntry(file: "pii-patterns.txt", line: e.line, reason: "invalid pattern") }
        }
    }

    /// Whether the text has a run of at least 7 digits (allowing -, space, + and parentheses inside) that is not part of
    /// a hex word or a WinDbg address (no letter or back-tick right before or after): the cheap test.
    static func hasLongDigitRun(_ s: Substring) -> Bool {
        var digits = 0
        var runStartOK = true
        var prev: UInt8 = 0x20
        @inline(__always) func isWordish(_ b: UInt8) -> Bool { (b &- 0x41) < 26 || (b &- 0x61) < 26 || b == 0x60 || b == 0x5F }
        for b in s.utf8 {
            if b >= 0x30 && b <= 0x39 {
                if digits == 0 { runStartOK = !isWordish(prev) }
                digits += 1
            } else if digits > 0 && (b == 0x2D || b == 0x20 || b == 0x28 || b == 0x29) {
                // separators inside a phone number
            } else {
                if digits >= 7 && runStartOK && !isWordish(b) { return true }
                digits = 0
            }
            prev = b
        }
        return digits >= 7 && runStartOK
    }

    static func validChineseID(_ s: Substring) -> Bool {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let checks = Array("10X98765432")
        let chars = Array(s)
        guard chars.count == 18 else { return false }
        var sum = 0
        for k in 0..<17 { guard let d = chars[k].wholeNumberValue else { return false }; sum += d * weights[k] }
        return Character(chars[17].uppercased()) == checks[sum % 11]
    }

    /// The text with personal data masked.
    public func redact(_ text: String) -> String {
        guard Redactor.hasLongDigitRun(text[...]) else { return text }
        var lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { Substring($0) }
        var changed = false
        for k in lines.indices where Redactor.hasLongDigitRun(lines[k]) {
            var line = String(lines[k])
            for rule in rules {
                let ns = NSRange(line.startIndex..., in: line)
                for m in rule.regex.matches(in: line, range: ns).reversed() {
                    let r = m.numberOfRanges > 1 && m.range(at: 1).location != NSNotFound ? m.range(at: 1) : m.range
                    guard let range = Range(r, in: line) else { continue }
                    if rule.kind == "cn-id" && !Redactor.validChineseID(line[range]) { continue }
                    let masked = String(line[range].map { $0.isNumber || (rule.kind == "cn-id" && ($0 == "X" || $0 == "x")) ? "*" : $0 })
                    line.replaceSubrange(range, with: masked)
                    changed = true
                }
            }
            lines[k] = Substring(line)
        }
        return changed ? lines.joined(separator: "\n") : text
    }

    /// A message with personal data masked in every text field, its subject and its sender's name.
    public func redact(_ m: Message) -> Message {
        var r = m
        r.body = redact(m.body)
        r.newText = redact(m.newText)
        r.quotedText = redact(m.quotedText)
        r.signature = redact(m.signature)
        r.subject = redact(m.subject)
        r.attachments = m.attachments.map { a in var b = a; b.text = a.text.map(redact); return b }
        return r
    }
}
