import Foundation
import GRDB

/// The weekly digest: what crashed, what keeps coming back, which drivers to chase — as data, Markdown or HTML.
public struct Digest: Codable, Sendable {
    public struct Window: Codable, Sendable {
        public var label: String
        public var from: String
        public var to: String
    }
    public struct Headline: Codable, Sendable {
        public var casesOpened: Int
        public var casesActive: Int
        public var messages: Int
        public var signatures: Int
        public var newSignatures: Int
        enum CodingKeys: String, CodingKey { case messages, signatures; case casesOpened = "cases_opened", casesActive = "cases_active", newSignatures = "new_signatures" }
    }
    public struct CaseLine: Codable, Sendable {
        public var `case`: String
        public var subject: String
        public var organisations: [String]
        public var bugchecks: [String]
        public var culprits: [String]
        public var latestRecommendation: String?
        public var latestAction: String?
        public var rootCauseStated: Bool
        public var daysOpen: Int
        public var linkedCases: [String]
        enum CodingKeys: String, CodingKey {
            case `case`, subject, organisations, bugchecks, culprits
            case latestRecommendation = "latest_recommendation", latestAction = "latest_action", rootCauseStated = "root_cause_stated"
            case daysOpen = "days_open", linkedCases = "linked_cases"
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(`case`, forKey: .case); try c.encode(subject, forKey: .subject); try c.encode(organisations, forKey: .organisations)
            try c.encode(bugchecks, forKey: .bugchecks); try c.encode(culprits, forKey: .culprits); try c.encode(latestRecommendation, forKey: .latestRecommendation)
            try c.encode(latestAction, forKey: .latestAction); try c.encode(rootCauseStated, forKey: .rootCauseStated)
            try c.encode(daysOpen, forKey: .daysOpen); try c.encode(linkedCases, forKey: .linkedCases)
        }
    }
    public struct Recurring: Codable, Sendable {
        public var signature: String
        public var culprit: String?
        public var cases: Int
        public var firstSeen: String
        public var lastSeen: String
        /// Cases per week over the previous four weeks, oldest first.
        public var trend: [Int]
        public var isNew: Bool
        enum CodingKeys: String, CodingKey { case signature, culprit, cases, trend; case firstSeen = "first_seen", lastSeen = "last_seen", isNew = "new" }
    }
    public struct Count: Codable, Sendable { public var name: String; public var label: String?; public var cases: Int }
    public struct OpenAction: Codable, Sendable {
        public var `case`: String
        public var action: String
        public var target: String?
        public var text: String
        public var message: Int
    }

    public var window: Window
    public var headline: Headline
    /// The same numbers for each of the four previous weeks, oldest first.
    public var previousWeeks: [Headline]
    public var cases: [CaseLine]
    public var recurring: [Recurring]
    public var topCulprits: [Count]
    public var bugchecks: [Count]
    public var openActions: [OpenAction]

    enum CodingKeys: String, CodingKey {
        case window, headline, cases, recurring, bugchecks
        case previousWeeks = "previous_weeks", topCulprits = "top_culprits", openActions = "open_actions"
    }

    public struct DateError: Error, CustomStringConvertible { public var description: String }

    /// The ISO week `2020-W34` as [Monday 00:00, next Monday) at `offsetMinutes` east of UTC.
    public static func week(_ s: String, offsetMinutes: Int = 0) throws -> (Date, Date) {
        let parts = s.uppercased().split(separator: "-W")
        guard parts.count == 2, let y = Int(parts[0]), let w = Int(parts[1]), (1...53).contains(w), (1900...9999).contains(y) else {
            throw DateError(description: "--week \(s): expected an ISO week like 2020-W34")
        }
        // ISO week 1 contains January 4th
        guard let jan4 = MailDate.instant(year: y, month: 1, day: 4, hour: 0, minute: 0, second: 0, fraction: 0, offsetMinutes: offsetMinutes) else {
            throw DateError(description: "--week \(s): not a date")
        }
        let days = Int((jan4.timeIntervalSince1970 + Double(offsetMinutes * 60)) / 86400)
        let weekday = ((days % 7) + 10) % 7   // 0 = Monday (1970-01-01 was a Thursday)
        let monday = jan4.addingTimeInterval(Double((-weekday + (w - 1) * 7) * 86400))
        if w == 53 {
            let (next, _) = try week("\(y + 1)-W01", offsetMinutes: offsetMinutes)
            if monday >= next { throw DateError(description: "--week \(s): \(y) has no week 53") }
        }
        return (monday, monday.addingTimeInterval(7 * 86400))
    }

