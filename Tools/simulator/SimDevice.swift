import Foundation
import TallyToolSupport
import Logging
import TallyReplica
import TallyRoutes
import TallySync

/// A device's wall clock, off by a fixed amount (a handheld whose clock was never set right),
/// plus a jump the simulator sets for a while (a clock set years or days ahead, then corrected).
final class SkewedClock: WallClock, @unchecked Sendable {  // safe: `jumpMs` is touched under `lock`
    let offsetMs: Int64
    private let lock = NSLock()
    private var jumpMs: Int64 = 0

    init(offsetMs: Int64) { self.offsetMs = offsetMs }

    func jump(_ ms: Int64) { lock.withLock { jumpMs = ms } }

    func nowMilliseconds() -> UInt64 {
        UInt64(max(0, Int64(SystemWallClock().nowMilliseconds()) + offsetMs + lock.withLock { jumpMs }))
    }
}

/// One ledger entry as the simulator recorded it when the device's write returned: its own
/// account, kept apart from anything the code under test stores.
struct Recorded: Sendable, Equatable {
    var kind: String
    var amount: Int64
    var day: String
}

/// A simulated van or service window: its own replica file, joined through the proxy, writing
/// a generated day of signed entries and syncing when it can.
final class SimDevice: @unchecked Sendable {  // safe: each device is driven by one task at a time
    enum Role: String, Sendable { case van, window }

    let name: String
    let role: Role
    /// The van's route or the window's kind.
    let scope: String
    let path: String
    let skewMs: Int64
    /// Days (by index) this device stays offline: it works but never syncs.
    var offlineDays: Range<Int> = 0..<0
    private(set) var replica: Replica?
    private(set) var client: SyncClient?
    /// What this device's writes returned as committed, by entry id.
    private(set) var recorded: [String: Recorded] = [:]
    /// The note this van last wrote on each ticket it noted (a record change, not an entry).
    private(set) var notes: [String: String] = [:]
    /// The ticket a van of `route` writes its notes on (the depot issues it at set-up).
    static func notesTicket(_ route: String) -> String { "\(route)-NOTES" }
    private var serial = 0
    let clock: SkewedClock
    let options: ReplicaOptions

    init(name: String, role: Role, scope: String, path: String, skewMs: Int64) {
        self.name = name
        self.role = role
        self.scope = scope
        self.path = path
        self.skewMs = skewMs
        clock = SkewedClock(offsetMs: skewMs)
        options = .quiet(wallClock: clock)
    }

    static let quiet = Logger(label: "tally.sim", factory: { _ in SwiftLogNoOpLogHandler() })

    func join(url: URL, credential: String) async throws {
        _ = try await SyncClient.join(url: url, credential: credential, replicaPath: path, options: options)
        try open()
    }

    func open() throws {
        let r = try Replica.open(at: path, options: options)
        replica = r
        client = try SyncClient(replica: r, clock: options.wallClock, logger: Self.quiet, pageSize: 2_000)
    }

    /// One sync, as `tally sync` runs it (its file closed meanwhile: a re-baseline replaces it).
    func sync() async throws -> SyncSummary {
        try closeFile()
        defer { try? open() }
        return try await SyncClient.sync(path: path, options: options, logger: Self.quiet)
    }

    func closeFile() throws {
        try replica?.close()
        replica = nil
        client = nil
    }

    /// A day's work: deliveries (a van) or fees (a window), one transaction each as at the
    /// counter, then the day's cash paid in. Each entry is recorded once its write returned.
    func work(day: String, entries: Int, rng: inout SeededGenerator) throws {
        guard let replica else { throw ToolError("\(name) is not open") }
        let key = try DeviceKey.stored(in: replica)
        var cash: Int64 = 0
        for _ in 0..<entries {
            cash += try writeOne(day: day, key: key, rng: &rng)
        }
        if role == .van {
            // A note on the route's ticket the depot issued for them: a record change, which a
            // van away past the depot's compaction gets held for review.
            let ticket = Self.notesTicket(scope)
            let note = "\(name) \(day) #\(serial) 客户要求下周改送后门"
            try replica.write { tx in
                try tx.update("tickets", key: ticket, ["note": .text(note)])
            }
            notes[ticket] = note
        }
        guard cash > 0 else { return }
        serial += 1
        let id = "\(name)-\(day)-\(serial)"
        try replica.write { tx in
            var r = row(kind: .deposit, amount: cash, day: day, ticket: nil)
            r["ref"] = .text("BANK-\(name)-\(day)")
            _ = try EventChain.insert(tx, id: id, r, key: key)
        }
        recorded[id] = Recorded(kind: EventKind.deposit.rawValue, amount: cash, day: day)
    }

