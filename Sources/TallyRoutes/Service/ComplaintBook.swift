import TallyReplica

/// Complaints on one device's replica, offline: recording them (any van or window) and taking
/// their steps (windows only). Every method checks its rules against what this replica holds
/// first and, when it refuses, changes nothing and says what to do instead.
///
/// A complaint is a `complaints` row written once; every later step is an entry in the
/// `service_steps` ledger (`ServiceLedger`), so steps two windows take offline merge as a
/// grow-only set and `ComplaintView` derives the same state from them on every replica.
///
/// Settling a conflict: when two devices decided a judgement, a department or a follow-up's
/// opinion differently, a person records the decision again with `settles: true`. The book
/// writes the deciding step and a `settle` step naming every step of that action this replica
/// holds, in one transaction; those no longer count. A step it did not see (still offline
/// somewhere) still counts when it arrives, and if it disagrees the conflict shows again.
public struct ComplaintBook: Sendable {
    public let replica: Replica
    public let actor: ServiceActor
    let clock: any WallClock

    public init(replica: Replica, actor: ServiceActor, clock: any WallClock = SystemWallClock()) {
        self.replica = replica
        self.actor = actor
        self.clock = clock
    }

    /// The book of a joined replica (van or window): device and scope come from the join;
    /// `person` is the member of staff (the device name when nil).
    public static func joined(_ replica: Replica, person: String? = nil, clock: any WallClock = SystemWallClock()) throws -> ComplaintBook {
        let book = ComplaintBook(replica: replica, actor: try ServiceActor.joined(replica, person: person), clock: clock)
        try ServiceLedger.prepareIndexes(replica)
        return book
    }

    // MARK: - Time

    var nowMilliseconds: UInt64 { clock.nowMilliseconds() }

    // MARK: - Reading

    /// Every complaint this replica holds, oldest first. Works on any replica, the depot's
    /// included (no device needed): what `tally complaint list --data` and reports read.
    /// `steps`: the ledger already read by subject (`ServiceLedger.stepsBySubject`), when the
    /// caller needs it too.
    public static func views(in replica: Replica, now: UInt64, steps: [String: [ServiceStep]]? = nil) throws -> [ComplaintView] {
        let calendar = try WorkCalendar.load(replica)
        let steps = try steps ?? ServiceLedger.stepsBySubject(replica)
        return try replica.rows("complaints").filter(\.isLive).map(Complaint.init)
            .map { ComplaintView(complaint: $0, steps: steps[$0.id] ?? [], calendar: calendar, now: now) }
            .sorted { (ComplaintView.ms($0.openedAt), $0.id) < (ComplaintView.ms($1.openedAt), $1.id) }
    }

    /// One complaint; nil when this replica does not hold it.
    public static func view(_ id: String, in replica: Replica, now: UInt64) throws -> ComplaintView? {
        guard let row = try replica.row("complaints", key: id), row.isLive else { return nil }
        return ComplaintView(complaint: Complaint(row), steps: try ServiceLedger.steps(replica, of: id),
                             calendar: try WorkCalendar.load(replica), now: now)
    }

    /// The complaints on this device, oldest first; only the overdue ones when asked.
    public func list(overdueOnly: Bool = false) throws -> [ComplaintView] {
        try Self.views(in: replica, now: nowMilliseconds).filter { !overdueOnly || $0.overdue }
    }

    /// One complaint, refusing an id this device does not hold.
    public func show(_ id: String) throws -> ComplaintView {
        guard let v = try Self.view(id, in: replica, now: nowMilliseconds) else {
            throw ServiceError.refused("there is no complaint \(id) on this device; `tally complaint list` lists them")
        }
        return v
    }

    /// The complaint just written, as it stands.
    func recorded(_ id: String, now: UInt64) throws -> ComplaintView {
        guard let v = try Self.view(id, in: replica, now: now) else {
            throw ReplicaError.storage("complaint \(id) was written but cannot be read back; check the replica with `tally replica status`")
        }
        return v
    }
}

/// What a step command recorded: the step, the steps it overrode when it settled a conflict,
/// and the complaint as it stands now.
public struct ComplaintStepRecord: Sendable, Equatable {
    public var step: ServiceStep
    /// The ids a `settles` step overrode; empty otherwise.
    public var settled: [String]
    public var view: ComplaintView
}
