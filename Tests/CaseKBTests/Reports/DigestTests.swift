import Foundation
import FoundationXML
import GRDB
import Testing
@testable import CaseKB

@Suite("Weekly digest")
struct DigestTests {
    @Test("ISO weeks: Monday to Monday, week 53, time zones, bad input")
    func weeks() throws {
        let (a, b) = try Digest.week("2020-W34")
        #expect(MailDate.iso(a) == "2020-08-17T00:00:00.000Z")
        #expect(MailDate.iso(b) == "2020-08-24T00:00:00.000Z")
        #expect(MailDate.iso(try Digest.week("2020-W53").0) == "2020-12-28T00:00:00.000Z")
        #expect(MailDate.iso(try Digest.week("2021-W01").0) == "2021-01-04T00:00:00.000Z")
        #expect(MailDate.iso(try Digest.week("2020-W34", offsetMinutes: 480).0) == "2020-08-16T16:00:00.000Z")
        #expect(Digest.weekLabel(MailDate.parse("2020-08-19T10:00:00Z")!) == "2020-W34")
        #expect(Digest.weekLabel(MailDate.parse("2021-01-02T10:00:00Z")!) == "2020-W53")
        #expect(throws: Digest.DateError.self) { try Digest.week("2021-W53") }
        #expect(throws: Digest.DateError.self) { try Digest.week("last week") }
        #expect(try Digest.offset("+08:00") == 480)
        #expect(throws: Digest.DateError.self) { try Digest.offset("Mars/Olympus") }
    }

    @Test("the seed alone, 2020-W34: the case, its bugchecks and vwifimf first, in Markdown, HTML and JSON",
          .enabled(if: Fixtures.hasShared, "needs ../shared/seed"))
    func seedWeek() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.seedPath])
        let (a, b) = try Digest.week("2020-W34")
        let d = try kb.digest(from: a, to: b, label: "2020-W34")
        #expect(d.headline.casesActive == 1)
        #expect(d.headline.messages == 10)   // messages 13–22 were sent 17–23 August
        let c = try #require(d.cases.first)
        #expect(c.case == "CAS-02698-C5V4N5")
        #expect(Set(c.bugchecks) == ["0x000000D1", "0x00000050", "0x000000C4", "0x00000139", "0x000000FC", "0x0000001E"])
        #expect(d.topCulprits.first?.name == "vwifimf")
        #expect(c.rootCauseStated)

        let md = d.markdown
        #expect(md.contains("CAS-02698-C5V4N5"))
        #expect(md.contains("| vwifimf | 1 |"))
        #expect(md.contains("0x000000FC"))

        let html = d.html
        #expect(html.contains("CAS-02698-C5V4N5"))
        #expect(html.contains("<svg"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url(http") && !html.contains("@import"))
        // well-formed: an XML parser accepts the whole page
        let doc = try XMLDocument(data: Data(html.utf8), options: [])
        #expect(doc.rootElement()?.name == "html")
        #expect(try doc.nodes(forXPath: "//*[local-name()='svg']").count == 2)

        let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(d)) as? [String: Any]
        let cases = try #require(json?["cases"] as? [[String: Any]])
        #expect(cases.first?["case"] as? String == "CAS-02698-C5V4N5")
        #expect((json?["top_culprits"] as? [[String: Any]])?.first?["name"] as? String == "vwifimf")
    }

    @Test("mail text in the digest is escaped in HTML")
    func escaping() {
        #expect(Digest.escape("<script>alert(1)</script> & \"x\" onerror='y'") == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; onerror=&#39;y&#39;")
    }

    @Test("a generated multi-week corpus: headline counts and trends agree with an independent count")
    func multiWeek() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mail = dir.appendingPathComponent("mail").path
        try CorpusGenerator(seed: 21).write(threads: 150, to: mail, layout: .maildir)   // about two weeks of threads
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [mail])
        let label = "2023-W02"
        let (a, b) = try Digest.week(label)
        let d = try kb.digest(from: a, to: b, label: label)
        let (fa, fb) = (KnowledgeBase.millis(a)!, KnowledgeBase.millis(b)!)
        let counts: [Int] = try kb.pool.read { db in
            let prevA = fa - 7 * 86_400_000
            return [
                try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE sent >= ? AND sent < ?", arguments: [fa, fb]) ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE first_sent >= ? AND first_sent < ?", arguments: [fa, fb]) ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(DISTINCT case_id) FROM messages WHERE sent >= ? AND sent < ?", arguments: [fa, fb]) ?? -1,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE sent >= ? AND sent < ?", arguments: [prevA, fa]) ?? -1,
            ]
        }
        #expect(d.headline.messages == counts[0])
        #expect(d.headline.casesOpened == counts[1])
        #expect(d.headline.casesActive == counts[2])
        #expect(d.previousWeeks.last?.messages == counts[3])
        #expect(d.headline.messages > 0)
        #expect(d.previousWeeks.count == 4)
        #expect(d.cases.count == d.headline.casesActive)
        #expect(d.recurring.allSatisfy { $0.trend.count == 4 })
        #expect(d.recurring.contains { $0.cases > 1 })
        // an empty week is an empty digest, not an error
        let (ea, eb) = try Digest.week("2030-W10")
        let empty = try kb.digest(from: ea, to: eb, label: "2030-W10")
        #expect(empty.cases.isEmpty && empty.headline.messages == 0)
        #expect(empty.markdown.contains("No case was active"))
    }
}
