import Foundation
import Testing
@testable import CaseKB

@Suite("Charsets, transfer encodings, encoded words, dates")
struct DecodingTests {
    @Test("every GB label decodes as GB18030, including GBK-only bytes", arguments: ["gb2312", "GBK", "x-gbk", "cp936", "gb18030", "GB_2312-80"])
    func gbLabels(_ label: String) {
        // 蓝屏 plus ー (A9 60, GBK-only) plus 𠀀 (4-byte GB18030)
        let bytes: [UInt8] = [0xC0, 0xB6, 0xC6, 0xC1, 0xA9, 0x60, 0x95, 0x32, 0x82, 0x36]
        let d = Charset.decode(bytes, label: label)
        #expect(d.text == "蓝屏ー𠀀")
        #expect(d.replacements == 0)
    }

    @Test("Big5, ISO-8859-1 and windows-1252")
    func otherCharsets() {
        #expect(Charset.decode([0xC2, 0xC5, 0xAB, 0xCC], label: "big5").text == "藍屏")
        #expect(Charset.decode([0x63, 0x61, 0x66, 0xE9], label: "iso-8859-1").text == "café")
        #expect(Charset.decode([0x80, 0x20, 0x93, 0x71, 0x94], label: "windows-1252").text == "€ “q”")
    }

    @Test("a wrong or unknown label falls back to the reading with fewest bad bytes")
    func fallback() {
        let gbk = Array("蓝屏代码".data(using: .utf8)!)
        let asUTF8Mislabelled = Charset.decode(gbk, label: "iso-2022-jp")
        #expect(asUTF8Mislabelled.text == "蓝屏代码")
        let gbBytes: [UInt8] = [0xC0, 0xB6, 0xC6, 0xC1]
        let unknown = Charset.decode(gbBytes, label: "x-klingon")
        #expect(unknown.text == "蓝屏")
        #expect(unknown.fellBack)
        #expect(!Charset.isKnown(label: "x-klingon"))
    }

    @Test("RFC 2047: B and Q, lower case, adjacent words joined, raw 8-bit fallback")
    func encodedWords() {
        let raw = "RE: =?GB2312?B?wLbGwQ==?= =?gb2312?q?=CD=F8=C5=CC?= and =?UTF-8?Q?caf=C3=A9_ok?="
        #expect(EncodedWords.decode(Array(raw.utf8)) == "RE: 蓝屏网盘 and café ok")
        #expect(EncodedWords.decode([0xC0, 0xB6, 0xC6, 0xC1]) == "蓝屏")
        #expect(EncodedWords.decode(Array("=?utf-8?B?6JOd5bGP?=".utf8)) == "蓝屏")
        #expect(EncodedWords.decode(Array("=?broken".utf8)) == "=?broken")
    }

    @Test("base64 wrapped in CRLF lines decodes; a stray character is reported with its offset")
    func base64() {
        let ok = TransferEncoding.decodeBase64(Array("6JOd\r\n5bGP\r\n".utf8)[...])
        #expect(String(decoding: ok.bytes, as: UTF8.self) == "蓝屏")
        #expect(ok.firstInvalidOffset == nil)
        let bad = TransferEncoding.decodeBase64(Array("6JOd\r\n5b!GP".utf8)[...])
        #expect(bad.firstInvalidOffset == 8)
    }

