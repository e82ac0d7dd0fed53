import Foundation

/// A support case: the messages of one thread (or several threads sharing a case number), in time order.
public struct CaseThread: Sendable {
    /// The case key: a case number (`CAS-02698-C5V4N5`), else the thread's root Message-ID, else a subject key.
    public var key: String
    /// Every case number found in the thread, by pattern priority.
    public var caseIDs: [String]
    /// The subject of the first message, as written.
    public var subject: String
    /// The subject without reply/forward prefixes.
    public var normalizedSubject: String
    public var messages: [Message]

    /// Participants in order of first appearance.
    public var participants: [String] {
        var seen: [String] = []
        for m in messages where !seen.contains(m.from.display) { seen.append(m.from.display) }
        return seen
    }
}

/// Strips reply/forward prefixes (`RE:`, `答复:`, `回复：`, stacked and repeated) and list tags from subjects.
public struct SubjectNormalizer: Sendable {
    let prefixes: [String]

    public static let shared: SubjectNormalizer = {
        SubjectNormalizer(prefixes: ((try? DataFile.entries("subject-prefixes.txt")) ?? []).map { $0.value.lowercased() })
    }()

    /// The subject without prefixes and with case-number tags kept out of the way: `RE: [REG:1] CAS-… - 蓝屏` → `蓝屏`
    /// when `dropCaseIDs` is set, else `[REG:1] CAS-… - 蓝屏`.
    public func normalize(_ subject: String, dropCaseIDs: [String] = []) -> String {
        var s = subject.replacingOccurrences(of: "\u{00A0}", with: " ").trimmingCharacters(in: .whitespaces)
        var changed = true
        while changed {
            changed = false
            // list or system tags: [External], [外部邮件], [f2fs-dev]
            if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
                s = String(s[s.index(after: close)...]).trimmingCharacters(in: .whitespaces)
                changed = true
                continue
            }
            let lower = s.lowercased()
            for p in prefixes where lower.hasPrefix(p) {
                let rest = s.dropFirst(p.count).drop(while: { $0 == " " })
                if rest.first == ":" || rest.first == "：" {
                    s = rest.dropFirst().trimmingCharacters(in: .whitespaces)
                    changed = true
                    break
                }
            }
        }
        for id in dropCaseIDs { s = s.replacingOccurrences(of: id, with: " ") }
        if !dropCaseIDs.isEmpty {
            s = s.replacingOccurrences(of: "[ ]", with: " ").replacingOccurrences(of: "[]", with: " ")
            s = s.trimmingCharacters(in: CharacterSet(charactersIn: " -–—:：[]"))
        }
        return s.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Whether the subject carried a reply/forward prefix.
    public func isReply(_ subject: String) -> Bool {
        normalize(subject) != subject.trimmingCharacters(in: .whitespaces)
    }
}

/// Case numbers from the patterns in `case-number-patterns.txt`.
public struct CaseNumberFinder: @unchecked Sendable {
    let patterns: [NSRegularExpression]

    public static let shared: CaseNumberFinder = {
        do { return CaseNumberFinder(patterns: try DataFile.regexes("case-number-patterns.txt", options: [])) }
        catch { fatalError("casekb resources are broken: \(error)") }
    }()

    /// Every case number in `text`, ordered by pattern priority, then position.
    public func find(in text: String) -> [String] {
        var out: [String] = []
        for p in patterns {
            for m in p.allMatchTexts(in: text) where !out.contains(m) { out.append(m) }
        }
        return out
    }
}

