/// The send and receive rules of a hybrid logical clock over an injected wall clock.
///
/// Behaviour at the edges, all deterministic:
/// - The wall clock going backwards never makes the clock go backwards: the last timestamp's
///   milliseconds are kept and the counter advances.
/// - When the counter would pass 65,535 within one millisecond, the clock moves on to the next
///   millisecond with counter 0 ("borrowing" a millisecond from the future). The borrowed time is
///   bounded in practice: it needs 65,536 events in one millisecond.
/// - A remote timestamp more than `maxDrift` milliseconds ahead of the local wall clock is refused
///   with `ClockDriftError`, and the clock is left unchanged, so one device with a clock set to
///   next year cannot drag every replica's clock (and every later write) into the future.
public struct HybridClock: Sendable {
    public let wall: any WallClock
    /// Largest accepted lead of a remote timestamp over the local wall clock, in milliseconds.
    public var maxDrift: UInt64
    /// The last timestamp this clock issued or received.
    public private(set) var last: HLC

    /// Five minutes: a handheld whose clock is further ahead is told to fix it.
    public static let defaultMaxDrift: UInt64 = 5 * 60 * 1000

    public init(wall: any WallClock, last: HLC = .zero, maxDrift: UInt64 = HybridClock.defaultMaxDrift) {
        self.wall = wall
        self.last = last
        self.maxDrift = maxDrift
    }

    /// A new timestamp for a local event (the "send" rule): greater than every timestamp seen.
    public mutating func tick() -> HLC {
        let pt = min(wall.nowMilliseconds(), HLC.maxMilliseconds)
        let next: HLC
        if pt > last.milliseconds {
            next = HLC(milliseconds: pt, counter: 0)
        } else {
            next = Self.bump(last.milliseconds, last.counter)
        }
        last = next
        return next
    }

    /// Checks a remote timestamp against the drift bound without changing the clock.
    public func check(_ remote: HLC) throws(ClockDriftError) {
        let pt = wall.nowMilliseconds()
        let (limit, overflow) = pt.addingReportingOverflow(maxDrift)
        if !overflow && remote.milliseconds > limit {
            throw ClockDriftError(remote: remote, localMilliseconds: pt, maxDrift: maxDrift)
        }
    }

    /// Takes a remote timestamp into account (the "receive" rule); afterwards every local tick is
    /// greater than `remote`. Returns the clock's new value.
    @discardableResult
    public mutating func receive(_ remote: HLC) throws(ClockDriftError) -> HLC {
        try check(remote)
        let pt = min(wall.nowMilliseconds(), HLC.maxMilliseconds)
        let l = max(last.milliseconds, remote.milliseconds, pt)
        let next: HLC
        if l == last.milliseconds && l == remote.milliseconds {
            next = Self.bump(l, max(last.counter, remote.counter))
        } else if l == last.milliseconds {
            next = Self.bump(l, last.counter)
        } else if l == remote.milliseconds {
            next = Self.bump(l, remote.counter)
        } else {
            next = HLC(milliseconds: l, counter: 0)
        }
        last = next
        return next
    }

    /// The receive rule without the drift bound, for timestamps a trusted peer already checked.
    public mutating func absorb(_ remote: HLC) {
        let bound = maxDrift
        maxDrift = .max
        _ = try? receive(remote)
        maxDrift = bound
    }

    /// Advances without consulting the wall clock: counter + 1, or the next millisecond when the
    /// counter is exhausted.
    private static func bump(_ ms: UInt64, _ counter: UInt16) -> HLC {
        if counter == HLC.maxCounter {
            return HLC(milliseconds: min(ms + 1, HLC.maxMilliseconds), counter: 0)
        }
        return HLC(milliseconds: ms, counter: counter + 1)
    }
}

/// A remote timestamp is further ahead of this device's clock than the drift bound allows.
public struct ClockDriftError: Error, Sendable, Equatable, CustomStringConvertible {
    public let remote: HLC
    public let localMilliseconds: UInt64
    public let maxDrift: UInt64

    public var aheadMilliseconds: UInt64 { remote.milliseconds &- localMilliseconds }

    public var description: String {
        let ahead = Double(aheadMilliseconds) / 1000
        let bound = Double(maxDrift) / 1000
        return "a change is stamped \(Int(ahead.rounded())) s ahead of this device's clock (the limit is \(Int(bound)) s): "
            + "check the date and time on the device that made it, or on this one, then sync again"
    }
}