    /// The ISO week label of an instant.
    public static func weekLabel(_ d: Date, offsetMinutes: Int = 0) -> String {
        let local = d.addingTimeInterval(Double(offsetMinutes * 60))
        let days = Int(floor(local.timeIntervalSince1970 / 86400))
        let weekday = ((days % 7) + 10) % 7
        let thursday = Date(timeIntervalSince1970: Double((days - weekday + 3) * 86400))
        let year = Int(MailDate.iso(thursday).prefix(4)) ?? 1970
        let (w1, _) = (try? week("\(year)-W01")) ?? (thursday, thursday)
        let n = Int((thursday.timeIntervalSince(w1) / 86400).rounded(.down)) / 7 + 1
        return String(format: "%04d-W%02d", year, n)
    }

    /// `+08:00`, `-0500`, `UTC` → minutes east of UTC.
    public static func offset(_ tz: String?) throws -> Int {
        guard let tz, !tz.isEmpty, tz.uppercased() != "UTC", tz.uppercased() != "Z" else { return 0 }
        let sign = tz.hasPrefix("-") ? -1 : 1
        let digits = tz.filter(\.isNumber)
        guard (tz.hasPrefix("+") || tz.hasPrefix("-")), digits.count == 4 || digits.count == 2, let v = Int(digits) else {
            throw DateError(description: "--tz \(tz): expected UTC or an offset like +08:00")
        }
        return sign * (digits.count == 4 ? (v / 100) * 60 + v % 100 : v * 60)
    }
}

