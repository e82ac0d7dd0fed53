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

@Suite("Folders given to ingest")
struct FolderWalkTests {
    @Test("a folder walk lists files in order, enters subfolders and linked folders, skips hidden entries and a maildir's tmp, and gives standardized paths")
    func walk() throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        let root = dir.appendingPathComponent("mail")
        for sub in ["box/cur", "box/new", "box/tmp", "other"] { try fm.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true) }
        for file in ["box/cur/2", "box/cur/1", "box/new/3", "box/tmp/partial", "other/a.eml", ".hidden.eml", "z.eml"] {
            try Data("Subject: x\r\n\r\nbody\r\n".utf8).write(to: root.appendingPathComponent(file))
        }
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("linked").path, withDestinationPath: root.appendingPathComponent("other").path)
        try fm.createSymbolicLink(atPath: root.appendingPathComponent("y.eml").path, withDestinationPath: root.appendingPathComponent("z.eml").path)
        // given with a trailing slash and a `.` step, as a user might type it
        let given = root.path + "/./"
        let (files, diagnostics) = MailReader.expand([given, root.appendingPathComponent("missing").path], standardized: true)
        let base = root.standardizedFileURL.path
        #expect(files == ["box/cur/1", "box/cur/2", "box/new/3", "linked/a.eml", "other/a.eml", "y.eml", "z.eml"].map { base + "/" + $0 })
        #expect(diagnostics.map(\.description).count == 1)
        #expect(diagnostics.first?.description.contains("missing") == true)
        // the entry types come from the folder listing itself
        let kinds = Dictionary(uniqueKeysWithValues: try #require(FolderListing.entries(root.path)).map { ($0.name, $0.kind) })
        #expect(kinds["box"] == .folder && kinds["z.eml"] == .file && kinds["linked"] == .other && kinds[".hidden.eml"] == .file)
        #expect(kinds["."] == nil && kinds[".."] == nil)
        #expect(FolderListing.entries(root.appendingPathComponent("missing").path) == nil)
    }
}
