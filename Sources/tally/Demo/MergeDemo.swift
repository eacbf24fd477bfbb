import Foundation
import TallyReplica
import TallyRoutes

/// The merge demo: a depot and two vans edit replica files offline, concurrently, then merge in different
/// orders with repeated deliveries, and end holding the same state and the same conflict.
struct MergeDemo {
    static let deviceNames = ["depot", "van-07", "van-08"]
    /// 2026-11-28 08:00 in Beijing (UTC+8).
    static let dayStart: UInt64 = 1_795_824_000_000

    let folder: URL
    let seed: UInt64

    func run() throws -> Bool {
        var rng = SeededGenerator(seed: seed)
        var clocks: [String: ManualWallClock] = [:]
        var replicas: [String: Replica] = [:]
        for name in Self.deviceNames {
            let clock = ManualWallClock(milliseconds: Self.dayStart)
            clocks[name] = clock
            replicas[name] = try Replica.create(
                at: folder.appendingPathComponent("\(name).sqlite").path, schema: RouteSchema.current,
                site: .random(using: &rng), options: ReplicaOptions(wallClock: clock, durability: .normal, logger: cliLogger))
        }
        let depot = replicas["depot"]!, van7 = replicas["van-07"]!, van8 = replicas["van-08"]!  // safe: created just above
        func at(_ hhmm: String, _ devices: String...) {
            let parts = hhmm.split(separator: ":").compactMap { UInt64($0) }
            let ms = Self.dayStart + ((parts[0] - 8) * 60 + parts[1]) * 60_000
            for d in devices { clocks[d]?.set(ms) }
        }
        func merge(_ from: String, into: String, note: String = "", replayAll: Bool = false) throws {
            let source = replicas[from]!, target = replicas[into]!  // safe: names from deviceNames
            // A replay sends the whole log again, as a device that lost its sync cursor would.
            let r = replayAll ? try target.apply(try source.changes(since: VersionVector())) : try target.merge(from: source)
            let extra = note.isEmpty ? "" : "  (\(note))"
            Console.out("  \(from.padding(toLength: 6, withPad: " ", startingAt: 0)) → \(into.padding(toLength: 6, withPad: " ", startingAt: 0))  \(String(r.applied).leftPad(3)) new, \(String(r.duplicates).leftPad(3)) already held\(r.conflictsOpened > 0 ? ", \(r.conflictsOpened) conflict opened" : "")\(extra)")
        }

        Console.out("Tally demo: a depot and two vans, each with its own replica, working offline.")
        Console.out("Replicas in \(folder.path)\n")

        Console.out("08:00  The depot loads the day for route R07 and both vans take a copy.")
        at("08:00", "depot")
        try depot.write { tx in
            for (code, name, addr, phone) in [("C10023", "张记便利店", "幸福路12号", "13800000000"),
                                              ("C10024", "李家超市", "人民路8号", "13800000001"),
                                              ("C10031", "王氏烟酒行", "解放街3号", "13800000002")] {
                try tx.insert("customers", key: code, ["route": "R07", "name": .text(name), "address": .text(addr), "phone": .text(phone)])
            }
            for (t, stop, cust, pay, due) in [("T0001", 1, "C10023", "cash", 45_000), ("T0002", 2, "C10024", "cash", 12_050),
                                              ("T0003", 3, "C10031", "electronic", 90_000)] {
                try tx.insert("tickets", key: t, ["date": "2026-11-28", "route": "R07", "stop": .integer(Int64(stop)),
                                                  "customer": .text(cust), "payment": .text(pay), "amount_due": .integer(Int64(due)),
                                                  "status": "planned"])
            }
        }
        try merge("depot", into: "van-07")
        try merge("depot", into: "van-08")

        Console.out("\n09:00–11:30  No network. Each replica records on its own:")
        at("09:10", "van-07")
        try van7.write { tx in
            try tx.update("tickets", key: "T0001", ["status": "delivered"])
            try tx.insert("events", key: "E-van07-0001", ["route": "R07", "ticket": "T0001", "kind": "cash", "amount": 45_000, "device": "van-07", "at": "2026-11-28T09:10:00+08:00"])
        }
        Console.out("  van-07  T0001 delivered to 张记便利店, cash 450.00 collected")
        at("09:40", "van-07")
        try van7.write { tx in
            try tx.update("tickets", key: "T0002", ["status": "refused", "note": "店主不在，拒收"])
            try tx.insert("events", key: "E-van07-0002", ["route": "R07", "ticket": "T0002", "kind": "refusal", "amount": 0, "device": "van-07", "at": "2026-11-28T09:40:00+08:00", "ref": "closed"])
        }
        Console.out("  van-07  T0002 refused at 李家超市 (owner away)")
        at("10:05", "van-08")
        try van8.write { tx in
            try tx.update("tickets", key: "T0002", ["status": "delivered"])
            try tx.insert("events", key: "E-van08-0001", ["route": "R07", "ticket": "T0002", "kind": "cash", "amount": 12_050, "device": "van-08", "at": "2026-11-28T10:05:00+08:00"])
            try tx.update("tickets", key: "T0003", ["status": "delivered"])
        }
        Console.out("  van-08  relief van: T0002 delivered to 李家超市 after all, cash 120.50; T0003 delivered (paid electronically)")
        at("10:30", "depot")
        try depot.write { tx in try tx.update("customers", key: "C10023", ["phone": "13911112222"]) }
        Console.out("  depot   张记便利店's phone changed to 13911112222 (10:30)")
        at("11:15", "van-07")
        try van7.write { tx in try tx.update("customers", key: "C10023", ["phone": "13933334444"]) }
        Console.out("  van-07  张记便利店's phone changed to 13933334444 (11:15, told by the shop)")

        Console.out("\n12:00–18:00  The replicas meet in different orders; some batches arrive twice:")
        at("12:00", "depot", "van-07", "van-08")
        try merge("van-07", into: "depot")
        try merge("van-07", into: "depot", note: "van-07 lost its cursor and sends its whole log again", replayAll: true)
        try merge("van-07", into: "van-08", note: "vans swap files at lunch")
        try merge("van-08", into: "depot", note: "everything van-08 holds, van-07's events included", replayAll: true)
        try merge("depot", into: "van-07")
        try merge("depot", into: "van-08")
        try merge("van-08", into: "van-07")

        Console.out("\nAt day end:")
        var table = TextTable(["replica", "digest", "tickets", "events", "cash collected", "conflicts"], rightAligned: [2, 3, 4, 5])
        var digests = Set<String>()
        var conflictSets = Set<[ConflictRecord]>()
        for name in Self.deviceNames {
            let r = replicas[name]!  // safe: names from deviceNames
            let digest = try r.digest()
            digests.insert(digest)
            let events = try r.rows("events")
            let cash = events.filter { $0["kind"] == "cash" }.reduce(Money.zero) { $0 + Money(minorUnits: $1["amount"].integer ?? 0) }
            let conflicts = try r.conflicts()
            conflictSets.insert(conflicts)
            table.add([name, String(digest.prefix(16)), String(try r.rows("tickets").count), String(events.count), cash.description, String(conflicts.count)])
        }
        Console.out(table.render())
        let phone = try depot.row("customers", key: "C10023")?["phone"].text ?? "?"
        Console.out("""

            - 张记便利店's phone is \(phone) everywhere: concurrent edits of a descriptive field, the later one wins.
            - Each cash event is counted once, however many times it arrived: 450.00 + 120.50 = 570.50.
            """)
        for c in try depot.conflicts() {
            Console.out("- \(c.table) \(c.key) \(c.column) is \(c.values.joined(separator: " and ")) on every replica: a conflict kept for a person to settle, never resolved silently.")
        }
        let converged = digests.count == 1 && conflictSets.count == 1
        Console.out(converged
            ? "\nConverged: all \(Self.deviceNames.count) replicas hold the same state (digest \(digests.first!.prefix(16))…)."  // safe: count == 1
            : "\nNOT converged: \(digests.count) different digests. This is a bug; please report it with the seed \(seed).")
        return converged
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        String(repeating: " ", count: max(0, width - count)) + self
    }
}
