import Foundation

/// Work items done by worker threads and taken by one consumer in input order: each worker claims the next item as
/// soon as it is free, at most `window` items ahead of the consumer (which bounds the memory results hold). The
/// ingest uses it three times — files parsed, cases planned, cases linked — so the one SQLite writer consumes
/// results while both cores produce them, instead of waiting for a whole chunk to be computed first.
final class OrderedPipeline<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    private let inputs: [Input]
    private let window: Int
    /// The work; the first argument is the worker's number (0..<workers), for per-worker state such as caches.
    private let work: @Sendable (Int, Input) -> Output
    private var results: [Int: Output] = [:]
    private var claimed = 0
    private var taken = 0
    private let condition = NSCondition()

    init(_ inputs: [Input], window: Int, work: @escaping @Sendable (Int, Input) -> Output) {
        self.inputs = inputs
        self.window = max(1, window)
        self.work = work
    }

    /// Start `workers` threads (8 MiB stacks: the parsers recurse into nested MIME).
    func start(workers: Int) {
        for w in 0..<workers {
            let thread = Thread { [self] in run(worker: w) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func run(worker: Int) {
        while true {
            condition.lock()
            while claimed < inputs.count, claimed >= taken + window { condition.wait() }
            guard claimed < inputs.count else { condition.unlock(); return }
            let k = claimed
            claimed += 1
            condition.unlock()
            let output = work(worker, inputs[k])
            condition.lock()
            results[k] = output
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Item `k`'s result, waiting for it; items must be taken in order.
    func take(_ k: Int) -> Output {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let output = results.removeValue(forKey: k) {
                taken = k + 1
                condition.broadcast()
                return output
            }
            condition.wait()
        }
    }

    /// Stop handing out items (the consumer failed); workers finish the item in hand and exit.
    func cancel() {
        condition.lock()
        claimed = inputs.count
        condition.broadcast()
        condition.unlock()
    }
}
