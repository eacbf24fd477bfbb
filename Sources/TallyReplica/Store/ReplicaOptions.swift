import Logging

/// What a replica is opened with: everything a test or a simulation needs to make a run
/// repeatable is injected here.
public struct ReplicaOptions: Sendable {
    public var wallClock: any WallClock
    /// Largest accepted lead of a remote clock over ours, in milliseconds.
    public var maxDrift: UInt64
    public var durability: Durability
    public var logger: Logger
    /// The columns that say who owns a row (a depot's `route`, `window`), in order of
    /// precedence. For a table with one or more of them the replica records each change's owner in its log (the change's
    /// value of the first of them the table has, else the stored row's) and indexes it, so `changePage(owners:)`
    /// reads only that owner's changes instead of every change. The choice is stored in the
    /// file; nil keeps what the file has (none for a new file).
    public var scopeColumns: [String]?
    /// Tables whose changes all belong to one owner, whatever their columns say: the token
    /// their log rows record (a depot's service tables, which every window reads, under
    /// `*service`). Takes precedence over `scopeColumns` for those tables. Stored in the file
    /// like `scopeColumns`; nil keeps what the file has.
    public var sharedOwners: [String: String]?

    public init(wallClock: any WallClock = SystemWallClock(),
                maxDrift: UInt64 = HybridClock.defaultMaxDrift,
                durability: Durability = .full,
                logger: Logger,
                scopeColumns: [String]? = nil,
                sharedOwners: [String: String]? = nil) {
        self.wallClock = wallClock
        self.maxDrift = maxDrift
        self.durability = durability
        self.logger = logger
        self.scopeColumns = scopeColumns
        self.sharedOwners = sharedOwners
    }

    /// Options with a logger that discards everything.
    public static func quiet(wallClock: any WallClock = SystemWallClock(), durability: Durability = .full) -> ReplicaOptions {
        ReplicaOptions(wallClock: wallClock, durability: durability,
                       logger: Logger(label: "tally.replica", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
