import Foundation

/// What reading one file gave: its messages and the problems found. A file with an error-level diagnostic
/// and no messages failed; an mbox can lose single messages and keep the rest.
public struct FileReadResult: Sendable {
    public var path: String
    public var format: MailFormat?
    public var size: Int
    public var messages: [Message]
    public var diagnostics: [Diagnostic]

    public var failed: Bool { messages.isEmpty && diagnostics.contains { $0.severity == .error } }
}

/// Reads mail files of every supported format: CRM export, .eml, mbox, maildir folders and HTML files.
public enum MailReader {
    /// Largest single message or single-message file read whole (an mbox is streamed message by message).
    public static let maxMessageBytes = 64 << 20

    /// Expand files and folders into the mail files below them, sorted; maildir `tmp/` and hidden entries are skipped.
    public static func expand(_ paths: [String], standardized: Bool = false) -> (files: [String], diagnostics: [Diagnostic]) {
        var files: [String] = []
        var diags: [Diagnostic] = []
        let fm = FileManager.default
        for p in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: p, isDirectory: &isDir) else {
                diags.append(Diagnostic(file: p, message: "no such file or folder"))
                continue
            }
            // a standardized folder gives standardized paths: a name read from a folder holds no `.`, `..` or `/`
            let root = standardized ? URL(fileURLWithPath: p).standardizedFileURL.path : p
            if !isDir.boolValue { files.append(root); continue }
            var found: [String] = []
            walk(root, into: &found, diags: &diags)
            files += found.sorted()
        }
        return (files, diags)
    }

    private static func walk(_ dir: String, into files: inout [String], diags: inout [Diagnostic]) {
        guard let entries = FolderListing.entries(dir) else {
            diags.append(Diagnostic(file: dir, message: "cannot list folder"))
            return
        }
        let isMaildir = entries.contains { $0.name == "cur" } && entries.contains { $0.name == "new" }
        let base = dir.hasSuffix("/") ? dir : dir + "/"
        for entry in entries.sorted(by: { $0.name < $1.name }) where !entry.name.hasPrefix(".") {
            if isMaildir && entry.name == "tmp" { continue }
            let path = base + entry.name
            switch entry.kind {
            case .folder: walk(path, into: &files, diags: &diags)
            case .file: files.append(path)
            case .other:
                // a link or an entry the file system did not type: follow it as a stat would
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { continue }
                if isDir.boolValue { walk(path, into: &files, diags: &diags) } else { files.append(path) }
            }
        }
    }

    /// Read one file, detecting its format from content. `contents`, when the caller already holds the file's bytes
    /// (the ingest reads each file once to hash and parse it), spares reading it again; an mbox is always streamed.
    /// With a `redactor`, personal data is masked in every message, each body before it is split into new text,
    /// quoted text and signature (so the parts are what the masked body gives, and the split runs once).
    public static func read(path: String, contents: [UInt8]? = nil, redactor: Redactor? = nil) -> FileReadResult {
        var result = readUnmasked(path: path, contents: contents, redactor: redactor)
        if let redactor, !result.messages.isEmpty, result.format == .crmExport || result.format == .html {
            // these formats build their messages elsewhere: masked, and split again where a body changed
            result.messages = result.messages.map(redactor.redact)
        }
        return result
    }

    private static func readUnmasked(path: String, contents: [UInt8]?, redactor: Redactor?) -> FileReadResult {
        var result = FileReadResult(path: path, format: nil, size: 0, messages: [], diagnostics: [])
        let bytes: [UInt8]
        if let contents {
            bytes = contents
        } else {
            switch FileBytes.read(path, limit: maxMessageBytes) {
            case .contents(let b): bytes = b
            case .failed(let reason):
                result.diagnostics.append(Diagnostic(file: path, message: "cannot open file: \(reason)"))
                return result
            case .tooLarge(let size):
                // only an mbox may be this large: look at its start, then stream it
                result.size = size
                return readLarge(path: path, size: size, into: result, redactor: redactor)
            }
        }
        let size = bytes.count
        result.size = size
        let prefix = Array(bytes.prefix(FormatDetector.prefixSize))
        switch FormatDetector.detect(prefix: prefix, fileSize: size) {
        case .failure(let notMail):
            result.diagnostics.append(notMailDiagnostic(path, notMail.reason))
            return result
        case .success(let format):
            result.format = format
            if format == .mbox {
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    result.diagnostics.append(Diagnostic(file: path, message: "cannot open file"))
                    return result
                }
                defer { try? handle.close() }
                readMbox(handle: handle, path: path, into: &result, redactor: redactor)
                return result
            }
            switch format {
            case .crmExport:
                var b = bytes[...]
                if b.starts(with: [0xEF, 0xBB, 0xBF]) { b = b.dropFirst(3) }
                let decoded = Charset.decode(Array(b), label: nil)
                let r = CRMExportReader.read(text: decoded.text, file: path)
                result.messages = r.messages
                result.diagnostics = r.diagnostics
            case .eml:
                let (msgs, diags) = messages(fromMail: bytes, file: path, format: .eml, index: 1, byteOffset: 0, redactor: redactor)
                result.messages = msgs
                result.diagnostics = diags
            case .html:
                let h = HTMLText.convert(bytes: bytes, isUTF8: false)
                let msg = Message(source: SourceLocation(file: path, format: .html, index: 1, byteOffset: 0),
                                  from: MailAddress(name: nil, address: nil), sent: nil, subject: "", body: h.text, htmlQuoteStart: h.quoteStart)
                result.messages = [msg]
            case .mbox:
                break
            }
            return result
        }
    }

    /// Why a file is not mail; a binary or empty file has no offset worth naming.
    static func notMailDiagnostic(_ path: String, _ reason: String) -> Diagnostic {
        Diagnostic(file: path, byteOffset: reason.hasPrefix("binary") || reason.hasPrefix("empty") ? nil : 0, message: reason)
    }

    /// A file over `maxMessageBytes`: streamed when it is an mbox, refused otherwise.
    static func readLarge(path: String, size: Int, into start: FileReadResult, redactor: Redactor?) -> FileReadResult {
        var result = start
        guard let handle = FileHandle(forReadingAtPath: path) else {
            result.diagnostics.append(Diagnostic(file: path, message: "cannot open file"))
            return result
        }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: FormatDetector.prefixSize)).map { [UInt8]($0) } ?? []
        switch FormatDetector.detect(prefix: prefix, fileSize: size) {
        case .failure(let notMail):
            result.diagnostics.append(notMailDiagnostic(path, notMail.reason))
        case .success(let format) where format == .mbox:
            result.format = format
            try? handle.seek(toOffset: 0)
            readMbox(handle: handle, path: path, into: &result, redactor: redactor)
        case .success(let format):
            result.format = format
            result.diagnostics.append(Diagnostic(file: path, message: "file is \(size / (1 << 20)) MiB; a single message over \(maxMessageBytes >> 20) MiB is not read"))
        }
        return result
    }

    /// Messages from one RFC 5322 mail (its forwarded message/rfc822 parts become messages too).
    public static func messages(fromMail bytes: [UInt8], file: String, format: MailFormat, index: Int, byteOffset: Int,
                                redactor: Redactor? = nil) -> ([Message], [Diagnostic]) {
        let parsed = MIMEParser.parse(bytes)
        var diags = parsed.problems.map {
            Diagnostic(file: file, severity: $0.severity, byteOffset: byteOffset + $0.offset, messageNumber: format == .mbox ? index : nil, message: $0.message)
        }
        if parsed.hasError { return ([], diags) }
        if parsed.headers.fields.isEmpty {
            diags.append(Diagnostic(file: file, byteOffset: byteOffset, messageNumber: format == .mbox ? index : nil, message: "no header fields"))
            return ([], diags)
        }
        var out: [Message] = []
        func make(_ p: ParsedMail, forwarded: Bool) -> Message {
            let h = p.headers
            let ids = { (name: String) -> [String] in messageIDs(h.value(name) ?? "") }
            var sent = h.value("date").flatMap { MailDate.parseRFC5322($0) ?? MailDate.parseISOLike($0) }
            if sent == nil, let received = h.value("received"), let semi = received.lastIndex(of: ";") {
                sent = MailDate.parseRFC5322(String(received[received.index(after: semi)...]))
            }
            // masked before the split (masking keeps lines, so the HTML quote marker's line still holds)
            let quoteLine = p.htmlQuoteStart.flatMap { QuoteSplitter.line(of: $0, in: p.body) }
            let message = Message(
                source: SourceLocation(file: file, format: format, index: index, byteOffset: byteOffset),
                messageID: ids("message-id").first,
                inReplyTo: ids("in-reply-to").first,
                references: ids("references"),
                conversationID: h.value("thread-index").flatMap(conversationID),
                from: MailAddress.parse(h.value("from") ?? h.value("sender") ?? ""),
                to: AddressList.parse(h.value("to") ?? ""),
                cc: AddressList.parse(h.value("cc") ?? ""),
                sent: sent,
                subject: ByteText.replacing(0x0A, with: 0x20, in: h.value("subject") ?? ""),
                body: redactor.map { $0.redact(p.body) } ?? p.body,
                attachments: p.attachments,
                isForwardedCopy: forwarded,
                quoteStartLine: quoteLine)
            return redactor.map { $0.redactFields(message) } ?? message
        }
        out.append(make(parsed, forwarded: false))
        var queue = parsed.forwarded
        while !queue.isEmpty {
            let f = queue.removeFirst()
            if !f.headers.fields.isEmpty {
                var copy = make(f, forwarded: true)
                copy.forwardedIn = out.first?.messageID
                out.append(copy)
            }
            queue += f.forwarded
        }
        return (out, diags)
    }

    /// `<id>` tokens of a Message-ID / In-Reply-To / References header.
    static func messageIDs(_ value: String) -> [String] {
        var out: [String] = []
        var rest = value[...]
        while let lt = rest.utf8.firstIndex(of: 0x3C), let gt = rest[lt...].utf8.firstIndex(of: 0x3E) {
            let id = rest[rest.index(after: lt)..<gt].trimmingSpaces()
            if !id.isEmpty && !id.utf8.contains(0x20) { out.append(id) }
            rest = rest[rest.index(after: gt)...]
        }
        if out.isEmpty {
            let t = value.trimmingSpacesAndNewlines()
            if !t.isEmpty, !t.utf8.contains(0x20), t.utf8.contains(0x40) { out.append(t) }
        }
        return out
    }

    /// Outlook conversation id: the first 22 bytes of the base64 Thread-Index, as hex.
    static func conversationID(_ threadIndex: String) -> String? {
        let r = TransferEncoding.decodeBase64(Array(threadIndex.utf8)[...])
        guard r.firstInvalidOffset == nil, r.bytes.count >= 22 else { return nil }
        return r.bytes.prefix(22).map { String(format: "%02x", $0) }.joined()
    }

    /// Stream an mbox message by message: `From ` lines after a blank line split messages, `>From` is unescaped.
    static func readMbox(handle: FileHandle, path: String, into result: inout FileReadResult, redactor: Redactor?) {
        var buffer: [UInt8] = []
        var bufferBase = 0            // file offset of buffer[0]
        var eof = false
        var current: [UInt8] = []
        var currentStart = 0
        var currentIndex = 0
        var oversized = false
        var previousBlank = true
        func finish() {
            guard currentIndex > 0 else { return }
            if oversized {
                result.diagnostics.append(Diagnostic(file: path, byteOffset: currentStart, messageNumber: currentIndex, message: "message larger than \(maxMessageBytes >> 20) MiB; skipped"))
            } else {
                // drop the blank line that precedes the next From line
                while let l = current.last, l == 0x0A || l == 0x0D { current.removeLast() }
                current.append(0x0A)
                let (msgs, diags) = messages(fromMail: current, file: path, format: .mbox, index: currentIndex, byteOffset: currentStart, redactor: redactor)
                result.messages += msgs
                result.diagnostics += diags
            }
            current = []
            oversized = false
        }
        var scan = 0          // start of the current line in the buffer
        var searchFrom = 0    // where the newline search resumes
        while true {
            // find the next line end in the buffer
            var nl = -1
            if searchFrom < buffer.count {
                nl = buffer.withUnsafeBufferPointer { buf -> Int in
                    guard let base = buf.baseAddress, let p = memchr(base + searchFrom, 0x0A, buf.count - searchFrom) else { return -1 }
                    return UnsafeRawPointer(p) - UnsafeRawPointer(base)
                }
            }
            if nl < 0 {
                searchFrom = buffer.count
                if eof {
                    if scan < buffer.count { nl = buffer.count } else { break }
                } else {
                    if scan > 0 { buffer.removeFirst(scan); bufferBase += scan; searchFrom -= scan; scan = 0 }
                    if buffer.count > maxMessageBytes {
                        // one line longer than a whole message may be: skip it, keep memory bounded
                        if !oversized { oversized = true; current = [] }
                        bufferBase += buffer.count
                        buffer.removeAll(keepingCapacity: true)
                        searchFrom = 0
                    }
                    if let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { buffer += chunk } else { eof = true }
                    continue
                }
            }
            let line = buffer[scan..<min(nl, buffer.count)]
            let lineOffset = bufferBase + scan
            if previousBlank && line.starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) {
                finish()
                currentIndex += 1
                currentStart = lineOffset
            } else if currentIndex > 0 {
                if !oversized {
                    var l = line[...]
                    // mboxrd: ">From " / ">>From " lose one '>'
                    var q = l.startIndex
                    while q < l.endIndex, l[q] == 0x3E { q += 1 }
                    if q > l.startIndex, l[q...].starts(with: [0x46, 0x72, 0x6F, 0x6D, 0x20]) { l = l.dropFirst() }
                    current += l
                    current.append(0x0A)
                    if current.count > maxMessageBytes { oversized = true; current = [] }
                }
            }
            let content = line.last == 0x0D ? line.dropLast() : line
            previousBlank = content.isEmpty
            scan = min(nl + 1, buffer.count)
            searchFrom = scan
            if nl >= buffer.count { break }
        }
        finish()
        if currentIndex == 0 {
            result.diagnostics.append(Diagnostic(file: path, byteOffset: 0, message: "mbox without any 'From ' line"))
        }
    }
}
