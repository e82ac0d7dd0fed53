import Foundation

/// A sender or recipient: display name and/or address.
public struct MailAddress: Sendable, Codable, Hashable {
    public var name: String?
    public var address: String?

    public init(name: String?, address: String?) {
        self.name = name?.isEmpty == true ? nil : name
        self.address = address?.isEmpty == true ? nil : address
    }

    /// What a reader calls this participant: the name when known, else the address.
    public var display: String { name ?? address ?? "(unknown)" }

    /// Parse `"Name" <a@b>`, `Name<mailto:a@b>`, `a@b (Name)`, `a@b` or a bare name.
    public static func parse(_ raw: String) -> MailAddress {
        var s = raw.trimmingSpacesAndNewlines()
        if s.isEmpty { return MailAddress(name: nil, address: nil) }
        // delimiters are found among the UTF-8 bytes (ASCII, so always at a character boundary)
        if let lt = s.utf8.lastIndex(of: 0x3C), let gt = s[lt...].utf8.firstIndex(of: 0x3E) {
            var addr = String(s[s.index(after: lt)..<gt]).trimmingSpaces()
            if addr.lowercased().hasPrefix("mailto:") { addr = String(addr.dropFirst(7)) }
            let name = unquote(String(s[..<lt]))
            return MailAddress(name: name, address: addr)
        }
        if let lb = s.utf8.lastIndex(of: 0x5B), s.hasSuffix("]"), s[lb...].lowercased().contains("mailto:") {
            let addr = String(s[s.index(lb, offsetBy: 8)..<s.index(before: s.endIndex)])
            return MailAddress(name: unquote(String(s[..<lb])), address: addr)
        }
        if let lp = s.utf8.firstIndex(of: 0x28), s.hasSuffix(")"), s[..<lp].utf8.contains(0x40) {
            let name = String(s[s.index(after: lp)..<s.index(before: s.endIndex)])
            s = String(s[..<lp]).trimmingSpaces()
            return MailAddress(name: unquote(name), address: s)
        }
        if s.utf8.contains(0x40), !s.utf8.contains(0x20) { return MailAddress(name: nil, address: s) }
        return MailAddress(name: unquote(s), address: nil)
    }

    private static func unquote(_ s: String) -> String {
        var t = s.trimmingSpacesAndNewlines()
        if t.utf8.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
        if t.utf8.count >= 2, t.hasPrefix("'"), t.hasSuffix("'") { t = String(t.dropFirst().dropLast()) }
        return t.trimmingSpaces()
    }
}

/// A file attached to a message. Text attachments (WinDbg logs) keep their text; binary ones only their metadata.
public struct Attachment: Sendable, Codable, Hashable {
    public var filename: String?
    public var contentType: String
    /// Decoded size in bytes.
    public var size: Int
    /// The decoded text of `text/*`, `.txt` and `.log` attachments; nil for binary attachments.
    public var text: String?
}

/// Where a message came from: the file, its format, and its position there.
public struct SourceLocation: Sendable, Codable, Hashable {
    public var file: String
    public var format: MailFormat
    /// 1-based message number inside the file (the `第N封` number in a CRM export, the message count in an mbox).
    public var index: Int
    /// Byte offset of the message inside the file.
    public var byteOffset: Int
}

/// One mail as read from a source, decoded, with its new text separated from quoted mail and signature.
public struct Message: Sendable, Codable, Hashable {
    public var source: SourceLocation
    public var messageID: String?
    public var inReplyTo: String?
    public var references: [String]
    /// Outlook conversation id (first 22 bytes of Thread-Index), hex.
    public var conversationID: String?
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var sent: Date?
    public var subject: String
    /// The full decoded text of the body.
    public var body: String
    /// What the sender wrote in this message: the body less quoted earlier mail and the signature.
    public var newText: String
    /// Quoted earlier mail (reply headers, `>` lines, forwarded content), split from the body when asked for: the
    /// ingest never reads it (the knowledge base derives it from the stored body too), and a reply's quoted history
    /// is most of its text.
    public var quotedText: String { QuoteSplitter.shared.split(body, quoteStartLine: quoteStartLine).quotedText }
    /// The signature block, if one was found.
    public var signature: String
    public var attachments: [Attachment]
    /// The message was found inside another one (a forwarded message/rfc822 part).
    public var isForwardedCopy: Bool
    /// For a forwarded copy: the Message-ID of the mail that carried it (it joins that mail's case).
    public var forwardedIn: String?
    /// The body line where an HTML quote marker put the start of quoted mail, if one did. With the body it
    /// determines new text, quoted text and signature (`QuoteSplitter.split(_:quoteStartLine:)`), so the
    /// knowledge base stores only the body and the new text, and masking digits (which keeps lines) keeps it valid.
    public var quoteStartLine: Int?

    public init(source: SourceLocation, messageID: String? = nil, inReplyTo: String? = nil, references: [String] = [],
                conversationID: String? = nil, from: MailAddress, to: [MailAddress] = [], cc: [MailAddress] = [],
                sent: Date?, subject: String, body: String, attachments: [Attachment] = [], isForwardedCopy: Bool = false,
                htmlQuoteStart: String.Index? = nil, quoteStartLine: Int? = nil) {
        self.source = source
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.conversationID = conversationID
        self.from = from
        self.to = to
        self.cc = cc
        self.sent = sent
        self.subject = subject
        self.body = body
        self.attachments = attachments
        self.isForwardedCopy = isForwardedCopy
        self.forwardedIn = nil
        self.quoteStartLine = htmlQuoteStart.flatMap { QuoteSplitter.line(of: $0, in: body) } ?? quoteStartLine
        let parts = QuoteSplitter.shared.split(body, quoteStartLine: self.quoteStartLine, collectQuoted: false)
        self.newText = parts.newText
        self.signature = parts.signature
    }

    /// The message with another body of the same lines (a redacted one): its parts split again from it.
    public func withBody(_ newBody: String) -> Message {
        var m = self
        m.body = newBody
        let parts = QuoteSplitter.shared.split(newBody, quoteStartLine: quoteStartLine, collectQuoted: false)
        m.newText = parts.newText
        m.signature = parts.signature
        return m
    }
}

/// A mail-file format, detected from content.
public enum MailFormat: String, Sendable, Codable, Hashable {
    case crmExport = "crm"
    case eml
    case mbox
    case html
}

/// A problem found while reading a file: a one-line message naming the file, with a byte offset or message number.
public struct Diagnostic: Sendable, Codable, Hashable, CustomStringConvertible, Error {
    public enum Severity: String, Sendable, Codable { case warning, error }
    public var file: String
    public var severity: Severity
    public var byteOffset: Int?
    public var messageNumber: Int?
    public var message: String

    public init(file: String, severity: Severity = .error, byteOffset: Int? = nil, messageNumber: Int? = nil, message: String) {
        self.file = file
        self.severity = severity
        self.byteOffset = byteOffset
        self.messageNumber = messageNumber
        self.message = message
    }

    public var description: String {
        var where_ = file
        if let m = messageNumber { where_ += ": message \(m)" }
        if let o = byteOffset { where_ += ": byte \(o)" }
        return "\(where_): \(severity.rawValue): \(message)"
    }
}