    @Test("base64 of every length and wrapping (76-column CRLF, odd widths, stray spaces) decodes to Foundation's bytes")
    func base64AgainstFoundation() throws {
        var seed: UInt64 = 11
        func next() -> UInt8 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 33) }
        for length in [0, 1, 2, 3, 4, 5, 56, 57, 58, 1000, 4099] {
            let data = Data((0..<length).map { _ in next() })
            let encoded = data.base64EncodedString()
            for width in [76, 75, 7, 1] {
                // wrapped at `width` columns, CRLF; at width 7 a space too after every line (whitespace is skipped)
                var wrapped = ""
                var line = encoded[...]
                while !line.isEmpty {
                    wrapped += line.prefix(width) + (width == 7 ? " \r\n" : "\r\n")
                    line = line.dropFirst(width)
                }
                let r = TransferEncoding.decodeBase64(Array(wrapped.utf8)[...])
                #expect(r.bytes == Array(data), "length \(length), width \(width)")
                #expect(TransferEncoding.base64DecodedSize(Array(wrapped.utf8)[...]).size == length)
                #expect(r.firstInvalidOffset == nil)
                #expect(!r.truncated)
            }
        }
        // a stray character inside a group of four, and a cut-off last group
        let bad = TransferEncoding.decodeBase64(Array("QUJD REVG\r\nR0!hJ".utf8)[...])
        #expect(bad.firstInvalidOffset == 13)
        #expect(String(decoding: bad.bytes.prefix(6), as: UTF8.self) == "ABCDEF")
        #expect(TransferEncoding.decodeBase64(Array("QUJDRA".utf8)[...]).truncated)
        // counting alone reports what decoding does: size, first stray character, a cut-off group, padding mid-stream
        for input in ["QUJD REVG\r\nR0!hJ", "QUJDRA", "QUI=QUJD", "QQ==\r\nQUI=", "!!", "", "QUJD\u{0}REVG"] {
            let bytes = Array(input.utf8)[...]
            let full = TransferEncoding.decodeBase64(bytes), counted = TransferEncoding.base64DecodedSize(bytes)
            #expect(counted.size == full.bytes.count && counted.firstInvalidOffset == full.firstInvalidOffset && counted.truncated == full.truncated, "\(input)")
        }
    }

    @Test("quoted-printable: soft breaks, escapes, malformed escapes kept")
    func quotedPrintable() {
        let out = TransferEncoding.decodeQuotedPrintable(Array("caf=C3=A9 =\r\nok =ZZ".utf8)[...])
        #expect(String(decoding: out, as: UTF8.self) == "café ok =ZZ")
        func qp(_ s: String, underscore: Bool = false) -> String {
            String(decoding: TransferEncoding.decodeQuotedPrintable(Array(s.utf8)[...], underscoreIsSpace: underscore), as: UTF8.self)
        }
        #expect(qp("") == "")
        #expect(qp("plain text, no escapes") == "plain text, no escapes")
        #expect(qp("a=  \nb= \t\r\nc") == "abc")                 // soft breaks with trailing blanks, LF and CRLF
        #expect(qp("ends with =") == "ends with ")                   // a lone "=" at the very end is a soft break
        #expect(qp("=E8=93=9D=E5=B1=8F") == "蓝屏")
        #expect(qp("x=4") == "x=4")                                   // a cut escape is kept
        #expect(qp("a_b=5Fc") == "a_b_c")
        #expect(qp("a_b=5Fc", underscore: true) == "a b_c")
    }

    @Test("byte-level replacement: every occurrence, none, overlapping starts, multi-byte text")
    func replaceAll() {
        #expect(ByteText.replacingAll("CAS-1", with: " ", in: "CAS-1 蓝屏 CAS-1") == "  蓝屏  ")
        #expect(ByteText.replacingAll("`", with: "", in: "fffff801`12345678") == "fffff80112345678")
        #expect(ByteText.replacingAll("xyz", with: "-", in: "no match here") == "no match here")
        #expect(ByteText.replacingAll("aa", with: "b", in: "aaa") == "ba")
        #expect(ByteText.replacingAll("\u{00A0}", with: " ", in: "a\u{00A0}b\u{00A0}") == "a b ")
        #expect(ByteText.replacingAll("[ ]", with: " ", in: "[ ]x[]") == " x[]")
        #expect(ByteText.replacingAll("", with: "z", in: "abc") == "abc")
    }

    @Test("dates: RFC 5322 with zones, CRM timestamps, asctime")
    func dates() {
        #expect(MailDate.parseRFC5322("Wed, 13 Sep 2017 13:05:45 +0200").map(MailDate.iso) == "2017-09-13T11:05:45.000Z")
        #expect(MailDate.parseRFC5322("13 Sep 17 13:05 GMT").map(MailDate.iso) == "2017-09-13T13:05:00.000Z")
        #expect(MailDate.parseRFC5322("Tue, 9 May 2023 16:48:09 +0200 (CEST)").map(MailDate.iso) == "2023-05-09T14:48:09.000Z")
        #expect(MailDate.parse("2020-07-30 10:53:06.971000+00:00").map(MailDate.iso) == "2020-07-30T10:53:06.971Z")
        #expect(MailDate.parse("2021-03-04 09:12:00+08:00").map(MailDate.iso) == "2021-03-04T01:12:00.000Z")
        #expect(MailDate.parse("Mon Aug 17 14:53:31 2020").map(MailDate.iso) == "2020-08-17T14:53:31.000Z")
        #expect(MailDate.parse("not a date") == nil)
    }

    @Test("RFC 5322 dates read as bytes give what the token reading gives; a seconds field of inf or 1e300 makes no date")
    func dateReadings() {
        var values = ["Wed, 13 Sep 2017 13:05:45 +0200", "13 Sep 17 13:05 GMT", "Tue, 9 May 2023 16:48:09 +0200 (CEST)", "Mon,  1 Jan 2024 00:00:00 -0000",
                      "1 jan 99 23:59:60 PDT", "Thu, 31 Dec 1970 24:00:00 +0000", "Sat, 32 Jan 2020 10:00:00 +0000", "Fri, 3 Febr 2020 1:2:3 EST",
                      "3 Feb 2020 10:00 -+100", "3 Feb 2020 10:00:+5 +0530", "Sun, 5 Mar 2023 ::10:20:30 Z", "5 Mar 2023 10 +0800",
                      "5 Mar 2023 10:20:30:40 cest", "5 Mar 49 10:20", "5 Mar 50 10:20", "5 Mar 0 10:20", "-5 Mar 2023 10:20", "Mar 5 2023",
                      "5 Mar 2023 10:20:99999999999", "5 Mar 2023 10:20:999999999999999999999", "5 Mar 2023 10:20:07.25 +0100",
                      "5 mar1 2023", "5 March 2023 07:08", "5,Mar,2023,07:08:09,+0000", "", "   ", "(comment only)", "Mon, 5 Mar 2023 07:08:09 +0000 (UTC)x"]
        for day in [1, 9, 10, 28, 31] { for zone in ["+0000", "-0800", "+0545", "UT", "Z", "JST", "xyz"] { values.append("Fri, \(day) Nov 2023 08:09:10 \(zone)") } }
        for v in values {
            var bytes = v
            let fast = bytes.withUTF8 { MailDate.parseRFC5322ASCII($0) }
            if case .read(let date) = fast {
                #expect(date == MailDate.parseRFC5322Tokens(v), "\(v)")
            } else {
                #expect(v.contains(".") || v.contains(":+") || v.contains("999999999999999999999"), "read by tokens: \(v)")
            }
        }
        #expect(MailDate.parseRFC5322("Mon, 5 Mar 2023 07:08:inf +0000") == nil)
        #expect(MailDate.parseRFC5322("Mon, 5 Mar 2023 07:08:1e300 +0000") == nil)
        #expect(MailDate.parseRFC5322("Mon, 5 Mar 2023 07:08:nan +0000") == nil)
        #expect(MailDate.parseRFC5322("Mon, 5 Mar 2023 07:08:09.5 +0000").map(MailDate.iso) == "2023-03-05T07:08:09.500Z")
        #expect(MailDate.parseRFC5322("Mon, 5 Mär 2023 07:08:09 +0000") == nil)
    }
}

