import Foundation
import Testing
@testable import CaseKB

@Suite("MIME mail in the Corpus")
struct MIMECorpusTests {
    @Test("Outlook zh-CN reply in GB18030 base64: headers decoded, plain part chosen, 邮件原件 quote set apart")
    func outlookGB18030() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/eml/outlook-zh-gb18030-reply.eml")).first)
        #expect(c.key == "CAS-03117-R2D8K4")
        #expect(c.caseIDs == ["CAS-03117-R2D8K4", "REG:120090312000217"])
        #expect(c.normalizedSubject == "更新网卡驱动后开机蓝屏 0x9F")
        let m = try #require(c.messages.first)
        #expect(m.from == MailAddress(name: "张伟", address: "zhangwei@support.example.com"))
        #expect(m.subject == "答复: [REG:120090312000217] CAS-03117-R2D8K4 - 更新网卡驱动后开机蓝屏 0x9F")
        #expect(m.sent.map(MailDate.iso) == "2023-04-12T07:42:10.000Z")
        #expect(m.newText.hasPrefix("王工，您好："))
        #expect(m.newText.contains("01 fffff802`5e46f7e0 fffff802`5a8f1d35     nt!PopIrpWatchdogBugcheck+0xdf"))
        #expect(!m.newText.contains("上周全行推送"))
        #expect(m.quotedText.hasPrefix("-----邮件原件-----\n发件人: 王建国"))
        #expect(m.signature.hasPrefix("张伟\n技术支持工程师"))
        #expect(m.conversationID?.count == 44)
        #expect(!m.body.contains("\u{FFFD}"))
    }

    @Test("English reply with !analyze -v as a .txt attachment and a binary minidump")
    func englishAttachment() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/eml/english-analyze-attachment.eml")).first)
        #expect(c.key == "SR#120030623000481")
        let m = try #require(c.messages.first)
        #expect(m.attachments.count == 2)
        let txt = try #require(m.attachments.first { $0.filename == "analyze-v.txt" })
        #expect(txt.contentType == "text/plain")
        #expect(txt.text?.contains("DPC_WATCHDOG_VIOLATION (133)") == true)
        #expect(txt.text?.contains("FAILURE_BUCKET_ID:  0x133_ISR_iaStorAC!unknown_function") == true)
        let dump = try #require(m.attachments.first { $0.filename == "Mini030623-01.dmp" })
        #expect(dump.text == nil)
        #expect(dump.size == 8 + 256 * 8)
        #expect(m.newText.contains("We recommend updating the Intel RST driver iaStorAC.sys"))
        #expect(!m.newText.contains("Original Message"))
        #expect(m.quotedText.hasPrefix("-----Original Message-----"))
        #expect(m.signature.hasPrefix("Best regards,\nDaniel Ortiz"))
        // quoted-printable soft breaks are joined
        #expect(m.body.contains("Windows 10 21H2, build 19044.2604"))
    }

    @Test("an mbox with two interleaved threads gives two cases, >From unescaped")
    func mboxInterleaved() throws {
        let cases = Fixtures.cases(Fixtures.corpus("threads/mbox/support-2023-05.mbox"))
        #expect(cases.count == 2)
        let cn = try #require(cases.first { $0.key == "20230508101203.4F1A@contoso-fin.example" })
        #expect(cn.messages.map(\.from.display) == ["陈静", "李强"])
        #expect(cn.messages[0].subject == "X1 无线拷贝文件蓝屏 0x50")
        #expect(cn.messages[1].newText.contains("nwifi!Dot11SendCompletion+0x4b"))
        #expect(cn.messages[1].quotedText.hasPrefix("On 2023-05-08 10:12, 陈静 wrote:"))
        let en = try #require(cases.first { $0.key == "CAF3x9+kb5005565@mail.northwind.example" })
        #expect(en.messages.count == 2)
        #expect(en.messages[1].newText.contains("\nFrom the CBS.log lines you sent"))
        #expect(en.messages[1].source.index == 4)
    }

    @Test("a maildir thread split over files merges into one case; a duplicate delivery counts once")
    func maildir() throws {
        let cases = Fixtures.cases(Fixtures.corpus("threads/maildir"))
        #expect(cases.count == 1)
        let c = try #require(cases.first)
        #expect(c.key == "hv-node07-0515@woodgrove.example")
        #expect(c.messages.count == 3)
        let reply = c.messages[1]
        #expect(reply.newText.contains("03 vmswitch!VmsVmNicPvtKmclProcessingComplete"))
        #expect(!reply.newText.contains("> Our Hyper-V host"))
        #expect(reply.quotedText.contains("于2023年5月15日周一 上午2:14写道："))
        #expect(reply.signature.hasPrefix("Kind regards,"))
        #expect(c.messages[2].newText.hasPrefix("Sara,"))
    }

    @Test("an HTML-only mail keeps <pre> stacks and table rows as lines and cuts at the OWA reply header")
    func htmlOnly() throws {
        let c = try #require(Fixtures.cases(Fixtures.corpus("threads/eml/html-only-stack-in-pre.eml")).first)
        #expect(c.key == "CAS-04410-M7Q2W9")
        let m = try #require(c.messages.first)
        #expect(m.newText.contains("\n07 ffffa60f`3e1d7160 fffff806`6d2a1b4c     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiPageFault+0x41f\n"))
        #expect(m.newText.contains("1: kd> kv"))
        #expect(m.newText.contains("edrsensor.sys\t4.2.117.0\t6421A9C3"))
        #expect(!m.body.contains("alert("))
        #expect(!m.newText.contains("Ming Zhao"))
        #expect(m.quotedText.contains("another crash tonight"))
        #expect(m.signature.hasPrefix("Thanks,"))
    }

    @Test("a forwarded message/rfc822 in Big5 becomes its own message in the same case")
    func forwarded() throws {
        let cases = Fixtures.cases(Fixtures.corpus("threads/eml/forwarded-rfc822-big5.eml"))
        #expect(cases.count == 1)
        let c = try #require(cases.first)
        #expect(c.messages.count == 2)
        let inner = c.messages[0], outer = c.messages[1]
        #expect(inner.isForwardedCopy)
        #expect(inner.from.display == "林志明")
        #expect(inner.subject == "分行電腦開機藍屏 0xEF")
        #expect(inner.body.contains("停止代碼 CRITICAL_PROCESS_DIED (0xEF)"))
        #expect(outer.newText.contains("转发台湾分行客户的邮件"))
        #expect(!outer.newText.contains("停止代碼"))
        #expect(outer.quotedText.contains("停止代碼"))
    }

    @Test("the whole Corpus parses without errors")
    func wholeCorpus() {
        let r = ThreadParser.parse(paths: [Fixtures.corpus("threads")])
        #expect(r.files.allSatisfy { !$0.failed })
        #expect(r.files.flatMap(\.diagnostics).filter { $0.severity == .error }.isEmpty)
        #expect(r.cases.count == 8)
        #expect(r.cases.reduce(0) { $0 + $1.messages.count } == 40)
    }
}

