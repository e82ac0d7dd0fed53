import Foundation
import Testing
@testable import CaseKB

/// The fast regex machine must answer exactly what ICU answers, on every pattern the project loads and on real text.
@Suite("ScalarRegex agrees with ICU")
struct ScalarRegexTests {
    /// Every pattern the extractors and the mail stages run through ScalarRegex.
    static var projectPatterns: [ScalarRegex] {
        var out = RecommendationExtractor.shared.actions.map(\.1)
        out += [RecommendationExtractor.vendorWord, RecommendationExtractor.versionOf, RecommendationExtractor.driverPhrase]
        out += [EntityExtractor.model, PoolExtractor.pooltagLine, PoolExtractor.tagCommand, PoolExtractor.tagHit]
        out += FrameRules.shared.rules.map(\.1)
        out += QuoteSplitter.shared.separators + QuoteSplitter.shared.attributions
        out += CaseNumberFinder.shared.patterns
        out += Redactor.shared.rules.map(\.regex)
        out.append(CrashSignature.proseFrame)
        return out
    }

    /// Lines of the bundled corpus, the seed (when shared/ is beside the checkout) and generated mail, plus the
    /// advice sentences of the seed, each cut at sentence ends as the advice extractor cuts them.
    static var texts: [String] {
        var files = [Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")]
        if let eval = try? FileManager.default.contentsOfDirectory(atPath: Fixtures.corpus("eval")) {
            files += eval.sorted().filter { $0.hasSuffix(".eml") }.map { Fixtures.corpus("eval/" + $0) }
        }
        if Fixtures.hasShared { files.append(Fixtures.seedPath) }
        var lines: [String] = []
        for f in files {
            for c in Fixtures.cases(f) {
                for m in c.messages { lines += (m.subject + "\n" + m.body).split(separator: "\n").map(String.init) }
            }
        }
        for m in CorpusGenerator(seed: 5).messages(threads: 12) {
            let (parsed, _) = MailReader.messages(fromMail: m.bytes, file: "gen", format: .eml, index: 1, byteOffset: 0)
            for p in parsed { lines += p.body.split(separator: "\n").map(String.init) }
        }
        var seen = Set<String>()
        return lines.filter { seen.insert($0).inserted }
    }

    @Test("every project pattern runs on the fast machine, not ICU")
    func compiled() {
        // pattern sets whose syntax stays in the subset; a new pattern outside it would silently cost 10×
        for re in Self.projectPatterns {
            #expect(re.isCompiled, "outside the fast subset: \(re.pattern)")
        }
    }

    @Test("same matches and groups as NSRegularExpression on corpus lines")
    func agreesOnCorpus() {
        let texts = Self.texts
        #expect(texts.count > 800)
        var compared = 0, matched = 0
        for re in Self.projectPatterns where re.isCompiled {
            for s in texts {
                let t = ScalarText(s)
                let fast = re.matches(in: t)
                let icu = re.icuMatches(t, first: false)
                if fast != icu {
                    Issue.record("\(re.pattern) on \(s): fast \(fast.map(\.groups)) ICU \(icu.map(\.groups))")
                    return
                }
                compared += 1
                matched += fast.isEmpty ? 0 : 1
            }
        }
        #expect(compared > 10_000)
        #expect(matched > 100)   // the comparison saw real matches, not only misses
    }

    @Test("hand-written edge cases", arguments: [
        (#"(uninstall|remov)\w*\s+(the\s+)?[\w.\-]+\.sys"#, true, "Please UNINSTALL the VWIFIMF.SYS driver; removing x.sys too"),
        (#"卸载[^，。；,;]{0,12}驱动"#, true, "建议卸载无线网卡驱动，再卸载，驱动"),
        (#"\bThinkPad\s+([A-Z]\d{2,3}s?)\b"#, false, "ThinkPad T490s and ThinkPadX1 and ThinkPad  E14"),
        (#"a.*?b"#, false, "aXbYb a\nb"),
        (#"(x)?y"#, false, "y xy"),
        (#"^\s*(\d+)$"#, false, "  42\n"),
        (#"x*"#, false, "axxbx"),
        (#"[Ａ-Ｚa-z]+"#, false, "ＡＢcd１"),
        (#"ｗｉｎｄｏｗｓ"#, true, "ＷＩＮＤＯＷＳ and Windows"),
        (#"caf\u00e9|na[ïi]ve"#, true, "CAFÉ NAÏVE naive"),
        (#"\d{2,3}"#, false, "１２３ 45 6789"),
        (#"\B-\w+"#, false, "a-b -c"),
        (#"(?:a|ab)(?:c|bcd)(d*)"#, false, "abcd"),
        (#"[^\s，。的]{1,10}的?版本"#, false, "降级 DSP的版本 and 回滚 老版本"),
        (#"\w+\s\S+"#, false, "蓝屏 代码\u{3000}0x50 β γ"),
        (#"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9])"#, false, "x13812345678 13812345678 138123456789 电话13912345678"),
        (#"(?i)(?<=tel|phone|电话)[:： ]*(\+?\d[\d ()-]{6,18}\d)"#, false, "TEL: 0756-3395361, Phone 13812345678 电话：+86 10 5917 1234"),
        (#"(?<=ab|c)x(?=y|zz)"#, false, "abxy cxzz bxy cxz"),
    ])
    func edgeCase(_ c: (String, Bool, String)) throws {
        let re = try ScalarRegex(c.0, caseInsensitive: c.1)
        #expect(re.isCompiled)
        let t = ScalarText(c.2)
        #expect(re.matches(in: t) == re.icuMatches(t, first: false))
        #expect(re.firstMatch(in: t) == re.icuMatches(t, first: true).first)
    }

    @Test("syntax outside the subset falls back to ICU and still answers", arguments: [
        #"(?<=a{1,3})b"#, #"(?i:abc)"#, #"\p{Han}+"#, #"(a*)*b"#, #"a++"#,
    ])
    func fallback(_ pattern: String) throws {
        let re = try ScalarRegex(pattern)
        #expect(!re.isCompiled)
        let t = ScalarText("x13812345678 ABC 蓝屏 aab aa")
        #expect(re.matches(in: t) == re.icuMatches(t, first: false))
    }

    @Test("an invalid pattern is an error, as with NSRegularExpression")
    func invalid() {
        #expect(throws: (any Error).self) { try ScalarRegex("(unclosed") }
    }
}

@Suite("ScalarText classes")
struct ScalarTextTests {
    @Test("the fast ranges for Chinese text agree with the Unicode properties")
    func fastRanges() {
        for v in UInt32(0x80)...0xFFFF where !(0xD800...0xDFFF).contains(v) {
            let fast = ScalarText.foldAndClass(v), slow = ScalarText.foldAndClassByProperties(v)
            if fast != slow { Issue.record("U+\(String(v, radix: 16)): fast \(fast) properties \(slow)"); return }
        }
    }
}
