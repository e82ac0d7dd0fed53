import Foundation
import Testing
@testable import CaseKB

/// The real mail in ../shared/mail-samples (read in place, never copied): decoding and quote headers.
@Suite("Real mail samples", .enabled(if: FileManager.default.fileExists(atPath: Fixtures.mailSamples.path), "needs ../shared/mail-samples"))
struct MailSamplesTests {
    func message(_ name: String) throws -> Message {
        let r = MailReader.read(path: Fixtures.mailSamples.appendingPathComponent(name).path)
        #expect(!r.failed, "\(r.diagnostics)")
        return try #require(r.messages.first)
    }

    /// sample → (text the new part must contain, text the quoted part must start with or contain)
    static let samples: [(String, String, String)] = [
        ("lkml-linux-f2fs-devel__0a3df003b0.eml", "Any comments about this patch?", "-----邮件原件-----"),
        ("lkml-linux-erofs__0ae9dba96c.eml", "好的，非常感谢", "发件人: Gao Xiang"),
        ("lkml-linux-erofs__4e1e662a5a.eml", "How am I supposed to submit patches to erofs-utils now?", "发件人: 胡 玮文"),
        ("lkml-linux-erofs__13c62a20fe.eml", "Hi, Gao Xiang", "发件人： Gao Xiang"),
        ("lkml-linux-erofs__b8d210a566.eml", "没有启用directIO", "------------------ 原始邮件 ------------------"),
        ("lkml-linux-erofs__05f81c4bc7.eml", "至少对于不压缩的情况，难以理解随机读有差异。", "> ------------------ 原始邮件 ------------------"),
        ("lkml-linux-erofs__55d9fbcc7f.eml", "Sandeep, thoughts?", "2023年7月15日 01:02，Paul E. McKenney"),
        ("lkml-linux-erofs__c002aa294c.eml", "We can divide several parts", "在 2021/1/22 21:21, Gao Xiang 写道:"),
        ("lkml-linux-f2fs-devel__4a9c78f068.eml", "Was fixed as well. Thanks.", "寄件者:"),
        ("lkml-linux-i2c__0abdd8eca4.eml", "I'm very sorry that I did not compile it", "andriy.shevchenko@linux.intel.com wrote:"),
        ("lkml-linux-rdma__ac98192e1d.eml", "I will change %p to %px", "----- 原始邮件 -----"),
        ("lkml-linux-rdma__8df41818fe.eml", "After checking how isert_connect_release() is implemented", "-----原始邮件-----"),
        ("lkml-linux-rdma__a083236507.eml", "Our guys are analyzing his influence", "在 2019/6/13 1:23, Leon Romanovsky 写道:"),
        ("lkml-linux-rdma__44667e26d9.eml", "I tried this program and it reliably deadlocks my kernel", "于2021年4月13日周二 下午9:45写道："),
        ("lkml-linux-rdma__6065b34b4b.eml", "It is still broken even with the hotfix", "Chuck Lever wrote:"),
        ("talon__outlook.eml", "Hello", "From: xxx@xxx.mailgun.org"),
    ]

    @Test("each sample decodes to readable text, keeps its reply and finds its quote header", arguments: samples.map(\.0))
    func sample(_ name: String) throws {
        let expected = try #require(Self.samples.first { $0.0 == name })
        let m = try message(name)
        #expect(!m.body.contains("\u{FFFD}"), "mojibake in \(name)")
        #expect(m.newText.contains(expected.1))
        #expect(m.quotedText.contains(expected.2))
        #expect(!m.newText.contains(expected.2))
    }

    @Test("Big5 and GB2312 labels decode; X-GBK quoted-printable gives 'Hi'")
    func charsets() throws {
        #expect(try message("php-imap__gbk_charset.eml").newText == "Hi")
        #expect(try message("lkml-linux-i2c__0abdd8eca4.eml").body.contains("designware"))
        let qq = try message("lkml-linux-erofs__69038b92b3.eml")
        #expect(qq.subject == "eros性能问题")
        #expect(qq.signature.contains("Thanks & Regards"))
    }

    @Test("talon's Outlook HTML replies reduce to the expected reply", arguments: ["talon__ms_outlook_2003", "talon__ms_outlook_2007", "talon__ms_outlook_2010", "talon__OLK_SRC_BODY_SECTION"])
    func talonHTML(_ stem: String) throws {
        let m = try message(stem + ".html")
        let expected = try String(contentsOf: Fixtures.mailSamples.appendingPathComponent(stem + ".expected.txt"), encoding: .utf8)
        let squash = { (s: String) in s.filter { !$0.isWhitespace } }
        let reply = [m.newText, m.signature].filter { !$0.isEmpty }.joined(separator: "\n")
        let expectedText = expected.replacingOccurrences(of: "<div>", with: "").replacingOccurrences(of: "</div>", with: "")
        #expect(squash(reply) == squash(expectedText))
    }

    @Test("the QQMail thread threads by References with a missing parent")
    func threadingMiniSet() {
        let paths = ["lkml-linux-erofs__69038b92b3.eml", "lkml-linux-erofs__b8d210a566.eml", "lkml-linux-erofs__05f81c4bc7.eml"]
            .map { Fixtures.mailSamples.appendingPathComponent($0).path }
        let cases = ThreadParser.parse(paths: paths).cases
        #expect(cases.count == 1)
        #expect(cases.first?.messages.count == 3)
        #expect(cases.first?.messages.first?.subject == "eros性能问题")
    }
}
