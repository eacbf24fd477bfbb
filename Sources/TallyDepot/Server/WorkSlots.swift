import Synchronization

/// The requests the depot decodes and applies at once; the others wait their turn holding only
/// their body as it came off the wire.
///
/// The store has one writer, so decoding more pushes at once than there are cores does not
/// make the depot faster, it only holds more decoded changes in memory: with every admitted
/// request decoding at once, 500 vans syncing took the depot to 342 MB. Waiting here is a
/// suspension, not a blocked thread, and turns come in arrival order.
final class WorkSlots: Sendable {
    private struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []

        /// Takes a free slot, if there is one.
        mutating func take() -> Bool {
            guard free > 0 else { return false }
            free -= 1
            return true
        }
    }
    private let state: Mutex<State>

    init(limit: Int) {
        state = Mutex(State(free: max(1, limit)))
    }

    /// Waits for a slot. Every `acquire` is matched by one `release`.
    func acquire() async {
        if state.withLock({ $0.take() }) { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            // A slot freed since the first look is taken at once; otherwise wait in line.
            let now = state.withLock { s in
                if s.take() { return true }
                s.waiting.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Gives the slot to the longest waiting request, or back to the pool.
    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiting.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }

    /// Runs `work` in a slot.
    func run<T: Sendable>(_ work: () async -> T) async -> T {
        await acquire()
        defer { release() }
        return await work()
    }
}
