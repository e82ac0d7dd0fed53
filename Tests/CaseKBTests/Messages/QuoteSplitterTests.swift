import Foundation
import Testing
@testable import CaseKB

@Suite("Quotes and signatures")
struct QuoteSplitterTests {
    struct Form: Sendable, CustomStringConvertible {
        var name: String
        var body: String
        var description: String { name }
    }

    /// Every quote-header form of email-parsing.md §1.6, each after the same new text.
    static let forms: [Form] = [
        Form(name: "Outlook zh-CN -----邮件原件-----", body: "-----邮件原件-----\n发件人: 王五 [mailto:w@x.cn]\n发送时间: 2021年5月29日 9:13\n收件人: 张三\n主题: 蓝屏\n\n原文"),
        Form(name: "OWA 32 underscores", body: "________________________________\n发件人: Gao Xiang <g@x.com>\n发送时间: 2023年6月2日 14:08:33\n收件人: a\n主题: b\n\n原文"),
        Form(name: "Outlook desktop block without separator", body: "发件人: 胡 玮文<mailto:h@o.com>\n发送时间: 2021年1月1日 17:16\n收件人: Li<mailto:l@h.com>\n主题: x\n\n原文"),
        Form(name: "Foxmail full-width colons", body: "发件人： Gao Xiang<mailto:g@a.com>\n发送时间： 2020-10-17 13:16\n收件人： a\n主题： b\n原文"),
        Form(name: "QQMail 原始邮件", body: "------------------ 原始邮件 ------------------\n发件人: \"Gao\" <g@h.com>;\n发送时间: 2019年7月18日(星期四) 上午11:10\n收件人: \"Z\"<z@q.com>;\n主题: Re: x\n\n原文"),
        Form(name: "Coremail -----原始邮件-----", body: "-----原始邮件-----\n发件人: \"Leon\" <l@k.org>\n发送时间: 2021-03-22 22:27:17 (星期一)\n收件人: a\n主题: b\n\n原文"),
        Form(name: "Zimbra ----- 原始邮件 -----", body: "----- 原始邮件 -----\n发件人: \"M\" <m@c.net>\n收件人: \"G\" <g@s.cn>\n发送时间: 星期四, 2021年 9 月 23日 上午 1:51:08\n主题: x\n\n原文"),
        Form(name: "Outlook zh-TW 寄件者", body: "寄件者: Light <l@m.com>\n寄件日期: 2024年4月5日 上午 03:55\n收件者: J <j@k.org>\n副本: x\n主旨: y\n\n原文"),
        Form(name: "Gmail zh 于…写道：", body: "Jason Gunthorpe <jgg@ziepe.ca> 于2021年4月13日周二 下午9:45写道：\n> 原文\n> 第二行"),
        Form(name: "Apple Mail zh", body: "2023年7月15日 01:02，Paul E. McKenney <p@k.org> 写道：\n> 原文"),
        Form(name: "Thunderbird zh ASCII colon", body: "在 2019/6/13 1:23, Leon Romanovsky 写道:\n> 原文"),
        Form(name: "NetEase full-width", body: "在 2025-05-05 00:16:35，\"Name\" <a@b.com> 写道：\n> 原文"),
        Form(name: "Outlook en Original Message", body: "-----Original Message-----\nFrom: Priya <p@f.example>\nSent: Monday, March 6, 2023 9:02 AM\nTo: D\nSubject: x\n\n原文"),
        Form(name: "Outlook en block", body: "From: Foo [mailto:foo@bar.com]\nSent: Monday, January 01, 2000 12:00 AM\nTo: Bar\nSubject: x\n\n原文"),
        Form(name: "English wrote", body: "On Tue, May 9, 2023 at 8:30 AM Marco <m@n.example> wrote:\n> 原文"),
        Form(name: "English wrote wrapped", body: "On Tue, May 9, 2023 at 8:30 AM Marco Bianchi\n<marco.bianchi@northwind.example> wrote:\n> 原文"),
        Form(name: "Gmail ja", body: "2022年1月1日(金) 9:00 田中太郎 <taro.tanaka@example.com>:\n> 原文"),
        Form(name: "mutt > quoting only", body: "> 原文\n> 第二行"),
        Form(name: "forwarded", body: "---------- Forwarded message ----------\nFrom: X <x@y.z>\nDate: Mon\n\n原文"),
    ]

