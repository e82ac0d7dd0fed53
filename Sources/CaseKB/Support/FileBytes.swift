#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file read with one open, one fstat and as few reads as its size needs: the ingest hashes and parses
/// the same bytes instead of reading each file twice through Foundation.
public enum FileBytes {
    public enum Outcome {
        /// The whole file.
        case contents([UInt8])
        /// Larger than the limit: its size, to be streamed instead.
        case tooLarge(Int)
        /// It could not be opened or read (errno text).
        case failed(String)
    }

    /// The file's bytes, or `.tooLarge` when it holds more than `limit` bytes.
    public static func read(_ path: String, limit: Int) -> Outcome {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failed(String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failed(String(cString: strerror(errno))) }
        let size = Int(info.st_size)
        if size > limit { return .tooLarge(size) }
        // one byte more than the stat size: the read that finds the end needs room, and a file that grew since
        // is read whole (the buffer grows only then)
        var bytes = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(4096, bytes.count / 2))) }
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress.map { $0 + filled }, buffer.count - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
            if filled > limit { return .tooLarge(filled) }
        }
        bytes.removeSubrange(filled...)
        return .contents(bytes)
    }
}