    /// One delivery (a van, with the customer's signature image, referenced by its hash) or fee
    /// (a window); recorded once the write returned. Returns the cash it took.
    @discardableResult
    func writeOne(day: String, key: DeviceKey?, rng: inout SeededGenerator, idPrefix: String? = nil) throws -> Int64 {
        guard let replica else { throw ToolError("\(name) is not open") }
        serial += 1
        let id = (idPrefix ?? "\(name)-\(day)-") + String(serial)
        let amount = Int64.random(in: 0...80_000, using: &rng)
        let kind = role == .van ? EventKind.deliver : EventKind.fee
        let image = role == .van ? Array("signature of \(id) ".utf8) + (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) } : nil
        try replica.write { tx in
            var r = row(kind: kind, amount: amount, day: day, ticket: "\(scope)-\(day)-\(serial)")
            if let image { r["ref"] = .text(try tx.putBlob(image)) }
            _ = try EventChain.insert(tx, id: id, r, key: key)
        }
        recorded[id] = Recorded(kind: kind.rawValue, amount: amount, day: day)
        lastWritten = (id, recorded[id]!)  // safe: just set
        return amount
    }

    /// The entry `writeOne` wrote last.
    private(set) var lastWritten: (id: String, entry: Recorded)?

    /// Entries written by a process the simulator ran on this file (`child-sync`), now the
    /// device's.
    func adoptRecorded(_ entries: [String: Recorded]) { recorded.merge(entries) { $1 } }

    /// A van's attempt to rewrite what the order system decides (its notes ticket's amount):
    /// true when the handheld refused it and changed nothing.
    func tryDepotOwnedWrite() throws -> Bool {
        guard let replica else { throw ToolError("\(name) is not open") }
        let before = replica.localSeq
        do {
            try replica.write { tx in try tx.update("tickets", key: Self.notesTicket(scope), ["amount_due": .integer(1)]) }
        } catch ReplicaError.ownedByDepot {
            return replica.localSeq == before
        }
        return false
    }

    func row(kind: EventKind, amount: Int64, day: String, ticket: String?) -> [String: Value] {
        var r: [String: Value] = [
            "kind": .text(kind.rawValue), "amount": .integer(amount), "device": .text(name),
            "day": .text(day), "at": .text("\(day)T10:00:00+08:00"),
        ]
        if kind != .deposit { r["due"] = .integer(amount) }
        if let ticket { r["ticket"] = .text(ticket) }
        if role == .van { r["route"] = .text(scope) } else { r["window"] = .text(scope); r["product"] = .text("F1") }
        return r
    }

    /// Entries a killed writer process committed: the ones it printed must all be in the file;
    /// every one in the file, printed or not, is the device's from now on.
    func adopt(childPrefix: String, printed: Set<String>) throws -> (adopted: Int, lost: [String]) {
        guard let replica else { throw ToolError("\(name) is not open") }
        var found: [String: Recorded] = [:]
        try replica.select("SELECT id, kind, amount, day FROM events WHERE id LIKE ?1", [.text(childPrefix + "%")]) { r in
            found[r[0].text ?? ""] = Recorded(kind: r[1].text ?? "", amount: r[2].integer ?? 0, day: r[3].text ?? "")
        }
        for (id, rec) in found { recorded[id] = rec }
        return (found.count, printed.filter { found[$0] == nil }.sorted())
    }

    /// Own changes the depot has not acknowledged yet.
    func pending() -> Int { ((try? client?.pending()) ?? nil) ?? 0 }
}