@Suite("HTML to text")
struct HTMLTextTests {
    @Test("blocks become lines, br a newline, pre and tables keep structure, entities decoded, script dropped")
    func structure() {
        let h = HTMLText.convert("""
        <html><head><style>p{}</style><script>var x=1;</script><title>t</title></head><body>
        <p>第一段&nbsp;text &amp; more</p><div>line<br>break</div>
        <pre>00 nt!KeBugCheckEx
        01   nt!KiPageFault+0x42e</pre>
        <table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>
        <ul><li>one</li><li>two</li></ul>&#x1F600;
        </body></html>
        """)
        #expect(h.text.contains("第一段 text & more"))
        #expect(h.text.contains("line\nbreak"))
        #expect(h.text.contains("00 nt!KeBugCheckEx\n01   nt!KiPageFault+0x42e"))
        #expect(h.text.contains("a\tb\nc\td"))
        #expect(h.text.contains("- one\n- two"))
        #expect(h.text.contains("😀"))
        #expect(!h.text.contains("var x"))
        #expect(h.quoteStart == nil)
    }

    @Test("quote markers: OWA divRplyFwdMsg, Outlook border-top, gmail_quote, blockquote type=cite", arguments: [
        "<div id=\"divRplyFwdMsg\"><b>From:</b> x</div><div>old</div>",
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'><b>发件人:</b> x</div><p>old</p>",
        "<div style=\"border:none; border-top:solid #B5C4DF 1.0pt\">From: x</div><p>old</p>",
        "<div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon wrote:</div><blockquote>old</blockquote></div>",
        "<div class=\"moz-cite-prefix\">在 2021/1/22 21:21, X 写道:</div><blockquote type=\"cite\">old</blockquote>",
        "<div id=\"original-content\">old</div>",
    ])
    func markers(_ quoted: String) throws {
        let h = HTMLText.convert("<html><body><div>new reply</div>\(quoted)</body></html>")
        let q = try #require(h.quoteStart)
        #expect(h.text[..<q].trimmingCharacters(in: .whitespacesAndNewlines) == "new reply")
        #expect(h.text[q...].contains("old"))
    }
}

