import TallyProtocol
import TallyReplica

/// Which rows a device may see and write: partial replication and the rule that a device
/// writes only what it owns.
public protocol ScopePolicy: Sendable {
    /// Whether the device may receive this change.
    func canRead(_ change: Change, device: DeviceRecord, rows: RowReader) throws -> Bool
    /// Nil when the device may write this change, otherwise why not.
    func refusal(_ change: Change, device: DeviceRecord, rows: RowReader) throws -> ScopeRefusal?
    /// Which rows of a table go into the device's starting snapshot.
    func snapshotRows(_ table: TableSchema, device: DeviceRecord) -> SnapshotRows
    /// The owner values (of `ColumnScopePolicy.scopeColumns`, or a shared table's token) whose
    /// changes a pull need examine, besides those without an owner; nil to examine every
    /// change. Only narrows what `canRead` is asked about, through the depot log's owner index.
    func pageOwners(device: DeviceRecord) -> [String]?
}

/// Why the depot refuses a device's change: the kind (its wire code and audit action) and words
/// for the audit log and the refusal.
public struct ScopeRefusal: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A row of another route or window, or a table the device's role does not write.
        case outOfScope
        /// What the order system decides (`Writer.depot`): only the depot's import writes it.
        case ownedByDepot
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The answer to the push, saying that nothing of it was stored and where the attempt is.
    public var wireError: WireError {
        let m = "\(message); nothing from this push was stored. The attempt is in the depot's audit log."
        switch kind {
        case .outOfScope: return .outOfScope(m)
        case .ownedByDepot: return .ownedByDepot(m)
        }
    }

    /// The depot's audit action for the attempt.
    public var auditAction: String {
        switch kind {
        case .outOfScope: "refused_write"
        case .ownedByDepot: AuditAction.refusedDepotOwned
        }
    }
}

/// Scope by column: a row with a `route` belongs to the van of that route, a row with a
/// `window` to the windows of that kind; tables with neither are reference data every device
/// reads and only the depot writes. Accountants read everything and write nothing through sync.
///
/// Service tables (`serviceTables`: requests, complaints and their steps) are the service
/// hall's shared book: every window reads all of them (a joint request is seen and signed by
/// each department, and its owner sees every sign-off), while each row is still written only by
/// the device its own `route` or `window` names. Vans write complaints there but read none.
public struct ColumnScopePolicy: ScopePolicy {
    public let schema: Schema
    public let serviceTables: Set<String>

    public init(schema: Schema, serviceTables: Set<String> = Self.serviceTables) {
        self.schema = schema
        self.serviceTables = serviceTables
    }

    /// The tables every window reads.
    public static let serviceTables: Set<String> = ["requests", "complaints", "service_steps"]
    /// The owner the depot's log records for every change of a service table.
    public static let serviceOwner = "*service"
    /// What the depot's replica is opened with (`ReplicaOptions.sharedOwners`).
    public static let sharedOwners: [String: String] = Dictionary(uniqueKeysWithValues: serviceTables.map { ($0, serviceOwner) })

    static func column(for role: DeviceRole) -> String? {
        switch role {
        case .van: "route"
        case .window: "window"
        case .accountant: nil
        }
    }

    /// The columns that name a row's owner, in precedence; the depot's replica indexes its
    /// change log by them (`ReplicaOptions.scopeColumns`).
    public static let scopeColumns: [String] = ["route", "window"]

    func isReference(_ table: TableSchema) -> Bool {
        !table.columns.contains { Self.scopeColumns.contains($0.name) }
    }

    /// The row's owner for this role: the change's own value, else the stored row's.
    func owner(_ change: Change, column: String, rows: RowReader) throws -> String? {
        if let v = change.value(column) { return v.text }
        return try rows.text(change.table, key: change.key, column: column)
    }

    public func canRead(_ change: Change, device: DeviceRecord, rows: RowReader) throws -> Bool {
        guard let table = schema.table(named: change.table) else { return false }
        if device.role == .accountant || isReference(table) { return true }
        if serviceTables.contains(table.name) { return device.role == .window }
        guard let column = Self.column(for: device.role), table.columnIndex(column) != nil else { return false }
        return try owner(change, column: column, rows: rows) == device.scope
    }

    public func pageOwners(device: DeviceRecord) -> [String]? {
        guard Self.column(for: device.role) != nil, let scope = device.scope else { return nil }
        return device.role == .window ? [scope, Self.serviceOwner] : [scope]
    }

    public func snapshotRows(_ table: TableSchema, device: DeviceRecord) -> SnapshotRows {
        if device.role == .accountant || isReference(table) { return .all }
        if serviceTables.contains(table.name) { return device.role == .window ? .all : .none }
        guard let column = Self.column(for: device.role), table.columnIndex(column) != nil, let scope = device.scope else { return .none }
        return .matching(column: column, value: scope)
    }

    public func refusal(_ change: Change, device: DeviceRecord, rows: RowReader) throws -> ScopeRefusal? {
        guard let table = schema.table(named: change.table) else { return nil }  // the engine refuses unknown tables itself
        if let why = try scopeRefusal(change, table, device: device, rows: rows) { return ScopeRefusal(.outOfScope, why) }
        return try ownershipRefusal(change, table, rows: rows)
    }

    func scopeRefusal(_ change: Change, _ table: TableSchema, device: DeviceRecord, rows: RowReader) throws -> String? {
        if device.role == .accountant { return "an accountant's device does not write \(change.table) rows through sync" }
        if isReference(table) { return "\(change.table) is reference data kept by the depot; a \(device.role.rawValue) cannot change it" }
        guard let column = Self.column(for: device.role), table.columnIndex(column) != nil else {
            return "\(change.table) rows do not belong to a \(device.role.rawValue)"
        }
        // One read of the stored owner serves both checks.
        let stored = try rows.text(change.table, key: change.key, column: column)
        let target = change.value(column).map(\.text) ?? stored
        if let stored, stored != device.scope {
            return "\(change.table) '\(change.key)' belongs to \(column) \(stored), not to this device's \(column) \(device.scope ?? "?")"
        }
        guard target == device.scope else {
            return "\(change.table) '\(change.key)' names \(column) \(target ?? "none"), not this device's \(column) \(device.scope ?? "?")"
        }
        return nil
    }

    /// A device's change to what the order system decides (design invariant 6): judged from the
    /// change itself and the depot's stored row, never from anything the device says about it,
    /// so a change forged into the device's log (the sqlite3 shell) is refused like any other.
    func ownershipRefusal(_ change: Change, _ table: TableSchema, rows: RowReader) throws -> ScopeRefusal? {
        guard table.hasDepotOwnedParts else { return nil }
        let stored = table.writer == .depot ? try rows.row(change.table, key: change.key)?.causalLength ?? 0 : change.cl
        guard let part = table.depotOwnedPart(setting: change.values.map(\.column), causalLength: change.cl, stored: stored) else { return nil }
        switch part {
        case .row:
            return ScopeRefusal(.ownedByDepot, "\(change.table) rows come from the depot's import (the order system decides them); "
                + "a device cannot \(change.isDelete ? "delete" : "create") \(change.table) '\(change.key)'")
        case .column(let c):
            let value = change.value(c).map { " to \($0)" } ?? ""
            return ScopeRefusal(.ownedByDepot, "\(change.table).\(c) of '\(change.key)' comes from the depot's import (the order system decides it); "
                + "a device cannot set it\(value)")
        }
    }
}
