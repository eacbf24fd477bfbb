import Logging

/// What a replica is opened with: everything a test or a simulation needs to make a run
/// repeatable is injected here.
public struct ReplicaOptions: Sendable {
    public var wallClock: any WallClock
    /// Largest accepted lead of a remote clock over ours, in milliseconds.
    public var maxDrift: UInt64
    public var durability: Durability
    public var logger: Logger

    public init(wallClock: any WallClock = SystemWallClock(),
                maxDrift: UInt64 = HybridClock.defaultMaxDrift,
                durability: Durability = .full,
                logger: Logger) {
        self.wallClock = wallClock
        self.maxDrift = maxDrift
        self.durability = durability
        self.logger = logger
    }

    /// Options with a logger that discards everything.
    public static func quiet(wallClock: any WallClock = SystemWallClock(), durability: Durability = .full) -> ReplicaOptions {
        ReplicaOptions(wallClock: wallClock, durability: durability,
                       logger: Logger(label: "tally.replica", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
