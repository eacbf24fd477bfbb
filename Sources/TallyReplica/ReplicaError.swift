import Foundation

/// Why a replica refused an operation. Every case says what happened and what to do; a refused
/// operation has changed nothing.
public enum ReplicaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is not a Tally replica, or is damaged.
    case notAReplica(path: String, reason: String)
    /// A replica already exists where a new one was asked for.
    case alreadyExists(path: String)
    /// The replica was made by a newer Tally, or with a schema this one cannot extend.
    case incompatibleSchema(String)
    /// A change or write names a table or column the schema does not have, or a value of the
    /// wrong type.
    case schemaMismatch(String)
    /// A local write broke a rule (a ledger row written twice with other content, a status moved
    /// backwards, a row updated after deletion...).
    case refused(String)
    /// A device's local write to what only the depot writes (`Writer.depot`): a column, or
    /// creating or deleting a row (`part`).
    case ownedByDepot(table: String, key: String, part: DepotOwnedPart)
    /// A remote clock is too far ahead.
    case clockDrift(ClockDriftError)
    /// A change is malformed (bad sequence number, bad causal length...).
    case invalidChange(String)
    /// SQLite itself failed: disk full, file locked, I/O error.
    case storage(String)
    /// A local write with the device's clock far past the last time its depot confirmed
    /// (`Replica.setClockCeiling`): it would stamp entries with a date that is not today.
    case clockBeyondCeiling(nowMilliseconds: UInt64, ceilingMilliseconds: UInt64)

    public var description: String {
        switch self {
        case .notAReplica(let path, let reason): "\(path) is not a Tally replica (\(reason)); check the path"
        case .alreadyExists(let path): "\(path) already exists; choose another path or remove the old file first"
        case .incompatibleSchema(let s): s
        case .schemaMismatch(let s): s
        case .refused(let s): s
        case .ownedByDepot(let table, let key, .row):
            "\(table) rows come from the depot (the order system decides them): this device cannot create or delete \(table) '\(key)'; "
                + "nothing was written. Ask the depot to correct the order if it is wrong"
        case .ownedByDepot(let table, let key, .column(let column)):
            "\(table).\(column) comes from the depot (the order system decides it): this device cannot change it on \(table) '\(key)'; "
                + "nothing was written. Ask the depot to correct the order if it is wrong"
        case .clockDrift(let e): e.description
        case .invalidChange(let s): "a change was refused as malformed: \(s); nothing from this batch was applied"
        case .storage(let s): "the replica file could not be written or read: \(s)"
        case .clockBeyondCeiling(let now, let ceiling):
            "this device's clock says \(Self.day(now)), more than \(Replica.ceilingDays) days past the depot's time at its last sync "
                + "(\(Self.day(ceiling &- Replica.ceilingMargin))): "
                + "nothing was recorded; set the device's date and time right, then try again"
        }
    }

    /// "2030-01-01": the UTC date of a time in milliseconds.
    static func day(_ ms: UInt64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
