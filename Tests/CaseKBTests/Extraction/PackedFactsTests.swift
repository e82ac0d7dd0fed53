import Foundation
import Testing
@testable import CaseKB

@Suite("Packed facts")
struct PackedFactsTests {
    /// Every text the extractor meets in the bundled corpus and a generated one, with its facts.
    static func corpusFacts() -> [MessageFacts] {
        let extractor = MessageExtractor()
        var out: [MessageFacts] = []
        for c in ThreadParser.parse(paths: [Fixtures.corpus("threads"), Fixtures.corpus("eval")]).cases {
            for (k, m) in c.messages.enumerated() { out.append(extractor.extract(m, index: k + 1)) }
        }
        for m in CorpusGenerator(seed: 9).messages(threads: 60) {
            let (parsed, _) = MailReader.messages(fromMail: m.bytes, file: "gen", format: .eml, index: 1, byteOffset: 0)
            for p in parsed { out.append(extractor.extract(p, index: 3)) }
        }
        return out
    }

    @Test("the facts of every corpus message unpack to the same values")
    func roundTrip() throws {
        let all = Self.corpusFacts()
        #expect(all.count > 300)
        // the corpus exercises every kind of fact and the optional fields on both sides
        #expect(all.contains { !$0.poolTags.isEmpty && $0.poolTags.contains { !$0.blocks.isEmpty } })
        #expect(all.contains { $0.modules.contains { $0.timestamp != nil && $0.path != nil } })
        #expect(all.contains { $0.stacks.contains { $0.frames.contains { $0.address != nil } && $0.frames.contains(where: \.isInline) } })
        #expect(all.contains { $0.entities.contains { $0.key != nil } && !$0.blamedInProse.isEmpty })
        #expect(all.contains { $0.bugchecks.contains { $0.source.field.hasPrefix("attachment:") } || $0.entities.contains { $0.source.field.hasPrefix("attachment:") } })
        for f in all {
            let packed = PackedFacts(f)
            #expect(packed.unpack() == f)
        }
        // an attachment span, a code above 2^31, a negative offset: the edges of the encoding
        var edge = MessageFacts()
        edge.bugchecks = [BugcheckFact(code: 0xC000_021A, name: nil, args: ["0x1", ""], role: .mention, writtenAs: "STATUS_SYSTEM_PROCESS_TERMINATED 蓝屏",
                                       source: TextSpan(message: 40_000, field: "attachment:日志.txt", start: -1, end: Int.max))]
        edge.stacks = [StackFact(frames: [StackFrame(module: "nt", function: nil, offset: UInt64.max, address: nil, isInline: false)], command: "kc",
                                 source: TextSpan(message: 1, field: "new_text", start: 0, end: 0))]
        #expect(PackedFacts(edge).unpack() == edge)
    }

    @Test("every stored field of every fact type is packed (a field added to a fact type must be added to the packing)")
    func fieldCounts() {
        let span = TextSpan(message: 1, field: "new_text", start: 0, end: 1)
        let counts: [(String, Int, Int)] = [
            ("TextSpan", Mirror(reflecting: span).children.count, 4),
            ("BugcheckFact", Mirror(reflecting: BugcheckFact(code: 1, name: nil, args: [], role: .crash, writtenAs: "", source: span)).children.count, 6),
            ("StackFrame", Mirror(reflecting: StackFrame(module: nil, function: nil, offset: nil, address: nil, isInline: false)).children.count, 5),
            ("StackFact", Mirror(reflecting: StackFact(frames: [], command: "", source: span)).children.count, 3),
            ("PoolBlock", Mirror(reflecting: PoolBlock(address: "", size: "", allocated: true, tag: "", starred: false)).children.count, 5),
            ("PoolTagFact", Mirror(reflecting: PoolTagFact(tag: "", owner: nil, suspect: false, blocks: [], source: span)).children.count, 5),
            ("ModuleFact", Mirror(reflecting: ModuleFact(name: "", image: nil, path: nil, timestamp: nil, checksum: nil, imageSize: nil, fileVersion: nil,
                                                         productVersion: nil, company: nil, origin: .lmvm, source: span)).children.count, 11),
            ("RecommendationFact", Mirror(reflecting: RecommendationFact(action: "", target: nil, text: "", source: span)).children.count, 4),
            ("EntityFact", Mirror(reflecting: EntityFact(kind: .kb, value: "", key: nil, source: span)).children.count, 4),
            ("MessageFacts", Mirror(reflecting: MessageFacts()).children.count, 7),
        ]
        for (type, fields, packed) in counts { #expect(fields == packed, "\(type) has \(fields) fields; PackedFacts packs \(packed)") }
    }

    @Test("bytes that are not a packing of facts unpack to nothing, never to wrong facts or a crash")
    func malformed() throws {
        let rich = try #require(Self.corpusFacts().max { PackedFacts($0).bytes.count < PackedFacts($1).bytes.count })
        let bytes = PackedFacts(rich).bytes
        #expect(bytes.count > 200)
        for cut in [0, 1, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            #expect(FactUnpacker(Array(bytes.prefix(cut))).unpackOrNil() == nil)
        }
        #expect(FactUnpacker(bytes + [0]).unpackOrNil() == nil)
        #expect(FactUnpacker([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]).unpackOrNil() == nil)
    }
}

extension FactUnpacker {
    func unpackOrNil() -> MessageFacts? { var u = self; return try? u.facts() }
}