@Suite("MIME structure")
struct MIMEStructureTests {
    func mail(_ s: String) -> ParsedMail { MIMEParser.parse(Array(s.replacingOccurrences(of: "\n", with: "\r\n").utf8)) }

    @Test("multipart/alternative prefers a complete plain part, else HTML")
    func alternativeChoice() {
        let both = mail("""
        From: a@b.c
        Content-Type: multipart/alternative; boundary=b1

        --b1
        Content-Type: text/plain; charset=utf-8

        plain body here
        --b1
        Content-Type: text/html; charset=utf-8

        <p>plain body here</p>
        --b1--
        """)
        #expect(both.body == "plain body here")
        let emptyPlain = mail("""
        From: a@b.c
        Content-Type: multipart/alternative; boundary=b1

        --b1
        Content-Type: text/plain; charset=utf-8


        --b1
        Content-Type: text/html; charset=utf-8

        <p>only <b>html</b> here</p><p>second</p>
        --b1--
        """)
        #expect(emptyPlain.body.hasPrefix("only html here\n\nsecond"))
    }

    @Test("control bytes counted eight at a time match a byte-by-byte count, every byte value at every alignment")
    func controlByteCount() {
        func slow(_ b: [UInt8]) -> Int { b.filter { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }.count }
        var rng = SystemRandomNumberGenerator()
        var samples: [[UInt8]] = (0..<256).map { v in [UInt8](repeating: 0x41, count: 7) + [UInt8(v)] + [UInt8](repeating: 0x41, count: 9) }
        for n in [0, 1, 7, 8, 9, 63, 64, 65, 1000] {
            samples.append((0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) })
            samples.append((0..<n).map { _ in UInt8.random(in: 0...0x21, using: &rng) })
        }
        for bytes in samples {
            for offset in 0..<min(8, bytes.count + 1) {
                // the slice's buffer starts `offset` bytes into the array's: unaligned 8-byte loads
                let slice = bytes[offset...]
                #expect(slice.withUnsafeBufferPointer { MIMEParser.controlBytes($0) } == slow(Array(slice)), "\(slice.prefix(16))")
            }
        }
    }

    @Test("a binary attachment keeps its decoded size, and a stray character in it is still an error at its offset")
    func binaryAttachmentSize() throws {
        func withDump(_ data: String) -> String {
            """
            From: a@b.c
            Content-Type: multipart/mixed; boundary="b"

            --b
            Content-Type: text/plain; charset=utf-8

            dump attached
            --b
            Content-Type: application/octet-stream; name="Mini.dmp"
            Content-Transfer-Encoding: base64

            \(data)
            --b--
            """
        }
        let payload = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).base64EncodedString(options: .lineLength76Characters)
        let good = mail(withDump(payload))
        #expect(good.attachments.map(\.size) == [1000])
        #expect(good.attachments.first?.text == nil)
        #expect(!good.hasError)
        let text = withDump("TURNUA==\nTU!JTQ")
        let bad = mail(text)
        let error = try #require(bad.problems.first { $0.severity == .error })
        #expect(error.message.contains("invalid base64: character '!'"))
        // the offset is the stray character's, in the file as parsed (CRLF line ends)
        let bytes = Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(bytes[error.offset] == UInt8(ascii: "!"))
        #expect(mail(withDump("TURNUA==\nTU1")).problems.contains { $0.message.contains("ends mid-group") })
    }

    @Test("nested multipart/related inside mixed, with RFC 2231 filenames")
    func nested() {
        let m = mail("""
        From: a@b.c
        Content-Type: multipart/mixed; boundary="outer"

        --outer
        Content-Type: multipart/related; boundary="inner"

        --inner
        Content-Type: text/html; charset=gbk
        Content-Transfer-Encoding: quoted-printable

        <div>=C0=B6=C6=C1</div>
        --inner
        Content-Type: image/png; name="a.png"
        Content-Transfer-Encoding: base64

        iVBORw0KGgo=
        --inner--
        --outer
        Content-Type: text/plain; charset=utf-8
        Content-Disposition: attachment; filename*=utf-8''%E8%93%9D%E5%B1%8F.log

        kd> k
        --outer--
        """)
        #expect(m.body == "蓝屏")
        #expect(m.attachments.map(\.filename) == ["a.png", "蓝屏.log"])
        #expect(m.attachments[0].text == nil)
        #expect(m.attachments[1].text == "kd> k")
        #expect(!m.hasError)
    }
}

