#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder's entries with the type the file system reports beside each name, so walking a maildir of tens of
/// thousands of files costs one `readdir` pass instead of a `stat` per file.
public enum FolderListing {
    public enum Kind: Sendable { case file, folder, other }

    public struct Entry: Sendable {
        public var name: String
        /// `.other`: a symbolic link, or a file system that does not type its entries (the caller stats it).
        public var kind: Kind
    }

    /// The entries of `path` (without `.` and `..`), or nil when it cannot be listed.
    public static func entries(_ path: String) -> [Entry]? {
        guard let dir = opendir(path) else { return nil }
        defer { closedir(dir) }
        var out: [Entry] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> String in
                let bytes = raw.bindMemory(to: UInt8.self)
                let length = bytes.firstIndex(of: 0) ?? bytes.count
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<length]), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let kind: Kind
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): kind = .file
            case Int32(DT_DIR): kind = .folder
            default: kind = .other
            }
            out.append(Entry(name: name, kind: kind))
        }
        return out
    }
}
