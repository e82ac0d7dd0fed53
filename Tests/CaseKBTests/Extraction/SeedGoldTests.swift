import Foundation
import Testing
@testable import CaseKB

/// The seed thread against the hand-labelled `gold.json`.
@Suite("Extraction on the seed (gold.json)", .enabled(if: Fixtures.hasShared, "needs ../shared/seed"))
struct SeedGoldTests {
    static let knowledge: (CaseThread, CaseKnowledge)? = {
        guard let c = Fixtures.cases(Fixtures.seedPath).first else { return nil }
        return (c, CaseKnowledge.build(c))
    }()

    func gold() throws -> [String: Any] { try Fixtures.gold() }
    func strip(_ frame: String) -> String {
        if let r = frame.range(of: "+0x") { return String(frame[..<r.lowerBound]) }
        return frame
    }

    @Test("six distinct crash bugcheck codes, each with its name, arguments and message")
    func bugchecks() throws {
        let (_, k) = try #require(Self.knowledge)
        let golds = try #require(try gold()["bugchecks"] as? [[String: Any]])
        #expect(Set(k.bugchecks.map(\.code)) == Set(golds.compactMap { $0["code"] as? String }))
        #expect(Set(k.bugchecks.map(\.code)).count == 6)
        for g in golds {
            let code = try #require(g["code"] as? String)
            let message = try #require(g["message"] as? Int)
            let b = try #require(k.bugchecks.first { $0.code == code && $0.messages.contains(message) }, "\(code) in message \(message)")
            #expect(b.name == g["name"] as? String)
            if let args = g["args"] as? [String] { #expect(b.args == args, "\(code)") }
        }
        // messages 22 and 25 describe the same dump: one entry linked to both
        #expect(k.bugchecks.first { $0.code == "0x0000001E" }?.messages == [22, 25])
        // argument meanings come from the shipped table
        let b50 = try #require(k.bugchecks.first { $0.code == "0x00000050" })
        #expect(b50.argMeanings.first == "Memory address referenced")
        // the 0xC4 description's "bugchecks 0xC4, 0xC1 and 0xA" are not crashes of this case
        #expect(!k.bugchecks.contains { $0.code == "0x000000C1" || $0.code == "0x0000000A" })
    }

    @Test("stacks: the 13/14 stack stored once; frames in order; inline frames marked; 22 and 25 lengths")
    func stacks() throws {
        let (_, k) = try #require(Self.knowledge)
        let golds = try #require(try gold()["stacks"] as? [[String: Any]])
        for g in golds {
            let messages = try #require(g["messages"] as? [Int])
            let s = try #require(k.stacks.first { $0.messages == messages }, "stack of \(messages)")
            let frames = s.frames.map(strip)
            if let expected = g["frames"] as? [String] { #expect(frames == expected, "\(messages)") }
            if let head = g["frames_head"] as? [String] { #expect(Array(frames.prefix(head.count)) == head) }
            if let n = g["frames_count"] as? Int { #expect(frames.count == n, "\(messages)") }
            if let inline = g["inline_frames"] as? [String] { #expect(s.inlineFrames.map { frames[$0] } == inline) }
            if let ordered = g["contains_in_order"] as? [String] {
                var idx = 0
                for f in frames where idx < ordered.count && f == ordered[idx] { idx += 1 }
                #expect(idx == ordered.count, "frames in order for \(messages)")
            }
        }
        #expect(k.stacks.count == golds.count)
    }

    @Test("pool tags: Filt owned by vwifimf.sys and suspect, FSfc by nt!fsrtl, all tags seen")
    func pool() throws {
        let (_, k) = try #require(Self.knowledge)
        let g = try #require(try gold()["pool_tags"] as? [String: Any])
        #expect(Set(k.poolTags.map(\.tag)) == Set(g["seen"] as? [String] ?? []))
        let filt = try #require(k.poolTags.first { $0.tag == "Filt" })
        #expect(filt.owner == "vwifimf.sys")
        #expect(filt.suspect)
        #expect(filt.messages == [13, 14, 16, 19, 25])
        #expect(k.poolTags.first { $0.tag == "FSfc" }?.owner == "nt!fsrtl")
    }

    @Test("modules: vwifimf's lmvm details, the stack modules, NDIS filters")
    func modules() throws {
        let (_, k) = try #require(Self.knowledge)
        let v = try #require(k.modules.first { $0.name == "vwifimf" })
        #expect(v.image == "vwifimf.sys")
        #expect(v.path == "\\SystemRoot\\system32\\DRIVERS\\vwifimf.sys")
        #expect(v.timestamp == "5EF172B2")
        #expect(v.checksum == "0000EDC3")
        #expect(v.imageSize == "0000A000")
        #expect(v.thirdParty)
        for name in ["ndis", "nwifi", "wdiwifi", "Netwtw08", "tcpip", "gscfmgr", "nt"] {
            #expect(k.modules.contains { $0.name == name }, "\(name)")
        }
        let filters = try #require(try gold()["ndis_filters"] as? [String])
        #expect(k.entities.ndisFilters == filters)
    }

    @Test("culprits: vwifimf first, gscfmgr next")
    func culprits() throws {
        let (_, k) = try #require(Self.knowledge)
        #expect(k.culprits == ["vwifimf", "gscfmgr"])
        #expect(k.culpritDetails.first?.evidence.contains { $0.contains("pool tag Filt") } == true)
    }

    @Test("at least 14 of the 16 labelled recommendations, with their action types")
    func recommendations() throws {
        let (_, k) = try #require(Self.knowledge)
        let golds = try #require(try gold()["recommendations"] as? [[String: Any]])
        var found = 0
        var missing: [String] = []
        for g in golds {
            let message = g["message"] as? Int ?? 0, action = g["action"] as? String ?? "", text = g["text_contains"] as? String ?? ""
            if k.recommendations.contains(where: { $0.message == message && $0.action == action && $0.text.contains(text) }) { found += 1 }
            else { missing.append("\(message) \(action) \(text)") }
        }
        #expect(found >= 14, "missing: \(missing)")
        #expect(k.recommendations.contains { $0.message == 12 && $0.action == "install_updates" && $0.target == "KB4559003" })
        #expect(k.recommendations.contains { $0.message == 13 && $0.action == "uninstall_driver" && $0.target == "vwifimf.sys" })
    }

    @Test("entities: KB4559003, 0x80070057, 1809 and 1803, T490s")
    func entities() throws {
        let (_, k) = try #require(Self.knowledge)
        #expect(k.entities.kb == ["KB4559003"])
        #expect(k.entities.errorCodes.contains("0x80070057"))
        #expect(k.entities.osVersions.contains("1809"))
        #expect(k.entities.osVersions.contains("1803"))
        #expect(k.entities.machineModels == ["T490s"])
    }

    @Test("spans point at the text they came from")
    func spans() throws {
        let (c, k) = try #require(Self.knowledge)
        func text(_ s: TextSpan) -> String {
            let m = c.messages[s.message - 1]
            let field = s.field == "subject" ? m.subject : m.newText
            let scalars = Array(field.unicodeScalars)
            var out = String.UnicodeScalarView()
            out.append(contentsOf: scalars[s.start..<s.end])
            return String(out)
        }
        let kb = try #require(k.entities.sources["kb:KB4559003"])
        #expect(text(kb) == "KB 4559003")
        let b50 = try #require(k.bugchecks.first { $0.code == "0x00000050" })
        #expect(text(b50.source).hasPrefix("PAGE_FAULT_IN_NONPAGED_AREA (50)"))
        #expect(text(b50.source).hasSuffix("Arg4: 0000000000000002, (reserved)"))
        let stack = try #require(k.stacks.first { $0.messages == [13, 14] })
        #expect(text(stack.source).hasPrefix("00 nt!KeBugCheckEx"))
        #expect(stack.sources.count == 2)
        let rec = try #require(k.recommendations.first { $0.message == 15 })
        #expect(text(rec.source).hasPrefix("建议联系TMS厂商"))
    }

    @Test("no ID or phone number survives in the output")
    func redaction() throws {
        let r = ThreadParser.parse(paths: [Fixtures.seedPath])
        let json = try ParseReport(cases: r.cases, files: r.files).json()
        let personal = try #require((try gold()["personal_data"] as? [String: Any])?["must_be_redactable"] as? [String])
        for p in personal { #expect(!json.contains(p), "\(p)") }
        #expect(!json.contains("66657739"))
        // and --no-redact keeps them
        let raw = ThreadParser.parse(paths: [Fixtures.seedPath], redact: false)
        #expect(raw.cases.first?.messages[10].body.contains("110223198601270039") == true)
    }
}
