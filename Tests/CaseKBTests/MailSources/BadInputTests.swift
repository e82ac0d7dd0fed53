import Foundation
import Testing
@testable import CaseKB

@Suite("Bad input")
struct BadInputTests {
    static let cases: [(String, String)] = [
        ("truncated.eml", "no closing boundary"),
        ("no-closing-boundary.eml", "no closing boundary \"--XYZ--\""),
        ("invalid-base64.eml", "invalid base64: character '!'"),
        ("random.bin", "binary data, not mail"),
        ("empty.eml", "empty file"),
    ]

    @Test("each bad file gives a one-line error naming the file", arguments: cases.map(\.0))
    func badFile(_ name: String) throws {
        let path = Fixtures.corpus("bad-input/" + name)
        let r = MailReader.read(path: path)
        #expect(r.failed)
        let expected = try #require(Self.cases.first { $0.0 == name }?.1)
        let error = try #require(r.diagnostics.first { $0.severity == .error })
        #expect(error.description.hasPrefix(path))
        #expect(error.description.contains(expected))
        #expect(!error.description.contains("\n"))
    }

    @Test("byte offsets point at the problem")
    func offsets() throws {
        let path = Fixtures.corpus("bad-input/invalid-base64.eml")
        let r = MailReader.read(path: path)
        let off = try #require(r.diagnostics.first?.byteOffset)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(bytes[off] == UInt8(ascii: "!"))
    }

    @Test("an unknown charset is a warning and the text is still read")
    func unknownCharset() throws {
        let r = MailReader.read(path: Fixtures.corpus("bad-input/unknown-charset.eml"))
        #expect(!r.failed)
        #expect(r.diagnostics.contains { $0.severity == .warning && $0.message.contains("x-klingon-42") })
        #expect(r.messages.first?.newText == "蓝屏代码 0x50，请分析。")
    }

    @Test("a batch with bad files still reads the good ones")
    func batchGoesOn() {
        let r = ThreadParser.parse(paths: [Fixtures.corpus("bad-input"), Fixtures.corpus("threads/maildir"), "/nonexistent/casekb"])
        #expect(r.cases.contains { $0.key == "hv-node07-0515@woodgrove.example" && $0.messages.count == 3 })
        #expect(r.files.filter(\.failed).count == 5)
        #expect(r.diagnostics.contains { $0.file == "/nonexistent/casekb" })
    }

    @Test("a 50 MB file of one enormous line is refused after reading only its first 64 KiB")
    func enormousLine() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.eml").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = try #require(FileHandle(forWritingAtPath: path))
        let chunk = Data(repeating: UInt8(ascii: "A"), count: 1 << 20)
        for _ in 0..<50 { h.write(chunk) }
        try h.close()
        let r = MailReader.read(path: path)
        #expect(r.failed)
        #expect(r.diagnostics.first?.message.contains("no line break in the first 64 KiB") == true)
    }

    @Test("an mbox message with an enormous line is skipped and the others are read")
    func mboxWithHugeMessage() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.mbox").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let h = try #require(FileHandle(forWritingAtPath: path))
        func msg(_ n: Int) -> Data { Data("From a@b.c Mon May  8 10:12:03 2023\nFrom: a@b.c\nSubject: m\(n)\nMessage-ID: <m\(n)@b.c>\nDate: Mon, 8 May 2023 10:12:03 +0000\n\nbody \(n)\n\n".utf8) }
        h.write(msg(1))
        h.write(Data("From a@b.c Mon May  8 10:12:03 2023\nFrom: a@b.c\nSubject: huge\nMessage-ID: <huge@b.c>\n\n".utf8))
        let chunk = Data(repeating: UInt8(ascii: "B"), count: 1 << 20)
        for _ in 0..<70 { h.write(chunk) }
        h.write(Data("\n\n".utf8))
        h.write(msg(3))
        try h.close()
        let r = MailReader.read(path: path)
        #expect(r.messages.map(\.subject) == ["m1", "m3"])
        #expect(r.diagnostics.contains { $0.messageNumber == 2 && $0.message.contains("larger than 64 MiB") })
    }
}
