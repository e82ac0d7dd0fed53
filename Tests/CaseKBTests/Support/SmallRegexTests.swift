import Foundation
import Testing
@testable import CaseKB

@Suite("Small regex matcher")
struct SmallRegexTests {
    func icu(_ pattern: String, _ text: String) -> [Range<Int>] {
        guard let re = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else { return [] }
        // NSRange (UTF-16) → scalar offsets
        var scalarAt: [Int: Int] = [:]
        var u = 0
        for (k, s) in text.unicodeScalars.enumerated() { scalarAt[u] = k; u += s.utf16.count }
        scalarAt[u] = text.unicodeScalars.count
        return re.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            guard let a = scalarAt[m.range.location], let b = scalarAt[m.range.location + m.range.length] else { return nil }
            return a..<b
        }
    }

    @Test("outside the subset: compile says so (lookarounds, lazy repeats, ranges, anchors)")
    func unsupported() {
        for p in [#"(?<![A-Z])KB"#, #"a+?"#, "[a-z]+", "^start", "a.b", #"\p{L}"#] { #expect(SmallRegex.compile(p) == nil, "\(p)") }
        #expect(SmallRegex.compile(#"(uninstall|remov)\w*\s+(the\s+)?[\w.\-]+\.sys"#) != nil)
    }

    @Test("every advice pattern the small matcher takes finds exactly what ICU finds, on the seed and generated mail")
    func sameAsICU() throws {
        var texts: [String] = []
        if let seed = ThreadParser.parse(paths: [Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")]).cases.first {
            texts += seed.messages.flatMap { $0.newText.split(separator: "\n").map(String.init) }
        }
        for m in CorpusGenerator(seed: 13).messages(threads: 30) {
            let (parsed, _) = MailReader.messages(fromMail: m.bytes, file: "gen", format: .eml, index: 1, byteOffset: 0)
            texts += parsed.flatMap { $0.newText.split(separator: "\n").map(String.init) }
        }
        let entries = try DataFile.entries("recommendation-actions.txt")
        texts += entries.map(\.comment)
        texts += ["请卸载 vwifimf.sys 驱动后观察", "Please UNINSTALL the Foo-Bar.SYS driver", "建议联系TMS厂商进一步排查；回退到旧版驱动", "keep  an eye", "KB 4559003 and kb5005565"]
        var compared = 0, supported = 0
        for e in entries {
            guard let small = SmallRegex.compile(e.value) else { continue }
            supported += 1
            for t in texts {
                let mine = small.matches(in: Array(t.unicodeScalars))
                let theirs = icu(e.value, t)
                #expect(mine == theirs, "\(e.value) on \(t.prefix(60))")
                compared += 1
            }
        }
        #expect(supported >= entries.count - 3)
        #expect(compared > 5_000)
    }
}
