import CaseKB
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The request context: a 10 MB body cap (413 beyond) and the per-response CSP nonce.
public struct CaseKBContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var nonce: String = ""
    public var maxUploadSize: Int { 10 * 1024 * 1024 }
    public init(source: Source) { coreContext = .init(source: source) }
}

/// Security headers on every response: a Content-Security-Policy that forbids scripts except the page's own nonce and
/// every remote load, and `X-Content-Type-Options: nosniff`.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = CaseKBContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.nonce = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'nonce-\(context.nonce)'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        if let name = HTTPField.Name("Referrer-Policy") { response.headers[name] = "no-referrer" }
        return response
    }
}

/// The web UI and JSON API over a knowledge base (read-only).
public enum WebApp {
    static func html(_ s: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: s)))
    }

    static func json<T: Encodable>(_ v: T, status: HTTPResponse.Status = .ok) -> Response {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = (try? e.encode(v)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    struct APIError: Encodable { var error: String; var status: Int }

    static func apiError(_ message: String, _ status: HTTPResponse.Status) -> Response {
        json(APIError(error: message, status: status.code), status: status)
    }

    /// The status and plain message of an error (never a stack trace or SQL).
    static func classify(_ error: any Error) -> (HTTPResponse.Status, String) {
        if let e = error as? HTTPError { return (e.status, e.status == .contentTooLarge ? "request body larger than 10 MB" : (e.body ?? e.status.reasonPhrase)) }
        if let e = error as? any HTTPResponseError { return (e.status, e.status == .contentTooLarge ? "request body larger than 10 MB" : e.status.reasonPhrase) }
        if let e = error as? SearchText.QueryError { return (.badRequest, e.description) }
        if let e = error as? Digest.DateError { return (.badRequest, e.description) }
        if let e = error as? KnowledgeBase.StoreError {
            if case .notFound(let m) = e { return (.notFound, m) }
            return (.internalServerError, e.description)
        }
        return (.internalServerError, KnowledgeBase.describe(error))
    }

    static let e = Digest.escape

    static func page(_ title: String, _ body: String, nonce: String) -> String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(e(title)) — casekb</title><style>
        body{font-family:system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:0 1rem;color:#222}
        nav{padding:.6rem 0;border-bottom:1px solid #ccc;margin-bottom:1rem}nav a{margin-right:1rem}
        mark{background:#ffe58a}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;overflow-x:auto}
        .hit{margin:.8rem 0}.meta{color:#666;font-size:.9rem}.facets{float:right;width:14rem;font-size:.9rem}
        .frame-relevant{font-weight:bold}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;vertical-align:top}
        textarea{width:100%;min-height:14rem;font-family:monospace}
        </style></head><body><nav><a href="/">Search</a><a href="/similar">Similar cases</a><a href="/digest">Weekly digest</a></nav>
        \(body)
        <script nonce="\(nonce)">document.querySelectorAll('input[name=q]').forEach(function(i){if(!i.value)i.focus();});</script>
        </body></html>
        """
    }

    /// Snippets for pages mark matches with private-use characters: escape first, then turn the marks into <mark>.
    static let marks = ("\u{E000}", "\u{E001}")
    static func snippetHTML(_ s: String) -> String {
        e(s).replacingOccurrences(of: marks.0, with: "<mark>").replacingOccurrences(of: marks.1, with: "</mark>")
    }

    static func form(_ body: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }

    static func filters(_ q: Request) throws -> SearchFilters {
        let p = q.uri.queryParameters
        func date(_ name: String) throws -> Date? {
            guard let v = p.get(name), !v.isEmpty else { return nil }
            guard let d = MailDate.parseISOLike(v) else { throw SearchText.QueryError(description: "\(name)=\(v): expected a date like 2020-08-17") }
            return d
        }
        func str(_ name: String) -> String? { p.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        return SearchFilters(bugcheck: str("bugcheck"), module: str("module"), tag: str("tag"), action: str("action"), since: try date("since"), until: try date("until"))
    }

    public static func router(kb: KnowledgeBase) -> Router<CaseKBContext> {
        let router = Router(context: CaseKBContext.self)
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: SecurityHeaders())

        // MARK: pages
        @Sendable func searchPage(_ request: Request, _ context: CaseKBContext) async -> Response {
            let p = request.uri.queryParameters
            let q = p.get("q") ?? ""
            let pageNumber = max(1, Int(p.get("page") ?? "1") ?? 1)
            var body = """
            <form action="/search" method="get"><input name="q" size="40" value="\(e(q))" placeholder="蓝屏, vwifimf, Dot11SendCompletion, KB4559003 …">
            bugcheck <input name="bugcheck" size="8" value="\(e(p.get("bugcheck") ?? ""))"> module <input name="module" size="10" value="\(e(p.get("module") ?? ""))">
            since <input name="since" size="10" value="\(e(p.get("since") ?? ""))"> <button>Search</button></form>
            """
            if !q.trimmingSpaces().isEmpty {
                do {
                    let f = try filters(request)
                    let r = try kb.search(q, filters: f, limit: 20, offset: (pageNumber - 1) * 20, marks: marks)
                    let facets = try kb.facets(q, filters: f)
                    body += "<div class=\"facets\"><h3>Bugchecks</h3><ul>" + facets.bugchecks.map { "<li>\(e($0.0)) (\($0.1))</li>" }.joined()
                    body += "</ul><h3>Culprits</h3><ul>" + facets.culprits.map { "<li>\(e($0.0)) (\($0.1))</li>" }.joined() + "</ul></div>"
                    body += "<p>\(r.total) hits</p>"
                    for h in r.results {
                        let link = "/cases/" + (h.case.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? "") + "#m\(h.message)"
                        body += "<div class=\"hit\"><a href=\"\(e(link))\">\(e(h.case))</a> <span class=\"meta\">message \(h.message) · \(e(h.from)) · \(e(h.sent ?? ""))</span><br>\(e(h.subject))<br>\(snippetHTML(h.snippet))</div>"
                    }
                    var nav = ""
                    var base = request.uri.queryParameters.filter { $0.key != "page" }.map { "\($0.key)=\(String($0.value).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
                    if base.isEmpty { base = "q=" }
                    if pageNumber > 1 { nav += "<a href=\"/search?\(e(base))&page=\(pageNumber - 1)\">previous</a> " }
                    if pageNumber * 20 < r.total { nav += "<a href=\"/search?\(e(base))&page=\(pageNumber + 1)\">next</a>" }
                    body += "<p>\(nav)</p>"
                } catch {
                    let (status, message) = classify(error)
                    return html(page("Search", body + "<p class=\"error\">\(e(message))</p>", nonce: context.nonce), status: status)
                }
            }
            return html(page(q.isEmpty ? "Search" : q, body, nonce: context.nonce))
        }
        router.get("/") { request, context in await searchPage(request, context) }
        router.get("/search") { request, context in await searchPage(request, context) }

        router.get("/cases/:key") { request, context -> Response in
            let key = context.parameters.get("key")?.removingPercentEncoding ?? ""
            do {
                let (t, k) = try kb.show(key)
                let links = try kb.links(t.key)
                return html(page(t.key, casePage(t, k, links), nonce: context.nonce))
            } catch {
                let (status, message) = classify(error)
                return html(page("Not found", "<p>\(e(message))</p>", nonce: context.nonce), status: status)
            }
        }

        router.get("/similar") { request, context -> Response in
            // GET with ?text= works too, so the results can be linked and loaded without a form post
            guard let text = request.uri.queryParameters.get("text"), !text.isEmpty else {
                return html(page("Similar cases", similarForm(""), nonce: context.nonce))
            }
            do {
                let r = try kb.similar(text: text.removingPercentEncoding ?? text, limit: 5)
                return html(page("Similar cases", similarForm(text) + similarResults(r), nonce: context.nonce))
            } catch {
                let (status, message) = classify(error)
                return html(page("Similar cases", "<p>\(e(message))</p>", nonce: context.nonce), status: status)
            }
        }
        router.post("/similar") { request, context -> Response in
            do {
                let buffer = try await request.body.collect(upTo: context.maxUploadSize)
                let text = form(String(buffer: buffer))["text"] ?? ""
                let r = try kb.similar(text: text, limit: 5)
                return html(page("Similar cases", similarForm(text) + similarResults(r), nonce: context.nonce))
            } catch {
                let (status, message) = classify(error)
                return html(page("Similar cases", "<p>\(e(message))</p>", nonce: context.nonce), status: status)
            }
        }

        router.get("/digest") { request, context -> Response in
            do {
                let d = try digest(kb, request)
                return html(d.html)
            } catch {
                let (status, message) = classify(error)
                return html(page("Digest", "<p>\(e(message))</p>", nonce: context.nonce), status: status)
            }
        }

        // MARK: API (the CLI's --json shapes)
        router.get("/api/search") { request, _ -> Response in
            do {
                let q = request.uri.queryParameters.get("q") ?? ""
                let limit = min(100, Int(request.uri.queryParameters.get("limit") ?? "20") ?? 20)
                return json(try kb.search(q, filters: try filters(request), limit: limit))
            } catch { let (s, m) = classify(error); return apiError(m, s) }
        }
        router.get("/api/cases") { request, _ -> Response in
            struct Out: Encodable { var cases: [CaseSummary] }
            do { return json(Out(cases: try kb.cases(limit: min(500, Int(request.uri.queryParameters.get("limit") ?? "50") ?? 50)))) }
            catch { let (s, m) = classify(error); return apiError(m, s) }
        }
        router.get("/api/cases/:key") { _, context -> Response in
            do {
                let key = context.parameters.get("key")?.removingPercentEncoding ?? ""
                let (t, k) = try kb.show(key)
                var c = ParseReport.CaseJSON(t, knowledge: k)
                c.similarCases = try kb.links(t.key)
                return json(c)
            } catch { let (s, m) = classify(error); return apiError(m, s) }
        }
        router.post("/api/similar") { request, context -> Response in
            do {
                let buffer = try await request.body.collect(upTo: context.maxUploadSize)
                let text = String(buffer: buffer)
                if text.trimmingSpacesAndNewlines().isEmpty { return apiError("empty body: post the crash output as text", .badRequest) }
                return json(try kb.similar(text: text, limit: 5))
            } catch { let (s, m) = classify(error); return apiError(m, s) }
        }
        router.get("/api/digest") { request, _ -> Response in
            do { return json(try digest(kb, request)) } catch { let (s, m) = classify(error); return apiError(m, s) }
        }
        return router
    }

    static func digest(_ kb: KnowledgeBase, _ request: Request) throws -> Digest {
        let p = request.uri.queryParameters
        let week: String
        if let w = p.get("week"), !w.isEmpty { week = w.uppercased() } else {
            let (monday, _) = try Digest.week(Digest.weekLabel(Date()))
            week = Digest.weekLabel(monday.addingTimeInterval(-86400))
        }
        let (a, b) = try Digest.week(week)
        return try kb.digest(from: a, to: b, label: week)
    }

    static func similarForm(_ text: String) -> String {
        "<form action=\"/similar\" method=\"post\"><p>Paste <code>!analyze -v</code> output, a <code>kc</code> stack, or a whole mail:</p><textarea name=\"text\">\(e(text))</textarea><button>Find similar cases</button></form>"
    }

    static func similarResults(_ r: SimilarResult) -> String {
        var s = "<h2>Query</h2><p class=\"meta\">bugchecks \(e(r.query.bugchecks.joined(separator: ", "))) · frames \(e(r.query.frames.prefix(5).joined(separator: " ← "))) · culprits \(e(r.query.culprits.joined(separator: ", ")))</p>"
        if r.results.isEmpty { return s + "<p><strong>No credible match</strong> in the knowledge base (confidence: none).</p>" }
        for c in r.results {
            let link = "/cases/" + (c.case.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? "")
            s += "<div class=\"hit\"><a href=\"\(e(link))\">\(e(c.case))</a> <strong>\(e(c.confidence.rawValue))</strong> <span class=\"meta\">score \(String(format: "%.2f", c.score))</span><br>\(e(c.subject))<ul>"
            s += c.reasons.map { "<li>\(e($0))</li>" }.joined()
            let advice = Array(Set(c.recommendations.map { $0.action + ($0.target.map { " " + $0 } ?? "") })).sorted()
            if !advice.isEmpty { s += "<li>advice there: \(e(advice.joined(separator: "; ")))</li>" }
            s += "</ul></div>"
        }
        return s
    }

    static func casePage(_ t: CaseThread, _ k: CaseKnowledge, _ links: [SimilarCase]) -> String {
        var s = "<h1>\(e(t.key))</h1><p>\(e(t.subject))</p>"
        if !t.caseIDs.isEmpty { s += "<p class=\"meta\">case ids: \(e(t.caseIDs.joined(separator: ", ")))</p>" }
        s += "<p class=\"meta\">participants: \(e(t.participants.joined(separator: ", ")))</p>"
        func src(_ span: TextSpan) -> String { "<a href=\"#m\(span.message)\" title=\"\(e(span.field)) \(span.start)–\(span.end)\">message \(span.message)</a>" }
        if !k.bugchecks.isEmpty {
            s += "<h2>Bugchecks</h2><table><tr><th>code</th><th>name</th><th>arguments</th><th>from</th></tr>"
            for b in k.bugchecks {
                let args = b.args.enumerated().map { i, a in "Arg\(i + 1) \(e(a))" + ((i < b.argMeanings.count ? b.argMeanings[i] : nil).map { " — " + e($0) } ?? "") }.joined(separator: "<br>")
                s += "<tr><td>\(e(b.code))</td><td>\(e(b.name ?? ""))</td><td>\(args)</td><td>\(src(b.source))</td></tr>"
            }
            s += "</table>"
        }
        if !k.culpritDetails.isEmpty {
            s += "<h2>Culprits</h2><ol>" + k.culpritDetails.map { "<li><strong>\(e($0.module))</strong> — \(e($0.evidence.joined(separator: "; ")))</li>" }.joined() + "</ol>"
        }
        if !k.poolTags.isEmpty {
            s += "<h2>Pool tags</h2><ul>" + k.poolTags.map { "<li>\(e($0.tag))\($0.owner.map { " → " + e($0) } ?? "")\($0.suspect ? " (suspect)" : "") — \(src($0.source))</li>" }.joined() + "</ul>"
        }
        for (n, st) in k.stacks.enumerated() {
            let frames = st.frames.compactMap { StackExtractorBridge.frame($0) }
            let relevant = Set(FrameNormalizer.shared.relevantFrames(frames))
            s += "<h2>Stack \(n + 1) <span class=\"meta\">(\(e(st.command)), \(st.sources.map(src).joined(separator: ", ")))</span></h2><pre>"
            for (i, f) in st.frames.enumerated() {
                let isRelevant = frames.count == st.frames.count && relevant.contains(FrameNormalizer.shared.normalize(frames[i]))
                let line = String(format: "%02x ", i) + e(f) + (st.inlineFrames.contains(i) ? " (inline)" : "")
                s += isRelevant ? "<span class=\"frame-relevant\">\(line)</span>\n" : line + "\n"
            }
            s += "</pre>"
        }
        if !k.recommendations.isEmpty {
            s += "<h2>Recommendations</h2><ul>" + k.recommendations.map { "<li><strong>\(e($0.action))</strong>\($0.target.map { " [" + e($0) + "]" } ?? ""): \(e($0.text)) — \(src($0.source))</li>" }.joined() + "</ul>"
        }
        if !links.isEmpty {
            s += "<h2>Similar earlier cases</h2>" + links.map { l in
                "<div class=\"hit\"><a href=\"/cases/\(e(l.case.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? ""))\">\(e(l.case))</a> \(e(l.confidence.rawValue)) — \(e(l.subject))<ul>" + l.reasons.map { "<li>\(e($0))</li>" }.joined() + "</ul></div>"
            }.joined()
        }
        s += "<h2>Timeline</h2>"
        for (i, m) in t.messages.enumerated() {
            s += "<div class=\"hit\" id=\"m\(i + 1)\"><strong>#\(i + 1)</strong> <span class=\"meta\">\(e(m.sent.map(MailDate.iso) ?? "")) · \(e(m.from.display))</span><pre>\(e(m.newText))</pre>"
            if !m.quotedText.isEmpty { s += "<details><summary>quoted text</summary><pre>\(e(m.quotedText))</pre></details>" }
            s += "</div>"
        }
        return s
    }
}