    @Test("each quote form is found and the new text kept", arguments: forms)
    func quoteForm(_ form: Form) {
        let body = "新的回复内容。\nSecond line of the reply.\n\n" + form.body
        let parts = QuoteSplitter.shared.split(body)
        #expect(parts.newText == "新的回复内容。\nSecond line of the reply.")
        #expect(parts.quotedText.contains("原文"))
        #expect(!parts.newText.contains("原文"))
    }

    @Test("interleaved replies keep every unquoted paragraph as new text")
    func interleaved() {
        let body = """
        On Mon, Jan 1, 2024 at 9:00 AM A <a@b.c> wrote:
        > first question?

        first answer

        > second question?

        second answer
        """
        let p = QuoteSplitter.shared.split(body)
        #expect(p.newText == "first answer\n\nsecond answer")
        #expect(p.quotedText.contains("first question?"))
        #expect(p.quotedText.contains("On Mon, Jan 1"))
    }

    @Test("a header-like line alone is not a quote")
    func loneHeaderLine() {
        let body = "问题定义: 蓝屏\n主题: 需要进一步分析\nFrom the dump we see nt!KiPageFault."
        let p = QuoteSplitter.shared.split(body)
        #expect(p.quotedText.isEmpty)
        #expect(p.newText == body)
    }

    @Test("signatures: -- line, closing words, contact block, mobile footer")
    func signatures() {
        #expect(QuoteSplitter.shared.split("正文\n-- \n周恒国").signature == "-- \n周恒国")
        #expect(QuoteSplitter.shared.split("Please check.\n\nThanks,\nAlex").signature == "Thanks,\nAlex")
        #expect(QuoteSplitter.shared.split("请查收。\n此致\n敬礼\n李四").signature == "此致\n敬礼\n李四")
        #expect(QuoteSplitter.shared.split("已了解。\n李粤\n工行软件开发中心\nTEL：0756-339****").signature == "李粤\n工行软件开发中心\nTEL：0756-339****")
        #expect(QuoteSplitter.shared.split("OK.\n\nSent from my iPhone").signature == "Sent from my iPhone")
        // a message that is only a closing has no signature split off
        #expect(QuoteSplitter.shared.split("Thanks").newText == "Thanks")
        // "thanks for the dump" is a sentence, not a sign-off
        #expect(QuoteSplitter.shared.split("Analysis below.\nThanks for the dump, it shows nt!KiPageFault.").signature.isEmpty)
        // footers and contact labels in either case, with dots, spaces or a full-width colon before the value
        #expect(QuoteSplitter.shared.split("OK.\n\nSENT FROM MY HUAWEI").signature == "SENT FROM MY HUAWEI")
        #expect(QuoteSplitter.shared.split("收到。\n发自我的iPhone").signature == "发自我的iPhone")
        #expect(QuoteSplitter.shared.split("See the dump.\nZhang Wei\nmob. : 138****0000").signature == "Zhang Wei\nmob. : 138****0000")
        #expect(QuoteSplitter.shared.split("See the dump.\nZhang Wei\n电话：010-****").signature == "Zhang Wei\n电话：010-****")
        // a label word that runs on, or a colon too far from it, is prose
        #expect(QuoteSplitter.shared.split("See the dump.\nTelephone support says: reboot").signature.isEmpty)
        #expect(QuoteSplitter.shared.split("See the dump.\nTel . . . . . . . . . . : 1").signature.isEmpty)
    }
}

