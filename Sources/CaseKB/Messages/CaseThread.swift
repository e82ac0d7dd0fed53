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
        // (replacements at byte level: Foundation's replacingOccurrences is slow on Linux)
        var s = ByteText.replacingAll("\u{00A0}", with: " ", in: subject).trimmingSpaces()
        var changed = true
        while changed {
            changed = false
            // list or system tags: [External], [外部邮件], [f2fs-dev]
            if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
                s = String(s[s.index(after: close)...]).trimmingSpaces()
                changed = true
                continue
            }
            let lower = s.lowercased()
            for p in prefixes where lower.hasPrefix(p) {
                let rest = s.dropFirst(p.count).drop(while: { $0 == " " })
                if rest.first == ":" || rest.first == "：" {
                    s = rest.dropFirst().trimmingSpaces()
                    changed = true
                    break
                }
            }
        }
        for id in dropCaseIDs { s = ByteText.replacingAll(id, with: " ", in: s) }
        if !dropCaseIDs.isEmpty {
            if s.utf8.contains(0x5B) { s = ByteText.replacingAll("[]", with: " ", in: ByteText.replacingAll("[ ]", with: " ", in: s)) }
            let edges: Set<Character> = [" ", "-", "–", "—", ":", "：", "[", "]"]
            s = String(s.drop(while: { edges.contains($0) }))
            while let last = s.last, edges.contains(last) { s.removeLast() }
        }
        return s.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// Whether the subject carried a reply/forward prefix.
    public func isReply(_ subject: String) -> Bool {
        normalize(subject) != subject.trimmingSpaces()
    }
}

/// Case numbers from the patterns in `case-number-patterns.txt`.
public struct CaseNumberFinder: @unchecked Sendable {
    let patterns: [ScalarRegex]
    /// Per pattern: the literal sets it needs (`CAS-`, `REG:`), tested on the bytes before the pattern runs.
    let gates: [[[[UInt8]]]]

    init(patterns: [ScalarRegex]) {
        self.patterns = patterns
        gates = patterns.map { RegexLiterals.required($0.pattern).map { set in set.map { Array($0.utf8) } } }
    }

    public static let shared: CaseNumberFinder = {
        do { return CaseNumberFinder(patterns: try DataFile.regexes("case-number-patterns.txt", caseInsensitive: false)) }
        catch { fatalError("casekb resources are broken: \(error)") }
    }()

    /// Case numbers ordered by pattern priority (`CAS-…` before `REG:…`), each once.
    public func ordered(_ ids: [String]) -> [String] {
        var out: [String] = []
        for p in patterns { for id in ids where !out.contains(id) && p.matches(id) { out.append(id) } }
        return out
    }

    /// Every case number in `text`, ordered by pattern priority, then position.
    public func find(in text: String) -> [String] {
        var out: [String] = []
        let u = Substring(text).utf8
        for (k, p) in patterns.enumerated() {
            guard gates[k].allSatisfy({ set in set.contains { ByteText.contains(u, $0) } }) else { continue }
            for m in p.allMatchTexts(in: text) where !out.contains(m) { out.append(m) }
        }
        return out
    }
}

/// The keys that thread a message into a case, shared by in-memory grouping and the knowledge base's incremental ingest.
public struct ThreadKeys: Sendable {
    /// Case numbers (subject first, else new text), in pattern priority.
    public var caseIDs: [String]
    /// Keys the message joins a case by (`case:`, `mid:`, `conv:`, `subj:`, `subjroot:`).
    public var linking: [String]
    /// Keys the message holds without following them (`subjroot:` of a thread root).
    public var owned: [String]

    public init(_ m: Message) {
        let finder = CaseNumberFinder.shared
        let normalizer = SubjectNormalizer.shared
        var ids = finder.find(in: m.subject)
        if ids.isEmpty { ids = finder.find(in: m.newText) }
        caseIDs = ids
        var linking = ids.map { "case:" + $0 }
        var owned: [String] = []
        if let id = m.messageID { linking.append("mid:" + id) }
        if let p = m.inReplyTo { linking.append("mid:" + p) }
        for r in m.references { linking.append("mid:" + r) }
        if let c = m.conversationID { linking.append("conv:" + c) }
        if let f = m.forwardedIn { linking.append("mid:" + f) }
        // subject fallback (JWZ step 4, cautiously): a reply with no Message-ID links joins the earliest root with
        // its subject; two roots with the same subject never merge; mail with no Message-ID at all groups by subject
        if ids.isEmpty, m.inReplyTo == nil, m.references.isEmpty {
            let ns = normalizer.normalize(m.subject).lowercased()
            if !ns.isEmpty {
                let reply = normalizer.isReply(m.subject)
                if !reply && m.messageID != nil { owned.append("subjroot:" + ns) }
                if reply || m.messageID == nil {
                    linking.append("subjroot:" + ns)
                    linking.append("subj:" + ns)
                }
                if !reply && m.messageID == nil { owned.append("subjroot:" + ns) }
            }
        }
        // each key once (In-Reply-To is usually the last of References too): a repeat adds nothing but a stored row
        if linking.count <= 32 {
            // a few keys: comparing them costs less than hashing each into a set
            var unique: [String] = []
            unique.reserveCapacity(linking.count)
            for key in linking where !unique.contains(key) { unique.append(key) }
            self.linking = unique
        } else {
            var seen = Set<String>()
            self.linking = linking.filter { seen.insert($0).inserted }
        }
        self.owned = owned
    }

