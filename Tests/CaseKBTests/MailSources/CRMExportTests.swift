import Foundation
import Testing
@testable import CaseKB

@Suite("CRM text export")
struct CRMExportTests {
    @Test("the seed thread is one case with 28 messages whose senders and times match gold.json",
          .enabled(if: Fixtures.hasShared, "needs ../shared/seed"))
    func seedMatchesGold() throws {
        let gold = try Fixtures.gold()
        let thread = try #require(gold["thread"] as? [String: Any])
        let cases = Fixtures.cases(Fixtures.seedPath)
        #expect(cases.count == 1)
        let c = try #require(cases.first)
        #expect(c.key == "CAS-02698-C5V4N5")
        #expect(c.caseIDs == thread["case_ids"] as? [String])
        #expect(c.subject == thread["subject"] as? String)
        #expect(c.normalizedSubject == thread["normalized_subject"] as? String)
        #expect(c.messages.count == thread["message_count"] as? Int)
        #expect(c.participants == thread["participants"] as? [String])
        #expect(c.messages.first?.sent.map(MailDate.iso) == thread["first_sent"] as? String)
        #expect(c.messages.last?.sent.map(MailDate.iso) == thread["last_sent"] as? String)
        var bySender: [String: Int] = [:]
        for m in c.messages { bySender[m.from.display, default: 0] += 1 }
        #expect(bySender == thread["messages_by_sender"] as? [String: Int])
        // message N of the export is message N of the case
        #expect(c.messages.map(\.source.index) == Array(1...28))
        // the CRM block header is never taken as a quote
        #expect(c.messages.allSatisfy { $0.quotedText.isEmpty || $0.quotedText.hasPrefix("____") })
    }

    @Test("the masked Corpus copy parses like the seed and carries no ID or phone number")
    func maskedCorpusCopy() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")).first)
        #expect(c.key == "CAS-02698-C5V4N5")
        #expect(c.messages.count == 28)
        let all = c.messages.map(\.body).joined()
        #expect(!all.contains("110223198601270039"))
        #expect(!all.contains("15701386210"))
        #expect(!all.contains("66657739"))
        #expect(!all.contains("3395361"))
    }

    @Test("signatures and sign-offs are set apart from the new text")
    func seedSignatures() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/crm/CAS-02698-C5V4N5.txt")).first)
        let m12 = c.messages[11], m21 = c.messages[20], m25 = c.messages[24]
        #expect(m12.signature.hasPrefix("华斌\nSupport Escalation Eng"))
        #expect(!m12.newText.contains("Support Escalation Eng"))
        #expect(m12.newText.hasSuffix("再提供dump以便分析。"))
        #expect(m21.signature.hasPrefix("李粤\n工行软件开发中心\nTEL"))
        #expect(m25.signature == "Best regards,\nBin Hua")
        #expect(m25.newText.contains("!mex.tag Filt"))
    }

    @Test("tolerates ASCII colons, blank lines, missing fields and quote-like lines in a body")
    func tolerantBlocks() {
        let text = """

        邮件主题: 答复: CAS-11111-ABCDEF - 测试主题


        ====第1封邮件====
        发件人: Zhang San
        发送时间: 2021-03-04 09:12:00+08:00
        邮件内容：
        第一封正文
        发件人: 李四
        发送时间: 2021年3月3日 18:00
        主题: 更早的邮件
        被引用的内容

        ====第2封邮件====

        发件人：li.si@example.com

        邮件内容:
        没有发送时间的一封

        ==== 第3封邮件 ====
        发送时间：2021-03-05 10:00:00
        邮件内容:
        没有发件人
        """
        let r = CRMExportReader.read(text: text, file: "inline.txt")
        #expect(r.messages.count == 3)
        #expect(r.messages[0].from.name == "Zhang San")
        #expect(r.messages[0].sent.map(MailDate.iso) == "2021-03-04T01:12:00.000Z")
        #expect(r.messages[0].newText == "第一封正文")
        #expect(r.messages[0].quotedText.hasPrefix("发件人: 李四"))
        #expect(r.messages[0].subject == "答复: CAS-11111-ABCDEF - 测试主题")
        #expect(r.messages[1].from.address == "li.si@example.com")
        #expect(r.messages[1].sent == nil)
        #expect(r.messages[1].newText == "没有发送时间的一封")
        #expect(r.messages[2].source.index == 3)
        #expect(r.diagnostics.contains { $0.messageNumber == 2 && $0.message.contains("发送时间") })
        #expect(r.diagnostics.contains { $0.messageNumber == 3 && $0.message.contains("发件人") })
        #expect(r.diagnostics.allSatisfy { $0.severity == .warning })
    }

    @Test("an export is recognised by a block marker deep in its first 64 KiB, in UTF-8 or GBK; near misses are not exports")
    func markerDetection() throws {
        // the marker follows lines of Chinese text and WinDbg values (= signs included) that are not a subject line
        let lead = "客户描述：升级后蓝屏，驱动 vwifimf.sys 可疑\nrax=0000000000000000 rbx=fffff8012345678\n"
        let filler = String(repeating: lead, count: 300)
        func format(_ text: [UInt8]) -> MailFormat? {
            try? FormatDetector.detect(prefix: text, fileSize: text.count).get()
        }
        #expect(format(Array((filler + "====第1封邮件====\n发件人：Li Qi\n").utf8)) == .crmExport)
        let gbk = try #require(Charset.encode(filler + "====第1封邮件==\n发件人：Li Qi\n", to: "GBK"))
        #expect(format(gbk) == .crmExport)
        // at every alignment of the eight-byte scan, and in its last bytes
        for pad in 0..<16 {
            let padding = String(repeating: "x", count: pad)
            #expect(format(Array((filler + padding + "====第1封邮件====\n").utf8)) == .crmExport, "pad \(pad)")
            #expect(format(try #require(Charset.encode(filler + padding + "第2封邮件==\n", to: "GBK"))) == .crmExport, "GBK pad \(pad)")
            #expect(format(Array((filler + padding + "====第1封邮件===\n").utf8)) != .crmExport, "pad \(pad)")
        }
        // three = signs after the UTF-8 words, or the words alone, are no marker
        #expect(format(Array((filler + "====第1封邮件===\n").utf8)) != .crmExport)
        #expect(format(Array((filler + "第1封邮件 ====\n").utf8)) != .crmExport)
        // a marker on the unfinished last line (past the last line break) is not read
        #expect(format(Array((filler + "====第1封邮件====").utf8)) != .crmExport)
    }
}
