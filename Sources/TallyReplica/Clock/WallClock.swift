import Foundation
import Synchronization

/// The source of physical time for a hybrid logical clock. Injected so that tests and
/// simulations can move time by hand, backwards included.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMilliseconds() -> UInt64
}

/// The machine's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMilliseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to: for tests and the simulator.
public final class ManualWallClock: WallClock {
    private let now: Mutex<UInt64>

    public init(milliseconds: UInt64) { now = Mutex(milliseconds) }

    public func nowMilliseconds() -> UInt64 { now.withLock { $0 } }

    public func set(_ milliseconds: UInt64) { now.withLock { $0 = milliseconds } }

    public func advance(by milliseconds: Int64) {
        now.withLock { $0 = UInt64(max(0, Int64($0) + milliseconds)) }
    }
}