extension KnowledgeBase {
    /// Build the digest of [from, to).
    public func digest(from: Date, to: Date, label: String) throws -> Digest {
        let cues = ((try? DataFile.entries("root-cause-cues.txt")) ?? []).map { $0.value.lowercased() }
        return try pool.read { db in
            let f = KnowledgeBase.millis(from) ?? 0, t = KnowledgeBase.millis(to) ?? 0
            func headline(_ a: Int64, _ b: Int64) throws -> (Digest.Headline, Set<String>) {
                let opened = try Int.fetchOne(db, sql: "SELECT count(*) FROM cases WHERE first_sent >= ? AND first_sent < ?", arguments: [a, b]) ?? 0
                let active = try Int64.fetchAll(db, sql: "SELECT DISTINCT case_id FROM messages WHERE sent >= ? AND sent < ?", arguments: [a, b])
                let messages = try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE sent >= ? AND sent < ?", arguments: [a, b]) ?? 0
                var sigs = Set<String>()
                for id in active { sigs.formUnion(try String.fetchAll(db, sql: "SELECT term FROM signature_terms WHERE case_id = ? AND kind = 'core'", arguments: [id])) }
                // new: no case active before the window carries the signature
                var new = 0
                for s in sigs {
                    let earlier = try Int.fetchOne(db, sql: """
                        SELECT count(*) FROM signature_terms st JOIN cases c ON c.id = st.case_id
                        WHERE st.kind = 'core' AND st.term = ? AND c.first_sent < ?
                        """, arguments: [s, a]) ?? 0
                    if earlier == 0 { new += 1 }
                }
                return (Digest.Headline(casesOpened: opened, casesActive: active.count, messages: messages, signatures: sigs.count, newSignatures: new), sigs)
            }
            let (head, sigs) = try headline(f, t)
            var previous: [Digest.Headline] = []
            var weekly: [[String: Int]] = []   // per previous week: signature → cases
            for k in (1...4).reversed() {
                let a = f - Int64(k) * 7 * 86_400_000, b = a + 7 * 86_400_000
                previous.append(try headline(a, b).0)
                var counts: [String: Int] = [:]
                for r in try Row.fetchAll(db, sql: """
                    SELECT st.term, count(DISTINCT st.case_id) AS n FROM signature_terms st
                    WHERE st.kind = 'core' AND st.case_id IN (SELECT DISTINCT case_id FROM messages WHERE sent >= ? AND sent < ?) GROUP BY st.term
                    """, arguments: [a, b]) { counts[r["term"]] = r["n"] }
                weekly.append(counts)
            }
            // cases active in the window
            let active = try Row.fetchAll(db, sql: """
                SELECT c.id, c.key, c.subject, c.first_sent, c.last_sent FROM cases c
                WHERE c.id IN (SELECT DISTINCT case_id FROM messages WHERE sent >= ? AND sent < ?) ORDER BY c.last_sent DESC
                """, arguments: [f, t])
            var lines: [Digest.CaseLine] = []
            var openActions: [Digest.OpenAction] = []
            for r in active {
                let id: Int64 = r["id"]
                let addresses = try String.fetchAll(db, sql: "SELECT DISTINCT from_address FROM messages WHERE case_id = ? AND from_address IS NOT NULL ORDER BY position", arguments: [id])
                var orgs: [String] = []
                for a in addresses { if let d = a.split(separator: "@").last.map(String.init), !orgs.contains(d) { orgs.append(d) } }
                let recs = try Row.fetchAll(db, sql: "SELECT action, target, text, position FROM recommendations WHERE case_id = ? ORDER BY position, id", arguments: [id])
                let latest = recs.last
                let texts = try String.fetchAll(db, sql: "SELECT new_text FROM messages WHERE case_id = ?", arguments: [id]).map { $0.lowercased() }
                let stated = texts.contains { t in cues.contains { t.contains($0) } }
                let lastPosition = try Int.fetchOne(db, sql: "SELECT max(position) FROM messages WHERE case_id = ?", arguments: [id]) ?? 0
                let first: Int64? = r["first_sent"], last: Int64? = r["last_sent"]
                let days = first.map { Int(((last ?? t) - $0) / 86_400_000) } ?? 0
                lines.append(Digest.CaseLine(
                    case: r["key"], subject: r["subject"], organisations: orgs,
                    bugchecks: try String.fetchAll(db, sql: KnowledgeBase.crashCodesSQL, arguments: [id]),
                    culprits: try String.fetchAll(db, sql: "SELECT module FROM culprits WHERE case_id = ? ORDER BY rank", arguments: [id]),
                    latestRecommendation: latest.map { ($0["text"] as String).replacingOccurrences(of: "\n", with: " ") },
                    latestAction: latest?["action"], rootCauseStated: stated, daysOpen: days,
                    linkedCases: try String.fetchAll(db, sql: "SELECT c.key FROM case_links l JOIN cases c ON c.id = l.linked_case_id WHERE l.case_id = ? ORDER BY l.score DESC", arguments: [id])))
                // advice given in the window with no later message in the case
                for rec in recs {
                    let pos: Int = rec["position"]
                    guard pos == lastPosition,
                          let sent = try Int64.fetchOne(db, sql: "SELECT sent FROM messages WHERE case_id = ? AND position = ?", arguments: [id, pos]), sent >= f, sent < t else { continue }
                    openActions.append(Digest.OpenAction(case: r["key"], action: rec["action"], target: rec["target"], text: (rec["text"] as String).replacingOccurrences(of: "\n", with: " "), message: pos))
                }
            }
            // recurring signatures
            var recurring: [Digest.Recurring] = []
            for s in sigs.sorted() {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT c.id, c.first_sent, c.last_sent FROM signature_terms st JOIN cases c ON c.id = st.case_id WHERE st.kind = 'core' AND st.term = ?
                    """, arguments: [s])
                let inWindow = try Int.fetchOne(db, sql: """
                    SELECT count(DISTINCT st.case_id) FROM signature_terms st WHERE st.kind = 'core' AND st.term = ?
                    AND st.case_id IN (SELECT DISTINCT case_id FROM messages WHERE sent >= ? AND sent < ?)
                    """, arguments: [s, f, t]) ?? 0
                let firsts = rows.compactMap { $0["first_sent"] as Int64? }, lasts = rows.compactMap { $0["last_sent"] as Int64? }
                let culprit = try String.fetchOne(db, sql: """
                    SELECT cu.module FROM culprits cu JOIN signature_terms st ON st.case_id = cu.case_id
                    WHERE st.kind = 'core' AND st.term = ? AND cu.rank = 1 GROUP BY cu.name_key ORDER BY count(*) DESC LIMIT 1
                    """, arguments: [s])
                recurring.append(Digest.Recurring(signature: s.replacingOccurrences(of: "|", with: " ← "), culprit: culprit, cases: inWindow,
                                                  firstSeen: KnowledgeBase.date(firsts.min()).map(MailDate.iso) ?? "",
                                                  lastSeen: KnowledgeBase.date(lasts.max()).map(MailDate.iso) ?? "",
                                                  trend: weekly.map { $0[s] ?? 0 }, isNew: (firsts.min() ?? 0) >= f))
            }
            recurring.sort { $0.cases != $1.cases ? $0.cases > $1.cases : $0.signature < $1.signature }
            let ids = active.map { $0["id"] as Int64 }
            let idList = ids.isEmpty ? "NULL" : ids.map(String.init).joined(separator: ",")
            let culprits = try Row.fetchAll(db, sql: "SELECT max(module) AS m, count(DISTINCT case_id) AS n, avg(rank) AS r FROM culprits WHERE case_id IN (\(idList)) GROUP BY name_key ORDER BY n DESC, r, m LIMIT 10")
                .map { Digest.Count(name: $0["m"], label: nil, cases: $0["n"]) }
            let bugchecks = try Row.fetchAll(db, sql: "SELECT code, max(name) AS name, count(DISTINCT case_id) AS n FROM bugchecks WHERE role = 'crash' AND case_id IN (\(idList)) GROUP BY code ORDER BY n DESC, code")
                .map { Digest.Count(name: $0["code"], label: $0["name"], cases: $0["n"]) }
            return Digest(window: .init(label: label, from: MailDate.iso(from), to: MailDate.iso(to)), headline: head, previousWeeks: previous,
                          cases: lines, recurring: recurring, topCulprits: culprits, bugchecks: bugchecks, openActions: openActions)
        }
    }
}
