import CaseKBServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
@testable import CaseKB

@Suite("Web UI and API")
struct WebAppTests {
    /// A knowledge base with the Corpus threads and a hostile mail.
    static func knowledgeBase(_ dir: URL) throws -> KnowledgeBase {
        let hostile = dir.appendingPathComponent("hostile.eml")
        try """
        From: Mallory <mallory@evil.example>
        Subject: CAS-66666-XSSXSS <script>alert('subject')</script>
        Date: Mon, 15 May 2023 02:14:55 +0200
        Message-ID: <xss@evil.example>
        MIME-Version: 1.0
        Content-Type: text/html; charset=utf-8

        <p>Hello <img src=x onerror="alert('body')"> and <script>alert('inline')</script> bugcheck 0x50</p>
        """.write(to: hostile, atomically: false, encoding: .utf8)
        let kb = try KnowledgeBase(path: dir.appendingPathComponent("kb.sqlite").path)
        _ = try Ingester(kb).run(paths: [Fixtures.corpus("threads"), hostile.path])
        return try KnowledgeBase(path: kb.path, readOnly: true)
    }

    @Test("every route over a live server on a free loopback port: pages, API, escaping, 404, 400, 413")
    func routes() async throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try Self.knowledgeBase(dir)
        let app = Application(router: WebApp.router(kb: kb), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            func get(_ uri: String) async throws -> (HTTPResponse.Status, String, HTTPFields) {
                try await client.execute(uri: uri, method: .get) { ($0.status, String(buffer: $0.body), $0.headers) }
            }
            // search page with highlighted snippets and facets, security headers
            let (s1, search, headers) = try await get("/search?q=vwifimf")
            #expect(s1 == .ok)
            #expect(search.contains("CAS-02698-C5V4N5"))
            #expect(search.contains("<mark>"))
            #expect(search.contains("Culprits"))
            #expect(headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(headers[.contentSecurityPolicy]?.contains("script-src 'nonce-") == true)
            #expect(headers[.xContentTypeOptions] == "nosniff")
            #expect(try await get("/").0 == .ok)
            // the case page: facts, stacks with relevant frames marked, timeline
            let (s2, casePage, _) = try await get("/cases/CAS-02698-C5V4N5")
            #expect(s2 == .ok)
            #expect(casePage.contains("KMODE_EXCEPTION_NOT_HANDLED"))
            #expect(casePage.contains("frame-relevant"))
            #expect(casePage.contains("nwifi!Dot11SendCompletion"))
            #expect(casePage.contains("id=\"m13\""))
            // hostile mail is shown escaped, never as markup
            let (s3, hostile, _) = try await get("/cases/CAS-66666-XSSXSS")
            #expect(s3 == .ok)
            #expect(!hostile.contains("<script>alert"))
            #expect(!hostile.contains("<img src=x"))
            #expect(hostile.contains("&lt;script&gt;alert("))
            let (_, hostileSearch, _) = try await get("/search?q=CAS-66666-XSSXSS")
            #expect(!hostileSearch.contains("<script>alert"))
            // unknown case: 404 page and JSON
            #expect(try await get("/cases/NO-SUCH-CASE").0 == .notFound)
            let (s4, apiMissing, _) = try await get("/api/cases/NO-SUCH-CASE")
            #expect(s4 == .notFound)
            #expect(apiMissing.contains("\"error\""))
            // malformed query: 400 with a plain message
            let (s5, bad, _) = try await get("/api/search?q=%22special%20pool")
            #expect(s5 == .badRequest)
            #expect(bad.contains("unbalanced quote"))
            // API shapes
            let (s6, apiSearch, _) = try await get("/api/search?q=%E8%93%9D%E5%B1%8F")
            #expect(s6 == .ok)
            let parsed = try JSONSerialization.jsonObject(with: Data(apiSearch.utf8)) as? [String: Any]
            #expect((parsed?["total"] as? Int ?? 0) > 0)
            #expect(try await get("/api/cases").1.contains("\"cases\""))
            #expect(try await get("/api/cases/CAS-02698-C5V4N5").1.contains("\"culprits\""))
            #expect(try await get("/api/digest?week=2020-W34").1.contains("\"headline\""))
            #expect(try await get("/api/digest?week=bogus").0 == .badRequest)
            #expect(try await get("/digest?week=2020-W34").1.contains("<svg"))
            // similar: form page, form post, API post
            #expect(try await get("/similar").0 == .ok)
            let stack = "0: kd> kc\n # Call Site\n00 nt!KeBugCheckEx\n01 nt!KiPageFault\n02 nwifi!Dot11SendCompletion\n03 nwifi!Pt6SendComplete\n04 ndis!ndisCallSendCompleteHandler\n"
            let apiSimilar = try await client.execute(uri: "/api/similar", method: .post, body: ByteBuffer(string: stack)) { ($0.status, String(buffer: $0.body)) }
            #expect(apiSimilar.0 == .ok)
            #expect(apiSimilar.1.contains("CAS-02698-C5V4N5") || apiSimilar.1.contains("contoso-fin"))
            let formBody = "text=" + (stack.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let pageSimilar = try await client.execute(uri: "/similar", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: formBody)) { ($0.status, String(buffer: $0.body)) }
            #expect(pageSimilar.0 == .ok)
            #expect(pageSimilar.1.contains("same call chain"))
            // more than 10 MB: 413
            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 10 * 1024 * 1024 + 100)
            let tooBig = try await client.execute(uri: "/api/similar", method: .post, body: big) { $0.status }
            #expect(tooBig == .contentTooLarge)
        }
    }
}

/// Headless Chromium loads the pages and the rendered DOM is checked (skipped, saying why, without Chromium).
@Suite("Browser")
struct BrowserTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static func dumpDOM(_ url: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium ?? "/usr/bin/chromium")
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--virtual-time-budget=3000", "--dump-dom", url]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("search, case and similar pages render in headless Chromium",
          .enabled(if: BrowserTests.chromium != nil, "Chromium is not installed (apt-get install chromium); browser test skipped"))
    func pages() async throws {
        let dir = Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kb = try WebAppTests.knowledgeBase(dir)
        let app = Application(router: WebApp.router(kb: kb), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            let search = try BrowserTests.dumpDOM(base + "/search?q=vwifimf")
            #expect(search.contains("CAS-02698-C5V4N5"))
            let casePage = try BrowserTests.dumpDOM(base + "/cases/CAS-02698-C5V4N5")
            #expect(casePage.contains("nwifi!Dot11SendCompletion"))
            #expect(casePage.contains("vwifimf"))
            let stack = "0: kd> kc\n # Call Site\n00 nt!KeBugCheckEx\n01 nt!KiPageFault\n02 nwifi!Dot11SendCompletion\n03 nwifi!Pt6SendComplete\n04 ndis!ndisCallSendCompleteHandler\n"
            let similar = try BrowserTests.dumpDOM(base + "/similar?text=" + (stack.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            #expect(similar.contains("same call chain"))
            // the hostile mail stays text in the rendered DOM: no element was created from it
            let hostile = try BrowserTests.dumpDOM(base + "/cases/CAS-66666-XSSXSS")
            #expect(!hostile.contains("<img src=\"x\""))
            #expect(hostile.contains("&lt;script&gt;alert("))
        }
    }
}
