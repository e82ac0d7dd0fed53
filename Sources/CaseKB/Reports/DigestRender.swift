import Foundation

extension Digest {
    static func md(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    static func trendText(_ t: [Int]) -> String { t.map(String.init).joined(separator: " → ") }

    /// The digest as Markdown (tables for the charts).
    public var markdown: String {
        var s = "# casekb weekly digest — \(window.label)\n\n"
        s += "\(window.from.prefix(10)) to \(window.to.prefix(10)) (end exclusive)\n\n"
        s += "## Headline\n\n| | this week | previous four weeks |\n|---|---:|---|\n"
        func row(_ name: String, _ kp: KeyPath<Headline, Int>) {
            s += "| \(name) | \(headline[keyPath: kp]) | \(previousWeeks.map { String($0[keyPath: kp]) }.joined(separator: " · ")) |\n"
        }
        row("cases opened", \.casesOpened); row("cases active", \.casesActive); row("messages", \.messages)
        row("distinct crash signatures", \.signatures); row("new signatures", \.newSignatures)
        s += "\n## Cases active this week\n\n"
        if cases.isEmpty { s += "No case was active in this window.\n" }
        for c in cases {
            s += "### \(Digest.md(c.case)) — \(Digest.md(c.subject))\n\n"
            s += "- organisations: \(c.organisations.isEmpty ? "—" : c.organisations.joined(separator: ", "))\n"
            s += "- bugchecks: \(c.bugchecks.isEmpty ? "—" : c.bugchecks.joined(separator: ", "))\n"
            s += "- culprits: \(c.culprits.isEmpty ? "—" : c.culprits.joined(separator: ", "))\n"
            if let r = c.latestRecommendation { s += "- latest advice (\(c.latestAction ?? "?")): \(Digest.md(String(r.prefix(200))))\n" }
            s += "- root cause stated: \(c.rootCauseStated ? "yes" : "no"); open for \(c.daysOpen) days\n"
            if !c.linkedCases.isEmpty { s += "- like earlier cases: \(c.linkedCases.joined(separator: ", "))\n" }
            s += "\n"
        }
        s += "## Recurring crash signatures\n\n"
        if recurring.isEmpty { s += "None this week.\n" } else {
            s += "| signature | culprit | cases this week | first seen | last seen | previous 4 weeks | |\n|---|---|---:|---|---|---|---|\n"
            for r in recurring {
                s += "| \(Digest.md(r.signature)) | \(r.culprit ?? "—") | \(r.cases) | \(r.firstSeen.prefix(10)) | \(r.lastSeen.prefix(10)) | \(Digest.trendText(r.trend)) | \(r.isNew ? "**new**" : "") |\n"
            }
        }
        s += "\n## Top culprit drivers\n\n"
        if topCulprits.isEmpty { s += "None this week.\n" } else {
            s += "| driver | cases |\n|---|---:|\n"
            for c in topCulprits { s += "| \(Digest.md(c.name)) | \(c.cases) |\n" }
        }
        s += "\n## Bugchecks\n\n"
        if bugchecks.isEmpty { s += "None this week.\n" } else {
            s += "| code | name | cases |\n|---|---|---:|\n"
            for b in bugchecks { s += "| \(b.name) | \(b.label ?? "") | \(b.cases) |\n" }
        }
        s += "\n## Open actions\n\n"
        if openActions.isEmpty { s += "None.\n" }
        for a in openActions {
            s += "- \(Digest.md(a.case)) (message \(a.message)): \(a.action)\(a.target.map { " " + Digest.md($0) } ?? "") — \(Digest.md(String(a.text.prefix(160))))\n"
        }
        return s
    }

    /// HTML-escape text (also drops control characters XML does not allow).
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // control characters are not allowed in XML
                if c.value < 0x20 && c != "\n" && c != "\t" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A horizontal bar chart as inline SVG (no script, no external resource).
    static func barChart(_ items: [Count], title: String) -> String {
        let rows = Array(items.prefix(10))
        let maxValue = max(1, rows.map(\.cases).max() ?? 1)
        let rowHeight = 22, labelWidth = 260, barWidth = 300
        let height = max(1, rows.count) * rowHeight + 30
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(escape(title))\" viewBox=\"0 0 \(labelWidth + barWidth + 60) \(height)\" width=\"100%\" style=\"max-width:640px\">"
        s += "<title>\(escape(title))</title>"
        for (i, r) in rows.enumerated() {
            let y = 24 + i * rowHeight
            let w = Int(Double(barWidth) * Double(r.cases) / Double(maxValue))
            let label = r.label.map { "\(r.name) \($0)" } ?? r.name
            s += "<text x=\"0\" y=\"\(y + 14)\" font-size=\"12\">\(escape(String(label.prefix(40))))</text>"
            s += "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(max(w, 2))\" height=\"16\" fill=\"#3b6ea5\"></rect>"
            s += "<text x=\"\(labelWidth + max(w, 2) + 6)\" y=\"\(y + 14)\" font-size=\"12\">\(r.cases)</text>"
        }
        if rows.isEmpty { s += "<text x=\"0\" y=\"20\" font-size=\"12\">none this week</text>" }
        return s + "</svg>"
    }

    /// The digest as one self-contained, well-formed XHTML page: inline CSS, inline SVG, no script, no remote load.
    public var html: String {
        let e = Digest.escape
        var s = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\" />"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />"
        s += "<title>casekb weekly digest \(e(window.label))</title><style>"
        s += "body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem;color:#222}"
        s += "table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
        s += ".num{text-align:right}.new{color:#a33;font-weight:bold}.case{border-top:1px solid #ddd;padding:.5rem 0}"
        s += "@media print{body{max-width:none}a{color:inherit}}@media (max-width:600px){td,th{font-size:.85rem}}"
        s += "</style></head><body>"
        s += "<h1>casekb weekly digest — \(e(window.label))</h1><p>\(e(String(window.from.prefix(10)))) to \(e(String(window.to.prefix(10)))) (end exclusive)</p>"
        s += "<h2>Headline</h2><table><tr><th></th><th class=\"num\">this week</th><th>previous four weeks</th></tr>"
        func row(_ name: String, _ kp: KeyPath<Headline, Int>) {
            s += "<tr><td>\(name)</td><td class=\"num\">\(headline[keyPath: kp])</td><td>\(previousWeeks.map { String($0[keyPath: kp]) }.joined(separator: " · "))</td></tr>"
        }
        row("cases opened", \.casesOpened); row("cases active", \.casesActive); row("messages", \.messages)
        row("distinct crash signatures", \.signatures); row("new signatures", \.newSignatures)
        s += "</table><h2>Cases active this week</h2>"
        if cases.isEmpty { s += "<p>No case was active in this window.</p>" }
        for c in cases {
            s += "<div class=\"case\"><h3>\(e(c.case)) — \(e(c.subject))</h3><ul>"
            s += "<li>organisations: \(e(c.organisations.isEmpty ? "—" : c.organisations.joined(separator: ", ")))</li>"
            s += "<li>bugchecks: \(e(c.bugchecks.isEmpty ? "—" : c.bugchecks.joined(separator: ", ")))</li>"
            s += "<li>culprits: \(e(c.culprits.isEmpty ? "—" : c.culprits.joined(separator: ", ")))</li>"
            if let r = c.latestRecommendation { s += "<li>latest advice (\(e(c.latestAction ?? "?"))): \(e(String(r.prefix(200))))</li>" }
            s += "<li>root cause stated: \(c.rootCauseStated ? "yes" : "no"); open for \(c.daysOpen) days</li>"
            if !c.linkedCases.isEmpty { s += "<li>like earlier cases: \(e(c.linkedCases.joined(separator: ", ")))</li>" }
            s += "</ul></div>"
        }
        s += "<h2>Recurring crash signatures</h2>"
        if recurring.isEmpty { s += "<p>None this week.</p>" } else {
            s += "<table><tr><th>signature</th><th>culprit</th><th class=\"num\">cases</th><th>first seen</th><th>last seen</th><th>previous 4 weeks</th></tr>"
            for r in recurring {
                s += "<tr><td>\(e(r.signature))\(r.isNew ? " <span class=\"new\">new</span>" : "")</td><td>\(e(r.culprit ?? "—"))</td><td class=\"num\">\(r.cases)</td>"
                s += "<td>\(e(String(r.firstSeen.prefix(10))))</td><td>\(e(String(r.lastSeen.prefix(10))))</td><td>\(Digest.trendText(r.trend))</td></tr>"
            }
            s += "</table>"
        }
        s += "<h2>Top culprit drivers</h2>" + Digest.barChart(topCulprits, title: "Top culprit drivers (cases)")
        s += "<h2>Bugchecks</h2>" + Digest.barChart(bugchecks, title: "Bugchecks (cases)")
        s += "<h2>Open actions</h2>"
        if openActions.isEmpty { s += "<p>None.</p>" } else {
            s += "<ul>"
            for a in openActions { s += "<li>\(e(a.case)) (message \(a.message)): \(e(a.action))\(a.target.map { " " + e($0) } ?? "") — \(e(String(a.text.prefix(160))))</li>" }
            s += "</ul>"
        }
        return s + "</body></html>\n"
    }
}
