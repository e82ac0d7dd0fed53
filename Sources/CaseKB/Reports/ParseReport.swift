import Foundation

/// The JSON shape of `casekb parse --json`: cases with their messages, and the problems found per file.
public struct ParseReport: Encodable, Sendable {
    public struct MessageJSON: Codable, Sendable {
        public var index: Int
        public var from: String
        public var fromAddress: String?
        public var sent: String?
        public var subject: String
        public var messageID: String?
        public var body: String
        public var newText: String
        public var quotedText: String
        public var signature: String
        public var attachments: [AttachmentJSON]
        public var source: SourceJSON

        enum CodingKeys: String, CodingKey {
            case index, from, sent, subject, body, signature, attachments, source
            case fromAddress = "from_address", messageID = "message_id", newText = "new_text", quotedText = "quoted_text"
        }

        // optional fields are printed as null, so scripts always find the key
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index); try c.encode(from, forKey: .from); try c.encode(fromAddress, forKey: .fromAddress)
            try c.encode(sent, forKey: .sent); try c.encode(subject, forKey: .subject); try c.encode(messageID, forKey: .messageID)
            try c.encode(body, forKey: .body); try c.encode(newText, forKey: .newText); try c.encode(quotedText, forKey: .quotedText)
            try c.encode(signature, forKey: .signature); try c.encode(attachments, forKey: .attachments); try c.encode(source, forKey: .source)
        }
    }

    public struct AttachmentJSON: Codable, Sendable {
        public var filename: String?
        public var contentType: String
        public var size: Int
        public var hasText: Bool
        enum CodingKeys: String, CodingKey { case filename, size, contentType = "content_type", hasText = "has_text" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(filename, forKey: .filename); try c.encode(contentType, forKey: .contentType)
            try c.encode(size, forKey: .size); try c.encode(hasText, forKey: .hasText)
        }
    }

    public struct SourceJSON: Codable, Sendable {
        public var file: String
        public var format: String
        public var index: Int
        public var byteOffset: Int
        enum CodingKeys: String, CodingKey { case file, format, index, byteOffset = "byte_offset" }
    }

    public struct CaseJSON: Encodable, Sendable {
        /// The contract shape of a case and its facts.
        public init(_ c: CaseThread, knowledge: CaseKnowledge) { self = ParseReport.caseJSON(c, knowledge: knowledge) }
        init(case: String, caseIDs: [String], subject: String, normalizedSubject: String, participants: [String], firstSent: String?, lastSent: String?, messages: [MessageJSON], knowledge: CaseKnowledge) {
            self.case = `case`; self.caseIDs = caseIDs; self.subject = subject; self.normalizedSubject = normalizedSubject; self.participants = participants
            self.firstSent = firstSent; self.lastSent = lastSent; self.messages = messages; self.knowledge = knowledge
        }
        public var `case`: String
        public var caseIDs: [String]
        public var subject: String
        public var normalizedSubject: String
        public var participants: [String]
        public var firstSent: String?
        public var lastSent: String?
        public var messages: [MessageJSON]
        /// The extracted facts (bugchecks, stacks, pool tags, modules, culprits, recommendations, entities).
        public var knowledge: CaseKnowledge
        /// Similar earlier cases linked at ingest (`show` only).
        public var similarCases: [SimilarCase]? = nil
        enum CodingKeys: String, CodingKey {
            case `case`, subject, participants, messages
            case caseIDs = "case_ids", normalizedSubject = "normalized_subject", firstSent = "first_sent", lastSent = "last_sent"
            case similarCases = "similar_cases"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(`case`, forKey: .case); try c.encode(caseIDs, forKey: .caseIDs); try c.encode(subject, forKey: .subject)
            try c.encode(normalizedSubject, forKey: .normalizedSubject); try c.encode(participants, forKey: .participants)
            try c.encode(firstSent, forKey: .firstSent); try c.encode(lastSent, forKey: .lastSent); try c.encode(messages, forKey: .messages)
            try knowledge.encode(to: encoder)   // the contract puts the facts beside the case fields
            if let similarCases { try c.encode(similarCases, forKey: .similarCases) }
        }
    }

    public struct FileJSON: Codable, Sendable {
        public var path: String
        public var format: String?
        public var messages: Int
        public var failed: Bool
    }

    public var cases: [CaseJSON]
    public var files: [FileJSON]
    public var errors: [String]
    public var warnings: [String]

    public init(cases: [CaseThread], files: [FileReadResult], extraDiagnostics: [Diagnostic] = []) {
        self.cases = cases.map { c -> CaseJSON in CaseJSON(c, knowledge: CaseKnowledge.build(c)) }
        self.files = files.map { FileJSON(path: $0.path, format: $0.format?.rawValue, messages: $0.messages.count, failed: $0.failed) }
        let all = extraDiagnostics + files.flatMap(\.diagnostics)
        errors = all.filter { $0.severity == .error }.map(\.description)
        warnings = all.filter { $0.severity == .warning }.map(\.description)
    }

    static func caseJSON(_ c: CaseThread, knowledge: CaseKnowledge) -> CaseJSON {
            CaseJSON(case: c.key, caseIDs: c.caseIDs, subject: c.subject, normalizedSubject: c.normalizedSubject,
                     participants: c.participants,
                     firstSent: c.messages.compactMap(\.sent).min().map(MailDate.iso),
                     lastSent: c.messages.compactMap(\.sent).max().map(MailDate.iso),
                     messages: c.messages.enumerated().map { k, m in
                         MessageJSON(index: k + 1, from: m.from.display, fromAddress: m.from.address, sent: m.sent.map(MailDate.iso),
                                     subject: m.subject, messageID: m.messageID, body: m.body, newText: m.newText, quotedText: m.quotedText,
                                     signature: m.signature,
                                     attachments: m.attachments.map { AttachmentJSON(filename: $0.filename, contentType: $0.contentType, size: $0.size, hasText: $0.text != nil) },
                                     source: SourceJSON(file: m.source.file, format: m.source.format.rawValue, index: m.source.index, byteOffset: m.source.byteOffset))
                     },
                     knowledge: knowledge)
    }

    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// Reads files and groups their messages into cases: the parse stage as one call.
public enum ThreadParser {
    /// Read `paths`, mask personal data (unless `redact` is false) and group the messages into cases.
    public static func parse(paths: [String], redact: Bool = true) -> (cases: [CaseThread], files: [FileReadResult], diagnostics: [Diagnostic]) {
        let (files, diags) = MailReader.expand(paths)
        let results = files.map { MailReader.read(path: $0, redactor: redact ? Redactor.shared : nil) }
        let cases = CaseGrouper.group(results.flatMap(\.messages))
        return (cases, results, diags)
    }
}
