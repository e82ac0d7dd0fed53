import Foundation

/// Runs every extractor over one text.
public struct MessageExtractor: Sendable {
    public init() {}

    public func extract(text: String, message: Int, field: String) -> MessageFacts {
        let lines = TextLines(text, message: message, field: field)
        var f = MessageFacts()
        f.bugchecks = BugcheckExtractor().extract(lines)
        f.stacks = StackExtractor().extract(lines)
        f.poolTags = PoolExtractor().extract(lines)
        let m = ModuleExtractor().extract(lines)
        f.modules = m.modules
        f.entities = m.entities + EntityExtractor().extract(lines)
        f.blamedInProse = m.blamed
        f.recommendations = RecommendationExtractor.shared.extract(lines)
        return f
    }

    /// Facts from a message's new text and its text attachments.
    public func extract(_ m: Message, index: Int) -> MessageFacts {
        var f = extract(text: m.newText, message: index, field: "new_text")
        for a in m.attachments {
            if let text = a.text { f.append(extract(text: text, message: index, field: "attachment:" + (a.filename ?? "attachment"))) }
        }
        return f
    }
}

/// Frame roles from `Resources/stack-frames.txt` (used for culprits here and for signatures later).
public struct FrameRules: @unchecked Sendable {
    public enum Role: String, Sendable { case irrelevant, prefix, threadBase = "thread-base" }
    let rules: [(Role, ScalarRegex)]
    /// Patterns without wildcards, looked up directly.
    let exact: [String: Role]
    let microsoft: Set<String>
    let cache = RoleCache()

    final class RoleCache: @unchecked Sendable {
        private var map: [String: Role?] = [:]
        private let lock = NSLock()
        func get(_ k: String) -> Role?? { lock.lock(); defer { lock.unlock() }; return map[k] }
        func set(_ k: String, _ v: Role?) { lock.lock(); map[k] = v; if map.count > 100_000 { map.removeAll() }; lock.unlock() }
    }

    public static let shared: FrameRules = {
        do { return try FrameRules() } catch { fatalError("casekb resources are broken: \(error)") }
    }()

    init() throws {
        rules = try DataFile.entries("stack-frames.txt").map { e in
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let role = Role(rawValue: parts[0]) else { throw DataFile.LoadError.badEntry(file: "stack-frames.txt", line: e.line, reason: "expected 'role pattern'") }
            let pattern = "^" + NSRegularExpression.escapedPattern(for: parts[1]).replacingOccurrences(of: "\\*", with: ".*") + "$"
            return (role, try ScalarRegex(pattern, caseInsensitive: true))
        }
        microsoft = Set(try DataFile.entries("microsoft-modules.txt").map { $0.value.lowercased() })
        var exact: [String: Role] = [:]
        for e in try DataFile.entries("stack-frames.txt") {
            let parts = e.value.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2, !parts[1].contains("*"), let role = Role(rawValue: parts[0]), exact[parts[1].lowercased()] == nil { exact[parts[1].lowercased()] = role }
        }
        self.exact = exact
    }

    /// `ntoskrnl`/`ntkrnlmp`/`ntkrnlpa` → `nt`, lower case.
    public static func canonicalModule(_ m: String) -> String {
        let l = m.lowercased()
        switch l {
        case "ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "ntoskrnl.exe": return "nt"
        default: return l.hasSuffix(".sys") ? String(l.dropLast(4)) : l
        }
    }

    public func role(_ frame: StackFrame) -> Role? {
        guard let module = frame.module else { return nil }
        let sym = FrameRules.canonicalModule(module) + (frame.function.map { "!" + $0 } ?? "")
        if let cached = cache.get(sym) { return cached }
        var found: Role? = exact[sym.lowercased()]
        if found == nil { for (role, re) in rules where re.matches(sym) { found = role; break } }
        cache.set(sym, found)
        return found
    }

    public func isMicrosoft(_ module: String) -> Bool { microsoft.contains(FrameRules.canonicalModule(module)) }
}