@Suite("Subjects, case numbers and threads")
struct ThreadingTests {
    @Test("reply and forward prefixes are stripped, stacked and repeated", arguments: [
        ("RE: [REG:120081126000849] CAS-02698-C5V4N5 - 升级1809后从网盘拷文件蓝屏", "CAS-02698-C5V4N5 - 升级1809后从网盘拷文件蓝屏"),
        ("答复:  答复: [RFC PATCH] f2fs: x", "f2fs: x"),
        ("回复：eros性能问题", "eros性能问题"),
        ("Re: 回复：eros性能问题", "eros性能问题"),
        ("Re:Re: 蓝屏", "蓝屏"),
        ("FW: Fwd: 转发: 回覆: 测试", "测试"),
        ("[External Mail]Re: hello", "hello"),
    ])
    func normalize(_ pair: (String, String)) {
        #expect(SubjectNormalizer.shared.normalize(pair.0) == pair.1)
    }

    @Test("case numbers come from the data file patterns, CAS before REG")
    func caseNumbers() {
        #expect(CaseNumberFinder.shared.find(in: "RE: [REG:120081126000849] CAS-02698-C5V4N5 - x") == ["CAS-02698-C5V4N5", "REG:120081126000849"])
        #expect(CaseNumberFinder.shared.find(in: "no case here 0x0000007E").isEmpty)
    }

    func msg(_ id: String?, replyTo: String? = nil, refs: [String] = [], subject: String, from: String = "a@b.c", at: Double, body: String = "text") -> Message {
        Message(source: SourceLocation(file: "t", format: .eml, index: 1, byteOffset: 0), messageID: id, inReplyTo: replyTo, references: refs,
                from: MailAddress.parse(from), sent: Date(timeIntervalSince1970: at), subject: subject, body: body)
    }

    @Test("Message-ID links, missing parents, subject fallback and duplicates")
    func grouping() {
        let messages = [
            msg("m2", replyTo: "m1", refs: ["m1"], subject: "Re: 蓝屏", at: 200),
            msg("m3", replyTo: "ghost", refs: ["m1", "ghost"], subject: "Re: 蓝屏", at: 300),   // parent never seen
            msg("m1", subject: "蓝屏", at: 100),
            msg("m1", subject: "蓝屏", at: 100),                                               // same Message-ID twice
            msg(nil, subject: "Re: 另一个问题", from: "x@y.z", at: 400, body: "hello"),
            msg(nil, subject: "Re: 另一个问题", from: "x@y.z", at: 400, body: "hello"),        // same sender+time+text
            msg(nil, subject: "答复: 另一个问题", from: "p@q.r", at: 500, body: "reply"),
        ]
        let cases = CaseGrouper.group(messages)
        #expect(cases.count == 2)
        #expect(cases[0].key == "m1")
        #expect(cases[0].messages.map(\.messageID) == ["m1", "m2", "m3"])
        #expect(cases[1].messages.count == 2)
        #expect(cases[1].key.hasPrefix("SUBJ-"))
        // each thread key once, in first-seen order (In-Reply-To is also the last reference: stored once)
        #expect(ThreadKeys(msg("m4", replyTo: "m3", refs: ["m1", "m3"], subject: "Re: 蓝屏", at: 400)).linking == ["mid:m4", "mid:m3", "mid:m1"])
    }

    @Test("the one-pass cue test finds every cue word wherever it stands, and nothing else")
    func attributionCues() {
        let cues = QuoteSplitter.attributionCues.map { String(decoding: $0, as: UTF8.self) }
        var lines = ["", "s", "wrot", "Sen", "WROTE", "sen t", "écri", "写", "作", "rax=fffff801 rbx=0", "On Mon, Li Qi <li.qi@example.com>"]
        for cue in cues { lines += [cue, "x" + cue, cue + ":", "在 2020年7月30日 " + cue + "：", String(cue.dropLast())] }
        for line in lines {
            let expected = cues.contains { line.contains($0) }
            #expect(QuoteSplitter.hasAttributionCue(line[...]) == expected, "\(line)")
        }
    }
}

