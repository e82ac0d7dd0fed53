/// A message's facts packed into bytes: what a large ingest keeps of every message it stores until the message's
/// case is rebuilt. Packed facts take a fraction of the memory the values do (no string objects, array buffers or
/// optional padding), and unpacking them is far cheaper than extracting them again from the stored text.
///
/// Every stored field of every fact type is packed (`PackedFactsTests` checks the field counts): a field added to a
/// fact type must be added to `FactPacker` and `FactUnpacker` below.
struct PackedFacts: Sendable {
    let bytes: [UInt8]

    init(_ facts: MessageFacts) {
        var packer = FactPacker()
        packer.facts(facts)
        bytes = packer.bytes
    }

    /// The facts packed; nil only for bytes `init` did not write.
    func unpack() -> MessageFacts? {
        var unpacker = FactUnpacker(bytes)
        return try? unpacker.facts()
    }
}

/// Writes facts as bytes: integers as LEB128 varints (zigzag for signed), strings as length and UTF-8, optionals as a
/// presence byte, enums as their raw value, arrays as count and elements.
struct FactPacker {
    var bytes: [UInt8] = []

    mutating func unsigned(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func int(_ value: Int) { unsigned(UInt64(bitPattern: Int64((value << 1) ^ (value >> (Int.bitWidth - 1))))) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func string(_ value: String) {
        var s = value
        s.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
    mutating func optional(_ value: String?) {
        if let value { bytes.append(1); string(value) } else { bytes.append(0) }
    }
    mutating func list<T>(_ values: [T], _ each: (inout FactPacker, T) -> Void) {
        unsigned(UInt64(values.count))
        for v in values { each(&self, v) }
    }

    /// A span; its field as one byte when it is `new_text`, as nearly every fact's is.
    mutating func span(_ s: TextSpan) {
        int(s.message)
        if s.field == "new_text" { bytes.append(0) } else { bytes.append(1); string(s.field) }
        int(s.start); int(s.end)
    }

    mutating func facts(_ f: MessageFacts) {
        list(f.bugchecks) { p, b in
            p.unsigned(UInt64(b.code)); p.optional(b.name); p.list(b.args) { $0.string($1) }
            p.string(b.role.rawValue); p.string(b.writtenAs); p.span(b.source)
        }
        list(f.stacks) { p, s in
            p.list(s.frames) { p, frame in
                p.optional(frame.module); p.optional(frame.function)
                if let offset = frame.offset { p.bytes.append(1); p.unsigned(offset) } else { p.bytes.append(0) }
                p.optional(frame.address); p.bool(frame.isInline)
            }
            p.string(s.command); p.span(s.source)
        }
        list(f.poolTags) { p, t in
            p.string(t.tag); p.optional(t.owner); p.bool(t.suspect)
            p.list(t.blocks) { p, b in p.string(b.address); p.string(b.size); p.bool(b.allocated); p.string(b.tag); p.bool(b.starred) }
            p.span(t.source)
        }
        list(f.modules) { p, m in
            p.string(m.name); p.optional(m.image); p.optional(m.path); p.optional(m.timestamp); p.optional(m.checksum)
            p.optional(m.imageSize); p.optional(m.fileVersion); p.optional(m.productVersion); p.optional(m.company)
            p.string(m.origin.rawValue); p.span(m.source)
        }
        list(f.recommendations) { p, r in p.string(r.action); p.optional(r.target); p.string(r.text); p.span(r.source) }
        list(f.entities) { p, e in p.string(e.kind.rawValue); p.string(e.value); p.optional(e.key); p.span(e.source) }
        list(f.blamedInProse) { $0.string($1) }
    }
}

/// Reads what `FactPacker` wrote; throws at the first byte that does not fit.
struct FactUnpacker {
    struct Malformed: Error {}
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Malformed() }
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func unsigned() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Malformed() }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
    }
    mutating func int() throws -> Int {
        let z = try unsigned()
        return Int(truncatingIfNeeded: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
    }
    mutating func count() throws -> Int {
        let n = try unsigned()
        // every element takes at least one byte
        guard n <= UInt64(bytes.count - offset) else { throw Malformed() }
        return Int(n)
    }
    mutating func bool() throws -> Bool { try byte() != 0 }
    mutating func string() throws -> String {
        let n = try count()
        defer { offset += n }
        return String(decoding: bytes[offset..<offset + n], as: UTF8.self)
    }
    mutating func optional() throws -> String? { try byte() == 0 ? nil : try string() }
    mutating func list<T>(_ each: (inout FactUnpacker) throws -> T) throws -> [T] {
        let n = try count()
        var out: [T] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try each(&self)) }
        return out
    }
    mutating func raw<T: RawRepresentable<String>>(_ type: T.Type) throws -> T {
        guard let value = T(rawValue: try string()) else { throw Malformed() }
        return value
    }

    mutating func span() throws -> TextSpan {
        TextSpan(message: try int(), field: try byte() == 0 ? "new_text" : try string(), start: try int(), end: try int())
    }

    mutating func facts() throws -> MessageFacts {
        var f = MessageFacts()
        f.bugchecks = try list { u in
            let code = try u.unsigned()
            guard code <= UInt64(UInt32.max) else { throw Malformed() }
            return BugcheckFact(code: UInt32(code), name: try u.optional(), args: try u.list { try $0.string() },
                                role: try u.raw(BugcheckFact.Role.self), writtenAs: try u.string(), source: try u.span())
        }
        f.stacks = try list { u in
            let frames = try u.list { u in
                StackFrame(module: try u.optional(), function: try u.optional(), offset: try u.byte() == 0 ? nil : try u.unsigned(),
                           address: try u.optional(), isInline: try u.bool())
            }
            return StackFact(frames: frames, command: try u.string(), source: try u.span())
        }
        f.poolTags = try list { u in
            PoolTagFact(tag: try u.string(), owner: try u.optional(), suspect: try u.bool(),
                        blocks: try u.list { u in
                            PoolBlock(address: try u.string(), size: try u.string(), allocated: try u.bool(), tag: try u.string(), starred: try u.bool())
                        },
                        source: try u.span())
        }
        f.modules = try list { u in
            ModuleFact(name: try u.string(), image: try u.optional(), path: try u.optional(), timestamp: try u.optional(),
                       checksum: try u.optional(), imageSize: try u.optional(), fileVersion: try u.optional(),
                       productVersion: try u.optional(), company: try u.optional(), origin: try u.raw(ModuleFact.Origin.self),
                       source: try u.span())
        }
        f.recommendations = try list { u in
            RecommendationFact(action: try u.string(), target: try u.optional(), text: try u.string(), source: try u.span())
        }
        f.entities = try list { u in
            EntityFact(kind: try u.raw(EntityFact.Kind.self), value: try u.string(), key: try u.optional(), source: try u.span())
        }
        f.blamedInProse = try list { try $0.string() }
        guard offset == bytes.count else { throw Malformed() }
        return f
    }
}
