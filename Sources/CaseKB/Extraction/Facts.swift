import Foundation

/// Where a fact came from: the message (1-based index in its case), the text field, and the span in Unicode scalars.
public struct TextSpan: Sendable, Codable, Hashable {
    public var message: Int
    /// `new_text`, or `attachment:<file name>` for a text attachment.
    public var field: String
    public var start: Int
    public var end: Int
}

/// A bugcheck written in a message, as a crash of this case or as a passing mention.
public struct BugcheckFact: Sendable, Codable, Hashable {
    public enum Role: String, Sendable, Codable { case crash, mention }
    public var code: UInt32
    public var name: String?
    /// Arguments as `0x…` strings (as many as were written).
    public var args: [String]
    public var role: Role
    public var writtenAs: String
    public var source: TextSpan

    /// `0x000000D1`.
    public var codeString: String { BugcheckTable.format(code) }
}

/// One frame of a call stack.
public struct StackFrame: Sendable, Codable, Hashable {
    public var module: String?
    public var function: String?
    public var offset: UInt64?
    /// A bare code address (`0x3200360035`), for frames with no module.
    public var address: String?
    public var isInline: Bool

    /// `module!function+0xoff`, `module+0xoff`, `module` or `0xaddress`.
    public var text: String {
        if let address { return address }
        var s = module ?? "?"
        if let function { s += "!" + function }
        if let offset, offset != 0 || function == nil { s += "+0x" + String(offset, radix: 16) }
        return s
    }

    /// The frame without its offset: `module!function`, `module`, or the address.
    public var symbol: String {
        if let address { return address }
        if let function { return (module ?? "?") + "!" + function }
        return module ?? "?"
    }
}

/// A call stack pasted in a message.
public struct StackFact: Sendable, Codable, Hashable {
    public var frames: [StackFrame]
    /// `kc`, `k`, `kv`, `STACK_TEXT`, `!mex.t`, `list`.
    public var command: String
    public var source: TextSpan
}

/// A pool block line of `!pool`.
public struct PoolBlock: Sendable, Codable, Hashable {
    public var address: String
    public var size: String
    public var allocated: Bool
    public var tag: String
    /// The block that holds the address `!pool` was asked about.
    public var starred: Bool
}

/// A pool tag seen in a message, with its owner when the text names one.
public struct PoolTagFact: Sendable, Codable, Hashable {
    public var tag: String
    public var owner: String?
    /// The tag of the block under investigation (the starred block, or a tag looked up with `!tag`/`!poolfind`).
    public var suspect: Bool
    public var blocks: [PoolBlock]
    public var source: TextSpan
}

/// A module (driver or image) named in a message.
public struct ModuleFact: Sendable, Codable, Hashable {
    public enum Origin: String, Sendable, Codable { case lmvm, analyze, stack, prose, ndisFilter = "ndis_filter" }
    public var name: String
    public var image: String?
    public var path: String?
    public var timestamp: String?
    public var checksum: String?
    public var imageSize: String?
    public var fileVersion: String?
    public var productVersion: String?
    public var company: String?
    public var origin: Origin
    public var source: TextSpan
}

/// A piece of advice, typed by action.
public struct RecommendationFact: Sendable, Codable, Hashable {
    public var action: String
    public var target: String?
    public var text: String
    public var source: TextSpan
}

/// Other entities: KB numbers, error codes, OS versions, machine models, `!analyze` fields.
public struct EntityFact: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable { case kb, errorCode = "error_code", osVersion = "os_version", machineModel = "machine_model", analyzeField = "analyze_field", ndisFilter = "ndis_filter" }
    public var kind: Kind
    public var value: String
    /// For `analyze_field`: the field name (IMAGE_NAME, FAILURE_BUCKET_ID, …).
    public var key: String?
    public var source: TextSpan
}

/// Everything extracted from one text of one message.
public struct MessageFacts: Sendable, Codable, Hashable {
    public var bugchecks: [BugcheckFact] = []
    public var stacks: [StackFact] = []
    public var poolTags: [PoolTagFact] = []
    public var modules: [ModuleFact] = []
    public var recommendations: [RecommendationFact] = []
    public var entities: [EntityFact] = []
    /// Drivers named in prose together with blame words (由…引发, caused by, 维护的).
    public var blamedInProse: [String] = []

    public init() {}

    mutating func append(_ o: MessageFacts) {
        bugchecks += o.bugchecks; stacks += o.stacks; poolTags += o.poolTags; modules += o.modules
        recommendations += o.recommendations; entities += o.entities; blamedInProse += o.blamedInProse
    }
}

extension MessageFacts {
    /// The same facts with every span pointing at message `n` (positions change as a case grows).
    public func renumbered(_ n: Int) -> MessageFacts {
        var f = self
        for k in f.bugchecks.indices { f.bugchecks[k].source.message = n }
        for k in f.stacks.indices { f.stacks[k].source.message = n }
        for k in f.poolTags.indices { f.poolTags[k].source.message = n }
        for k in f.modules.indices { f.modules[k].source.message = n }
        for k in f.recommendations.indices { f.recommendations[k].source.message = n }
        for k in f.entities.indices { f.entities[k].source.message = n }
        return f
    }
}