@Suite("Choosing between plain and HTML alternatives")
struct AlternativeChoiceTests {
    func visible(_ s: String) -> Int { s.utf8.reduce(0) { $0 + ($1 > 0x20 ? 1 : 0) } }

    @Test("the unparsed bound on an HTML part's visible text is never below what libxml2 gives")
    func boundHolds() throws {
        var samples = [
            "<p>a &lt; b and c &gt; d</p>", "x<3 y", "<ul><li>one<li>two</ul>", "<img src=x alt=\"dump screenshot\">",
            "<p title=\"a>b\">text</p>", "<!-- note > here --><b>bold</b>", "<style>p{}</style><p>蓝屏 驱动</p>",
            "a <unclosed tag text", "<table><tr><td>1</td><td>2</td></tr></table>", "&#x4E2D;&#25991; &amp;&nbsp;x",
            "<pre>  nt!KiPageFault+0x42e\n  nwifi!Dot11SendCompletion</pre>", "<div>line<br>line</div>", "</ a> < b >", "<!-- a > b -->c<!-- open", "<!DOCTYPE html><?xml x?><![CDATA[z]]>t",
        ]
        for dir in [Fixtures.corpus("threads"), Fixtures.mailSamples.path] {
            for file in MailReader.expand([dir]).files where file.hasSuffix(".html") || file.hasSuffix(".htm") {
                if let data = FileManager.default.contents(atPath: file) { samples.append(Charset.decode([UInt8](data), label: nil).text) }
            }
        }
        #expect(samples.count >= 13)
        for html in samples {
            let converted = HTMLText.convert(html).text
            #expect(HTMLText.visibleLengthBound(html) >= visible(converted), "\(html.prefix(80))")
        }
    }

    func alternative(plain: String, html: String) -> String {
        """
        From: a@example.com
        Subject: alt
        MIME-Version: 1.0
        Content-Type: multipart/alternative; boundary="b"

        --b
        Content-Type: text/plain; charset=utf-8

        \(plain)
        --b
        Content-Type: text/html; charset=utf-8

        \(html)
        --b--

        """.replacingOccurrences(of: "\n", with: "\r\n")
    }