    /// The key that spots the same message delivered twice: its Message-ID, else sender + time + text.
    public static func dedupKey(_ m: Message) -> String {
        if let id = m.messageID { return "mid:" + id }
        let who = m.from.address ?? m.from.name ?? ""
        let when = m.sent.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? ""
        var h = SHA256()
        h.update(Array(m.body.utf8))
        return "txt:" + who + "|" + when + "|" + h.finalizeHex().prefix(32)
    }
}

/// Groups messages into cases: by case number, then by Message-ID links (JWZ-style, with missing parents) and
/// Outlook conversation ids, then by normalized subject for replies. Duplicate deliveries become one message.
public enum CaseGrouper {
    public static func group(_ input: [Message]) -> [CaseThread] {
        // 1. drop duplicates: same Message-ID, or same sender + time + text
        var seen = Set<String>()
        var messages: [Message] = []
        for m in input where seen.insert(ThreadKeys.dedupKey(m)).inserted { messages.append(m) }
        // 2. union-find over messages and the keys they carry
        var parent = Array(0..<messages.count)
        func find(_ x: Int) -> Int { var x = x; while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }; return x }
        func union(_ a: Int, _ b: Int) { let ra = find(a), rb = find(b); if ra != rb { parent[max(ra, rb)] = min(ra, rb) } }
        let keys = messages.map(ThreadKeys.init)
        // a subjroot: key belongs to the earliest root holding it
        var rootOf: [String: Int] = [:]
        let order = messages.indices.sorted { (messages[$0].sent ?? .distantFuture) < (messages[$1].sent ?? .distantFuture) }
        for i in order { for k in keys[i].owned where rootOf[k] == nil { rootOf[k] = i } }
        var owner: [String: Int] = [:]
        for i in messages.indices {
            for k in keys[i].linking {
                if k.hasPrefix("subjroot:") { if let r = rootOf[k], r != i { union(i, r) }; continue }
                if let o = owner[k] { union(i, o) } else { owner[k] = i }
            }
        }
        // 3. collect groups
        var groups: [Int: [Int]] = [:]
        for i in messages.indices { groups[find(i), default: []].append(i) }
        return groups.values.map { members in
            makeCase(members.map { messages[$0] }, caseIDs: members.flatMap { keys[$0].caseIDs })
        }.sorted { a, b in
            (a.messages.first?.sent ?? .distantFuture, a.key) < (b.messages.first?.sent ?? .distantFuture, b.key)
        }
    }

    /// Messages in time order (then source order), with the case key: the first case number by pattern priority,
    /// else the thread's root Message-ID, else a hash of the subject.
    public static func makeCase(_ members: [Message], caseIDs allIDs: [String]) -> CaseThread {
        let finder = CaseNumberFinder.shared
        let normalizer = SubjectNormalizer.shared
        let sorted = members.sorted { ma, mb in
            switch (ma.sent, mb.sent) {
            case let (x?, y?) where x != y: return x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default:
                if ma.source.file != mb.source.file { return ma.source.file < mb.source.file }
                return ma.source.index < mb.source.index
            }
        }
        let ids = finder.ordered(allIDs)
        let first = sorted[0]
        let key = caseKey(caseIDs: ids, rootIDs: sorted.map { $0.references.first ?? $0.messageID }, subject: first.subject, file: first.source.file)
        return CaseThread(key: key, caseIDs: ids, subject: first.subject,
                          normalizedSubject: normalizer.normalize(first.subject, dropCaseIDs: ids), messages: sorted)
    }

    /// The key of a case: its first case number, else the root Message-ID of its earliest message that names one
    /// (`rootIDs`: per message in time order, the first References entry, else its own Message-ID), else a hash of
    /// the first subject and file.
    public static func caseKey(caseIDs: [String], rootIDs: [String?], subject: String, file: String) -> String {
        if let id = caseIDs.first { return id }
        if let root = rootIDs.lazy.compactMap({ $0 }).first { return root }
        return "SUBJ-" + stableHash(SubjectNormalizer.shared.normalize(subject).lowercased() + "|" + file)
    }

    /// FNV-1a, printed as 8 hex digits: stable across runs (Swift's hashValue is seeded per process).
    public static func stableHash(_ s: String) -> String {
        var h: UInt32 = 2166136261
        for b in s.utf8 { h ^= UInt32(b); h = h &* 16777619 }
        return String(format: "%08x", h)
    }
}

private func < (a: (Date, String), b: (Date, String)) -> Bool { a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
