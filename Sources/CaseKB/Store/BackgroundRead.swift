import Dispatch
import GRDB
import Synchronization

/// A read started at once on another of the pool's connections and joined with `value()`, so one request can run two
/// independent reads at the same time (a search ranks its page while the exact total is counted). Join it outside
/// any read of your own: a caller that waits while holding a reader could wait for a reader that never frees.
final class BackgroundRead<Value: Sendable>: Sendable {
    private let finished = DispatchSemaphore(value: 0)
    private let outcome = Mutex<Result<Value, any Error>?>(nil)

    init(_ pool: DatabasePool, _ read: @escaping @Sendable (Database) throws -> Value) {
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            let result = Result { try pool.read(read) }
            outcome.withLock { $0 = result }
            finished.signal()
        }
    }

    /// The read's value (or its error), waiting for it if it is still running. Call once.
    func value() throws -> Value {
        finished.wait()
        guard let result = outcome.withLock({ $0 }) else { throw CancellationError() }
        return try result.get()
    }
}