    @Test("a plain part much shorter than the HTML loses to it; a complete one wins without the HTML being needed")
    func choice() throws {
        let long = "<html><body><p>客户机器蓝屏，bugcheck 0xD1，驱动 vwifimf.sys 在栈上。请卸载后观察。</p><p>Second paragraph with more words in it.</p></body></html>"
        let stub = MIMEParser.parse(Array(alternative(plain: "See HTML.", html: long).utf8))
        #expect(stub.body.contains("vwifimf.sys"))
        let full = MIMEParser.parse(Array(alternative(plain: "客户机器蓝屏，bugcheck 0xD1，驱动 vwifimf.sys 在栈上。请卸载后观察。\nSecond paragraph with more words in it.", html: long).utf8))
        #expect(full.body.hasPrefix("客户机器蓝屏"))
        #expect(!full.body.contains("<p>"))
    }
}

@Suite("Header values with parameters")
struct HeaderValueTests {
    @Test("type and parameters: quoted semicolons kept, quotes dropped, names folded, RFC 2231 pieces joined and decoded")
    func parameters() {
        let ct = HeaderValue("Text/Plain; charset=\"GB2312\"; format=flowed")
        #expect(ct.value == "text/plain")
        #expect(ct.params == ["charset": "GB2312", "format": "flowed"])
        let quoted = HeaderValue("attachment; filename=\"dump; part 1.txt\"; size=2048")
        #expect(quoted.value == "attachment")
        #expect(quoted.params == ["filename": "dump; part 1.txt", "size": "2048"])
        let pieces = HeaderValue("attachment; filename*0*=UTF-8''%E8%93%9D%E5%B1%8F; filename*1=\"-log.txt\"")
        #expect(pieces.params["filename"] == "蓝屏-log.txt")
        #expect(HeaderValue("  ").value == "")
    }

    @Test("a backslash inside quotes escapes the next character, a quote or a semicolon included")
    func escapes() {
        let v = HeaderValue(#"attachment; filename="a \"b\"; c.txt"; x=1"#)
        #expect(v.params["filename"] == #"a "b"; c.txt"#)
        #expect(v.params["x"] == "1")
        // without backslashes the quick split gives the same parts as the unescaping one
        for raw in ["text/html; charset=utf-8", "multipart/mixed;\r\n boundary=\"----=_NextPart_000_0001;x\"", "a;;b=;=c", "x; y=\"unterminated"] {
            #expect(HeaderValue.parts(raw) == HeaderValue.unescapedParts(raw), "\(raw)")
        }
    }

    @Test("an ASCII value read as bytes gives what the general reading gives")
    func plainASCIIReading() {
        let values = ["text/plain; charset=utf-8", "Text/Plain; charset=\"GB2312\"; format=flowed", "  multipart/alternative;\r\n\tboundary=\"----=_Part_1;x\"  ",
                      "attachment; filename=\"dump; part 1.txt\"; size=2048", "a;;b=;=c", "x; y=\"unterminated", "x; y=\"", "x; Y = \"\" ; y=2",
                      "", " ", ";", "inline; FILENAME=Report.TXT; name=\"a=b\"", "text/html;charset=\"us-ascii\" ;", "\"quoted;type\"; k=v"]
        for raw in values {
            let fast = HeaderValue.plainASCII(raw)
            #expect(fast != nil, "\(raw)")
            let general = HeaderValue(reading: raw)
            #expect(fast?.value == general.value, "\(raw)")
            #expect(fast?.params == general.params, "\(raw)")
        }
        // escapes, RFC 2231 stars and non-ASCII text take the general reading
        for raw in [#"a; b="c\"d""#, "a; name*=utf-8''%E8%93%9D", "a; name=\"蓝屏.txt\""] { #expect(HeaderValue.plainASCII(raw) == nil, "\(raw)") }
    }

    @Test("header fields are found by name in any case")
    func fieldNamesAnyCase() {
        let mail = Array("Content-TYPE: text/plain; charset=gbk\r\nX-Custom: 1\r\nSubject: =?utf-8?B?6JOd5bGP?= a=?b\r\n\r\nbody\r\n".utf8)
        let headers = MIMEParser.parseEntity(mail, range: 0..<mail.count, ctx: MIMEParser.Context(), topLevel: true).headers
        #expect(headers.value("content-type") == "text/plain; charset=gbk")
        #expect(headers.value("CONTENT-TYPE") == "text/plain; charset=gbk")
        #expect(headers.value("x-custom") == "1")
        #expect(headers.value("Subject") == "蓝屏 a=?b")
        #expect(headers.value("Content-Typ") == nil)
    }
}