@Suite("SHA-256 of ingested files")
struct SHA256Tests {
    func hex(_ chunks: [[UInt8]]) -> String {
        var h = SHA256()
        for c in chunks { h.update(c) }
        return h.finalizeHex()
    }

    @Test("FIPS 180-4 test vectors, whatever the chunking")
    func vectors() {
        #expect(hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex([Array("abc".utf8)]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let two = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(hex([two]) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(two.map { [$0] }) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(hex([million]) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(hex([Array(million[..<63]), Array(million[63..<130]), Array(million[130...])]) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

@Suite("Byte-level text helpers")
struct ByteTextTests {
    @Test("CR LF becomes LF, a lone CR stays; a byte replaced everywhere")
    func lineEnds() {
        #expect(ByteText.lineFeedsOnly("a\r\nb\rc\r\n\r\n蓝屏\r") == "a\nb\rc\n\n蓝屏\r")
        #expect(ByteText.lineFeedsOnly("no carriage returns") == "no carriage returns")
        #expect(ByteText.replacing(0x0A, with: 0x20, in: "RE: 蓝屏\n 0x9F\n") == "RE: 蓝屏  0x9F ")
    }

    @Test("trimming: spaces, tabs and every Unicode space separator (the listed ones, checked against the property)")
    func trimming() {
        for v in UInt32(0x80)...0x10FFFF {
            guard let scalar = Unicode.Scalar(v) else { continue }
            #expect(Trimming.isSpaceSeparator(v) == (scalar.properties.generalCategory == .spaceSeparator), "U+\(String(v, radix: 16))")
        }
        #expect("\u{3000} 蓝屏 驱动\u{00A0}\t".trimmingSpaces() == "蓝屏 驱动")
        #expect("\u{2028}\n Subject \r\n".trimmingSpacesAndNewlines() == "Subject")
        #expect("\n蓝屏\n".trimmingSpaces() == "\n蓝屏\n")
    }

    @Test("reused conversions start clean: after a bad byte, an unfinished shift, and on many threads at once")
    func reusedConversions() async {
        // ISO-2022-JP keeps a shift state: text left shifted (ESC $ B, no way back) must not shift the next text
        #expect(Charset.decode([0x1B, 0x24, 0x42] + Array("F|K\\".utf8), label: "iso-2022-jp").text == "日本")
        #expect(Charset.decode(Array("F|K\\".utf8), label: "iso-2022-jp").text == "F|K\\")
        let bad: [UInt8] = [0xC0, 0xB6, 0xFF, 0xC6, 0xC1]
        #expect(Charset.iconvDecode(bad, from: "GB18030")?.replacements == 1)
        #expect(Charset.decode([0xC0, 0xB6, 0xC6, 0xC1], label: "gbk").text == "蓝屏")
        let results = await withTaskGroup(of: Bool.self) { group in
            for k in 0..<16 {
                group.addTask {
                    (0..<200).allSatisfy { _ in
                        k % 2 == 0 ? Charset.decode([0xC0, 0xB6, 0xC6, 0xC1], label: "gb2312").text == "蓝屏"
                                   : Charset.decode([0xC2, 0xC5, 0xAB, 0xCC], label: "big5").text == "藍屏"
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 16 && results.allSatisfy { $0 })
    }
}