/// Groups messages into cases: by case number, then by Message-ID links (JWZ-style, with missing parents) and
/// Outlook conversation ids, then by normalized subject for replies. Duplicate deliveries become one message.
public enum CaseGrouper {
    public static func group(_ input: [Message]) -> [CaseThread] {
        // 1. drop duplicates: same Message-ID, or same sender + time + text
        var seenIDs = Set<String>()
        var seenTriples = Set<String>()
        var messages: [Message] = []
        for m in input {
            if let id = m.messageID {
                if seenIDs.contains(id) { continue }
                seenIDs.insert(id)
            }
            let triple = "\(m.from.address ?? m.from.name ?? "")|\(m.sent.map { String($0.timeIntervalSince1970) } ?? "")|\(m.newText.hashValue)|\(m.body.count)"
            if m.sent != nil || m.messageID == nil {
                if seenTriples.contains(triple) { continue }
                seenTriples.insert(triple)
            }
            messages.append(m)
        }
        // 2. union-find over messages and the keys they carry
        var parent = Array(0..<messages.count)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        func union(_ a: Int, _ b: Int) { let ra = find(a), rb = find(b); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        var owner: [String: Int] = [:]
        func link(_ i: Int, _ key: String) { if let o = owner[key] { union(i, o) } else { owner[key] = i } }
        let finder = CaseNumberFinder.shared
        let normalizer = SubjectNormalizer.shared
        var caseIDs: [[String]] = []
        for (i, m) in messages.enumerated() {
            var ids = finder.find(in: m.subject)
            if ids.isEmpty { ids = finder.find(in: m.newText) }
            caseIDs.append(ids)
            for id in ids { link(i, "case:" + id) }
            if let id = m.messageID { link(i, "mid:" + id) }
            if let p = m.inReplyTo { link(i, "mid:" + p) }
            for r in m.references { link(i, "mid:" + r) }
            if let c = m.conversationID { link(i, "conv:" + c) }
            if let f = m.forwardedIn { link(i, "mid:" + f) }
        }
        // subject fallback (JWZ step 4, cautiously): a reply with no Message-ID links joins the earliest root with its
        // subject; two roots with the same subject never merge. Mail with no Message-ID at all groups by subject.
        var subjectRoot: [String: Int] = [:]
        for (i, m) in messages.enumerated() where caseIDs[i].isEmpty && m.inReplyTo == nil && m.references.isEmpty && !normalizer.isReply(m.subject) {
            let ns = normalizer.normalize(m.subject).lowercased()
            if !ns.isEmpty, subjectRoot[ns] == nil { subjectRoot[ns] = i }
        }
        for (i, m) in messages.enumerated() where caseIDs[i].isEmpty && m.inReplyTo == nil && m.references.isEmpty {
            let ns = normalizer.normalize(m.subject).lowercased()
            guard !ns.isEmpty else { continue }
            if normalizer.isReply(m.subject) || m.messageID == nil {
                if let root = subjectRoot[ns], root != i { union(i, root) } else { link(i, "subj:" + ns) }
            }
        }
        // 3. collect groups
        var groups: [Int: [Int]] = [:]
        for i in messages.indices { groups[find(i), default: []].append(i) }
        var cases: [CaseThread] = []
        for (_, members) in groups {
            let sorted = members.sorted { a, b in
                let ma = messages[a], mb = messages[b]
                switch (ma.sent, mb.sent) {
                case let (x?, y?) where x != y: return x < y
                case (nil, _?): return false
                case (_?, nil): return true
                default:
                    if ma.source.file != mb.source.file { return ma.source.file < mb.source.file }
                    return ma.source.index < mb.source.index
                }
            }
            var ids: [String] = []
            // order ids by pattern priority across the thread
            let allIDs = sorted.flatMap { caseIDs[$0] }
            for p in finder.patterns {
                for id in allIDs where !ids.contains(id) && p.matches(id) { ids.append(id) }
            }
            let first = messages[sorted[0]]
            let key: String
            if let id = ids.first { key = id }
            else if let root = sorted.lazy.compactMap({ messages[$0].references.first }).first ?? sorted.lazy.compactMap({ messages[$0].messageID }).first {
                key = root
            } else {
                key = "SUBJ-" + stableHash(normalizer.normalize(first.subject).lowercased() + "|" + first.source.file)
            }
            cases.append(CaseThread(key: key, caseIDs: ids, subject: first.subject,
                                    normalizedSubject: normalizer.normalize(first.subject, dropCaseIDs: ids),
                                    messages: sorted.map { messages[$0] }))
        }
        return cases.sorted { a, b in
            (a.messages.first?.sent ?? .distantFuture, a.key) < (b.messages.first?.sent ?? .distantFuture, b.key)
        }
    }

    /// FNV-1a, printed as 8 hex digits: stable across runs (Swift's hashValue is seeded per process).
    public static func stableHash(_ s: String) -> String {
        var h: UInt32 = 2166136261
        for b in s.utf8 { h ^= UInt32(b); h = h &* 16777619 }
        return String(format: "%08x", h)
    }
}

private func < (a: (Date, String), b: (Date, String)) -> Bool { a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