/// Everything a case's thread says about its crashes: the contract of `casekb parse --json` and `casekb show --json`.
public struct CaseKnowledge: Sendable, Codable {
    public struct Bugcheck: Sendable, Codable {
        public var code: String
        public var name: String?
        public var args: [String]
        public var argMeanings: [String?]
        public var writtenAs: String
        public var messages: [Int]
        public var source: TextSpan
        enum CodingKeys: String, CodingKey { case code, name, args, messages, source; case argMeanings = "arg_meanings"; case writtenAs = "written_as" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(code, forKey: .code); try c.encode(name, forKey: .name); try c.encode(args, forKey: .args)
            try c.encode(argMeanings, forKey: .argMeanings); try c.encode(writtenAs, forKey: .writtenAs)
            try c.encode(messages, forKey: .messages); try c.encode(source, forKey: .source)
        }
    }
    public struct Stack: Sendable, Codable {
        public var frames: [String]
        public var inlineFrames: [Int]
        public var command: String
        public var messages: [Int]
        public var source: TextSpan
        public var sources: [TextSpan]
        enum CodingKeys: String, CodingKey { case frames, command, messages, source, sources; case inlineFrames = "inline_frames" }
    }
    public struct PoolTag: Sendable, Codable {
        public var tag: String
        public var owner: String?
        public var suspect: Bool
        public var blocks: [PoolBlock]
        public var messages: [Int]
        public var source: TextSpan
        enum CodingKeys: String, CodingKey { case tag, owner, suspect, blocks, messages, source }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tag, forKey: .tag); try c.encode(owner, forKey: .owner); try c.encode(suspect, forKey: .suspect)
            try c.encode(blocks, forKey: .blocks); try c.encode(messages, forKey: .messages); try c.encode(source, forKey: .source)
        }
    }
    public struct Module: Sendable, Codable {
        public var name: String
        public var image: String?
        public var path: String?
        public var timestamp: String?
        public var checksum: String?
        public var imageSize: String?
        public var fileVersion: String?
        public var origins: [String]
        public var thirdParty: Bool
        public var messages: [Int]
        public var source: TextSpan
        enum CodingKeys: String, CodingKey { case name, image, path, timestamp, checksum, origins, messages, source; case imageSize = "image_size"; case fileVersion = "file_version"; case thirdParty = "third_party" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name); try c.encode(image, forKey: .image); try c.encode(path, forKey: .path)
            try c.encode(timestamp, forKey: .timestamp); try c.encode(checksum, forKey: .checksum); try c.encode(imageSize, forKey: .imageSize)
            try c.encode(fileVersion, forKey: .fileVersion); try c.encode(origins, forKey: .origins); try c.encode(thirdParty, forKey: .thirdParty)
            try c.encode(messages, forKey: .messages); try c.encode(source, forKey: .source)
        }
    }
    public struct Culprit: Sendable, Codable {
        public var module: String
        public var score: Double
        public var evidence: [String]
    }
    public struct Recommendation: Sendable, Codable {
        public var action: String
        public var target: String?
        public var text: String
        public var message: Int
        public var source: TextSpan
        enum CodingKeys: String, CodingKey { case action, target, text, message, source }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(action, forKey: .action); try c.encode(target, forKey: .target); try c.encode(text, forKey: .text)
            try c.encode(message, forKey: .message); try c.encode(source, forKey: .source)
        }
    }
    public struct Entities: Sendable, Codable {
        public var kb: [String] = []
        public var errorCodes: [String] = []
        public var osVersions: [String] = []
        public var machineModels: [String] = []
        public var ndisFilters: [String] = []
        public var analyzeFields: [String: [String]] = [:]
        public var sources: [String: TextSpan] = [:]
        enum CodingKeys: String, CodingKey { case kb, sources; case errorCodes = "error_codes"; case osVersions = "os_versions"; case machineModels = "machine_models"; case ndisFilters = "ndis_filters"; case analyzeFields = "analyze_fields" }
    }

    public var bugchecks: [Bugcheck] = []
    public var bugcheckMentions: [Bugcheck] = []
    public var stacks: [Stack] = []
    public var poolTags: [PoolTag] = []
    public var modules: [Module] = []
    /// Ranked module names the case blames.
    public var culprits: [String] = []
    public var culpritDetails: [Culprit] = []
    public var recommendations: [Recommendation] = []
    public var entities = Entities()

    enum CodingKeys: String, CodingKey {
        case bugchecks, stacks, modules, culprits, recommendations, entities
        case bugcheckMentions = "bugcheck_mentions", poolTags = "pool_tags", culpritDetails = "culprit_details"
    }

    public init() {}

    /// Extract and merge the facts of every message of a case. Repeated pastes (the same stack, the same dump's
    /// bugcheck) are stored once with every message they appear in.
    public static func build(_ c: CaseThread) -> CaseKnowledge {
        let extractor = MessageExtractor()
        var perMessage = c.messages.enumerated().map { extractor.extract($1, index: $0 + 1) }
        // the subject names OS versions, models and codes too ("升级1809后从网盘拷文件蓝屏")
        if !perMessage.isEmpty {
            let subjectFacts = extractor.extract(text: c.subject, message: 1, field: "subject")
            perMessage[0].entities += subjectFacts.entities
        }
        return build(perMessage)
    }

    public static func build(_ perMessage: [MessageFacts]) -> CaseKnowledge {
        var k = CaseKnowledge()
        let table = BugcheckTable.shared
        let rules = FrameRules.shared
        for f in perMessage {
            for b in f.bugchecks {
                let target = b.role == .crash ? \CaseKnowledge.bugchecks : \CaseKnowledge.bugcheckMentions
                let code = b.codeString
                if let i = k[keyPath: target].firstIndex(where: { $0.code == code && $0.args == b.args }) {
                    if !k[keyPath: target][i].messages.contains(b.source.message) { k[keyPath: target][i].messages.append(b.source.message) }
                } else {
                    let meanings = b.args.enumerated().map { table.meaning(code: b.code, arg: $0 + 1, value: $1) }
                    k[keyPath: target].append(Bugcheck(code: code, name: b.name, args: b.args, argMeanings: meanings, writtenAs: b.writtenAs, messages: [b.source.message], source: b.source))
                }
            }
            for s in f.stacks {
                let frames = s.frames.map { $0.text }   // (a closure: a key path to a computed property is applied through the runtime)
                if let i = k.stacks.firstIndex(where: { $0.frames == frames }) {
                    if !k.stacks[i].messages.contains(s.source.message) { k.stacks[i].messages.append(s.source.message); k.stacks[i].sources.append(s.source) }
                } else {
                    k.stacks.append(Stack(frames: frames, inlineFrames: s.frames.indices.filter { s.frames[$0].isInline }, command: s.command, messages: [s.source.message], source: s.source, sources: [s.source]))
                }
            }
            for p in f.poolTags {
                if let i = k.poolTags.firstIndex(where: { $0.tag == p.tag }) {
                    if k.poolTags[i].owner == nil { k.poolTags[i].owner = p.owner }
                    k.poolTags[i].suspect = k.poolTags[i].suspect || p.suspect
                    for b in p.blocks where !k.poolTags[i].blocks.contains(b) { k.poolTags[i].blocks.append(b) }
                    if !k.poolTags[i].messages.contains(p.source.message) { k.poolTags[i].messages.append(p.source.message) }
                } else {
                    k.poolTags.append(PoolTag(tag: p.tag, owner: p.owner, suspect: p.suspect, blocks: p.blocks, messages: [p.source.message], source: p.source))
                }
            }
            var moduleFacts = f.modules
            for s in f.stacks {
                for fr in s.frames { if let m = fr.module { moduleFacts.append(ModuleFact(name: m, origin: .stack, source: s.source)) } }
            }
            for m in moduleFacts {
                let key = FrameRules.canonicalModule(m.name)
                if let i = k.modules.firstIndex(where: { FrameRules.canonicalModule($0.name) == key }) {
                    var x = k.modules[i]
                    x.image = x.image ?? m.image; x.path = x.path ?? m.path; x.timestamp = x.timestamp ?? m.timestamp
                    x.checksum = x.checksum ?? m.checksum; x.imageSize = x.imageSize ?? m.imageSize; x.fileVersion = x.fileVersion ?? m.fileVersion
                    if !x.origins.contains(m.origin.rawValue) { x.origins.append(m.origin.rawValue) }
                    if !x.messages.contains(m.source.message) { x.messages.append(m.source.message) }
                    if m.origin == .lmvm { x.source = m.source }
                    k.modules[i] = x
                } else {
                    k.modules.append(Module(name: m.name, image: m.image, path: m.path, timestamp: m.timestamp, checksum: m.checksum, imageSize: m.imageSize,
                                            fileVersion: m.fileVersion, origins: [m.origin.rawValue], thirdParty: !rules.isMicrosoft(m.name),
                                            messages: [m.source.message], source: m.source))
                }
            }
            for r in f.recommendations where !k.recommendations.contains(where: { $0.message == r.source.message && $0.action == r.action && $0.target == r.target }) {
                k.recommendations.append(Recommendation(action: r.action, target: r.target, text: r.text, message: r.source.message, source: r.source))
            }
            for e in f.entities {
                func add(_ kp: WritableKeyPath<Entities, [String]>) {
                    if !k.entities[keyPath: kp].contains(e.value) { k.entities[keyPath: kp].append(e.value); k.entities.sources["\(e.kind.rawValue):\(e.value)"] = e.source }
                }
                switch e.kind {
                case .kb: add(\.kb)
                case .errorCode: add(\.errorCodes)
                case .osVersion: add(\.osVersions)
                case .machineModel: add(\.machineModels)
                case .ndisFilter: add(\.ndisFilters)
                case .analyzeField:
                    let key = e.key ?? "FIELD"
                    if !(k.entities.analyzeFields[key]?.contains(e.value) ?? false) { k.entities.analyzeFields[key, default: []].append(e.value) }
                }
            }
        }
        // a code written without arguments ("bugcheck 0x133") joins the entry of the same code that has them
        for target in [\CaseKnowledge.bugchecks, \CaseKnowledge.bugcheckMentions] {
            var merged: [Bugcheck] = []
            for b in k[keyPath: target] where !b.args.isEmpty { merged.append(b) }
            for b in k[keyPath: target] where b.args.isEmpty {
                if let i = merged.firstIndex(where: { $0.code == b.code }) {
                    merged[i].messages = Array(Set(merged[i].messages + b.messages)).sorted()
                } else { merged.append(b) }
            }
            k[keyPath: target] = merged.sorted { ($0.messages.first ?? 0, $0.code) < ($1.messages.first ?? 0, $1.code) }
        }
        k.culpritDetails = rankCulprits(perMessage, k)
        k.culprits = k.culpritDetails.map(\.module)
        return k
    }

    /// Rank the modules the case blames: owners of suspect pool blocks, the first third-party frames of each stack
    /// after the boilerplate, `!analyze`'s IMAGE_NAME, drivers named in advice, and drivers blamed in prose.
    static func rankCulprits(_ perMessage: [MessageFacts], _ k: CaseKnowledge) -> [Culprit] {
        let rules = FrameRules.shared
        var score: [String: Double] = [:]
        var display: [String: String] = [:]
        var evidence: [String: [String]] = [:]
        func add(_ raw: String, _ w: Double, _ why: String) { add(raw, w, why, windows: false) }
        func addWindows(_ raw: String, _ w: Double, _ why: String) { add(raw, w, why, windows: true) }
        func add(_ raw: String, _ w: Double, _ why: String, windows: Bool) {
            var name = raw
            if let bang = name.firstIndex(of: "!") { name = String(name[..<bang]) }
            let key = FrameRules.canonicalModule(name)
            guard !key.isEmpty, windows || !rules.isMicrosoft(key) else { return }
            score[key, default: 0] += w
            if display[key] == nil { display[key] = name.hasSuffix(".sys") || name.hasSuffix(".SYS") ? String(name.dropLast(4)) : name }
            if !(evidence[key]?.contains(why) ?? false) { evidence[key, default: []].append(why) }
        }
        for p in k.poolTags where p.suspect {
            if let owner = p.owner { add(owner, 4 + Double(p.messages.count), "owns suspect pool tag \(p.tag)") }
        }
        // a tag that sits next to the corrupted block (listed in a !pool page that has a starred block) is weaker evidence
        for p in k.poolTags where !p.suspect && p.owner != nil {
            add(p.owner ?? "", 1, "owns pool tag \(p.tag) near the corruption")
        }
        for s in k.stacks {
            // the first third-party frame after the boilerplate; its weight falls with each Windows component
            // (other than the kernel) between it and the top of the stack
            var componentsAbove = Set<String>()
            for frameText in s.frames {
                guard let f = StackExtractor.parseCallSite(frameText[...], inline: false, allowBareModule: true), let module = f.module else { continue }
                if let role = rules.role(f), role == .irrelevant || role == .threadBase { continue }
                let canonical = FrameRules.canonicalModule(module)
                if !rules.isMicrosoft(module) {
                    add(module, 3.0 / Double(1 + componentsAbove.count), "first third-party frame on the stack in message \(s.messages.map(String.init).joined(separator: ", "))")
                    break
                }
                if canonical != "nt" { componentsAbove.insert(canonical) }
            }
        }
        // (the two fields in a fixed order: a dictionary's order changes from run to run, and with it the evidence's)
        for key in ["IMAGE_NAME", "MODULE_NAME"] {
            for v in k.entities.analyzeFields[key] ?? [] { add(v, 2, "!analyze \(key)") }
        }
        for r in k.recommendations {
            if let t = r.target, t.lowercased().hasSuffix(".sys") { add(t, 2, "advice: \(r.action) \(t)") }
        }
        for f in perMessage { for b in f.blamedInProse { add(b, 1, "blamed in message text") } }
        // no third-party suspect at all: !analyze's own blame may name a Windows component (vmswitch fixed by a KB)
        if !score.values.contains(where: { $0 >= 1.5 }) {
            for key in ["IMAGE_NAME", "MODULE_NAME"] {
                for v in k.entities.analyzeFields[key] ?? [] { addWindows(v, 2, "!analyze \(key)") }
            }
        }
        return score.filter { $0.value >= 1.5 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { Culprit(module: display[$0.key] ?? $0.key, score: ($0.value * 100).rounded() / 100, evidence: evidence[$0.key] ?? []) }
    }
}

/// Runs one extractor alone (for the benchmark's per-extractor figures).
public enum TextLinesProbe {
    public struct Lines: @unchecked Sendable { fileprivate let t: TextLines }
    public static func make(_ text: String, _ message: Int) -> Lines { Lines(t: TextLines(text, message: message, field: "new_text")) }
    public static func run(_ name: String, _ text: String, _ lines: Lines) -> Int {
        let t = lines.t
        switch name {
        case "lines": return TextLines(text, message: 0, field: "new_text").count
        case "bugchecks": return BugcheckExtractor().extract(t).count
        case "stacks": return StackExtractor().extract(t).count
        case "pool": return PoolExtractor().extract(t).count
        case "modules": return ModuleExtractor().extract(t).modules.count
        case "entities": return EntityExtractor().extract(t).count
        case "advice": return RecommendationExtractor.shared.extract(t).count
        default: return 0
        }
    }
}
