import Foundation
import Logging
import TallyDepot
import TallyReconcile
import TallyReplica
import TallyRoutes
import TallySync

/// The product's main job, simulated end to end in one process: a depot serving on a loopback
/// port, a made-up manifest of three routes, three vans that join and sync, then work their
/// routes with the depot out of reach, come back, sync and close their day.
///
/// Everything runs on one simulated clock (the day of 2026-11-28 in Beijing), so the story reads
/// the same on every run; only ports and timings differ.
struct RouteDayDemo {
    struct Van: Sendable {
        var name: String
        var route: String
    }

    static let vans = [Van(name: "van-01", route: "R01"), Van(name: "van-02", route: "R02"), Van(name: "van-03", route: "R03")]
    static let date = "2026-11-28"
    /// 2026-11-28 00:00 in Beijing (UTC+8).
    static let midnight: UInt64 = 1_795_795_200_000

    let folder: URL
    let seed: UInt64
    let clock = ManualWallClock(milliseconds: RouteDayDemo.midnight)
    let logger: Logger = {
        var l = Logger(label: "tally.demo")
        l.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["TALLY_LOG"] ?? "") ?? .critical
        return l
    }()

    func at(_ hhmm: String) {
        let p = hhmm.split(separator: ":").compactMap { UInt64($0) }
        clock.set(Self.midnight + (p[0] * 60 + p[1]) * 60_000)
    }

    var options: ReplicaOptions { ReplicaOptions(wallClock: clock, durability: .normal, logger: logger) }

    func say(_ s: String) { Console.out(s) }

    func run() async throws -> Bool {
        let started = DispatchTime.now()
        let depotData = DepotFolder(folder.appendingPathComponent("depot").path)
        say("Tally demo: one day of three delivery vans, \(Self.date), in \(folder.path)\n")

        // 07:00 The depot gets the day's manifest and enrolls the vans.
        at("07:00")
        try depotData.create(schema: RouteSchema.current, options: options)
        let depotReplica = try depotData.replica(schema: RouteSchema.current, options: options)
        let registry = try depotData.registry(clock: clock)
        let csv = SampleManifest(date: Self.date, routes: Self.vans.map(\.route), ticketsPerRoute: 30, seed: seed).csv()
        try csv.write(to: folder.appendingPathComponent("manifest.csv"), atomically: true, encoding: .utf8)
        let imported = try ManifestImport.run(try Manifest.parse(Array(csv.utf8)), into: depotReplica)
        say("07:00  depot   imported manifest.csv: \(imported.tickets) tickets, \(imported.lines) lines, \(imported.cartons) cartons on routes \(Self.vans.map(\.route).joined(separator: ", "))")
        var credentials: [String: String] = [:]
        for v in Self.vans {
            credentials[v.name] = try registry.enroll(name: v.name, role: .van, scope: v.route).1.token
        }
        say("       depot   enrolled \(Self.vans.map(\.name).joined(separator: ", ")), one per route")
        let windowCredentials = try HallDayDemo.enroll(registry)
        say("       depot   enrolled the service hall's windows \(HallDayDemo.windows.map { "\($0.name) (\($0.kind))" }.joined(separator: ", "))")

        var depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: 0)
        let url = URL(string: "http://127.0.0.1:\(depot.port)")!  // safe: a literal URL with a number
        say("       depot   serving sync on \(url.absoluteString)\n")

        // 07:30 The vans join and take their routes.
        at("07:30")
        var books: [String: VanBook] = [:]
        var clients: [String: SyncClient] = [:]
        for v in Self.vans {
            let path = folder.appendingPathComponent("\(v.name).sqlite").path
            _ = try await SyncClient.join(url: url, credential: credentials[v.name]!, replicaPath: path, options: options)  // safe: enrolled above
            let replica = try Replica.open(at: path, options: options)
            let client = try SyncClient(replica: replica, clock: clock, logger: logger)
            let s = try await client.sync()
            let book = try VanBook.joined(replica, clock: clock)
            books[v.name] = book
            clients[v.name] = client
            let tickets = try book.tickets()
            say("07:30  \(v.name)  joined for route \(v.route) and synced (\(s.milliseconds) ms): \(tickets.count) tickets, \(tickets.reduce(0) { $0 + $1.cartonsExpected }) cartons")
        }

        // 07:45 Before leaving: vehicle check, odometer, load-out. van-02 is one carton short.
        at("07:45")
        var shortage: (ticket: String, product: String, name: String)?
        for (i, v) in Self.vans.enumerated() {
            let book = books[v.name]!  // safe: every van joined above
            try book.vehicleCheck(fault: nil)
            try book.logOdometer(18_200 + 1_000 * i, note: "出车 leaving the depot")
            var counts: [String: Int] = [:]
            if v.name == "van-02", let t = try book.tickets().first(where: { $0.stop >= 6 && $0.payment == "cash" }),
               let line = try book.show(t.ticket).1.first {
                shortage = (t.ticket, line.product, line.name)
                let expected = try book.loadOut(counts: [:]).counts
                // Counted again at the dock: one carton fewer than the manifest says.
                try book.void(try book.events().last { $0.kind == EventKind.loadOut.rawValue }!.id, reason: "recount at the dock")  // safe: just recorded
                counts[line.product] = (expected.first { $0.product == line.product }?.expected ?? 1) - 1
            }
            let load = try book.loadOut(counts: counts)
            say("07:45  \(v.name)  vehicle check ok, odometer \(18_200 + 1_000 * i) km, loaded \(load.counts.reduce(0) { $0 + $1.counted }) cartons"
                + (load.differences.isEmpty ? " as the manifest says" : ": " + load.differences.map { "\($0.name) \($0.difference)" }.joined(separator: ", ") + " (recorded)"))
        }

        // 08:00 Out of reach.
        at("08:00")
        try await depot.stop()
        say("\n08:00  The vans leave; from here on the depot cannot be reached.")
        say("08:00  van-01  tries to sync: " + (await Self.attempt(clients["van-01"]!)))  // safe: joined above

        // 08:20–15:50 Deliveries, stop by stop, offline.
        var rng = SeededGenerator(seed: seed ^ 0x51_6E_61_74)
        var counters: [String: (delivered: Int, refused: Int, cash: Money)] = [:]
        for stop in 1...30 {
            at(String(format: "%02d:%02d", 8 + (stop * 15 + 5) / 60, (stop * 15 + 5) % 60))
            let time = String(format: "%02d:%02d", 8 + (stop * 15 + 5) / 60, (stop * 15 + 5) % 60)
            for v in Self.vans {
                let book = books[v.name]!  // safe: every van joined above
                guard let t = try book.tickets().first(where: { $0.stop == stop }) else { continue }
                let who = "\(time)  \(v.name)"
                let cartons = try book.replica.rows("cartons", where: "ticket", is: .text(t.ticket))
                var codes = cartons.map(\.key)

                if v.name == "van-01" && stop == 7 {
                    try book.refuse(t.ticket, reason: "closed", note: "店门紧锁，电话无人接听")
                    say("\(who)  \(t.ticket) \(t.customerName): shop closed, nobody answers the phone: refusal recorded (closed); goods stay on the van")
                    counters[v.name, default: (0, 0, .zero)].refused += 1
                    continue
                }
                if v.name == "van-01" && stop == 3, let next = try book.tickets().first(where: { $0.stop == 4 }),
                   let wrong = try book.replica.rows("cartons", where: "ticket", is: .text(next.ticket)).first {
                    do {
                        _ = try book.scan(t.ticket, codes: [codes[0], wrong.key])
                    } catch let e as VanError {
                        say("\(who)  \(t.ticket) \(t.customerName): scanner beeps: \(e.description)")
                    }
                }
                if v.name == "van-03" && stop == 4 {
                    let first = try book.scan(t.ticket, codes: [codes[0]])
                    let again = try book.scan(t.ticket, codes: [codes[0]])
                    say("\(who)  \(t.ticket) \(t.customerName): carton \(codes[0]) scanned twice: \(first[0].result.rawValue), then \(again[0].detail)")
                }
                var short: [String: Int] = [:]
                if let s = shortage, v.name == "van-02", s.ticket == t.ticket {
                    short[s.product] = 1
                    codes.removeAll { $0 == cartons.last { $0["product_code"].text == s.product }?.key }
                }
                _ = try book.scan(t.ticket, codes: codes)
                let signature = Self.signature(&rng)
                var cash: Money?
                var partial: String?
                let value = try book.show(t.ticket).1.reduce(Money.zero) { sum, l in
                    sum + Money(minorUnits: l.unitPrice.minorUnits * Int64(l.quantity - (short[l.product] ?? 0)))
                }
                if t.payment == "cash" {
                    cash = value
                    if v.name == "van-02" && stop == 12 {
                        cash = Money(minorUnits: value.minorUnits / 2)
                        partial = "店主现金不足，余款下次结清 (owner short of cash, pays the rest next time)"
                    }
                }
                let r = try book.deliver(DeliveryRequest(ticket: t.ticket, signature: signature, signer: String(t.customerName.prefix(1)) + "老板",
                                                         cash: cash, short: short, partialReason: partial))
                counters[v.name, default: (0, 0, .zero)].delivered += 1
                counters[v.name, default: (0, 0, .zero)].cash += r.handover.cash
                if !short.isEmpty, let s = shortage {
                    say("\(who)  \(t.ticket) \(t.customerName): 1 × \(s.name) missing from the van: delivered short, value \(r.handover.value), cash \(r.handover.cash)")
                    let owner = String(t.customerName.prefix(1)) + "老板"
                    let c = try ComplaintBook.joined(book.replica, person: "司机小王", clock: clock).open(ComplaintRequest(
                        about: t.ticket, byName: owner, phone: "13900000037", text: "少送了一条\(s.name)，上周也少过", wants: "尽快补送并说明原因"))
                    say("\(who)  \(t.ticket) \(t.customerName): \(owner) complains; the driver records it offline as \(c.id)")
                } else if partial != nil {
                    say("\(who)  \(t.ticket) \(t.customerName): the owner pays \(r.handover.cash) of \(r.handover.value): part payment recorded with its reason")
                }
                if v.name == "van-03" && stop == 9, let line = r.handover.lines.first {
                    let e = try book.returnGoods(t.ticket, product: line.product, qty: 1, reason: "damaged", note: "外包装破损")
                    say("\(who)  \(t.ticket) \(t.customerName): one carton of \(line.name) found damaged when counting: taken back, credit \(e.due)\(e.amount > .zero ? ", \(e.amount) paid back" : "")")
                }
            }
            if stop % 10 == 0 {
                say("\(time)  " + Self.vans.map { v in
                    let c = counters[v.name, default: (0, 0, .zero)]
                    return "\(v.name) \(c.delivered) delivered\(c.refused > 0 ? ", \(c.refused) refused" : ""), cash \(c.cash)"
                }.joined(separator: "; "))
            }
        }

        // 16:30 Cash to the bank; odometer.
        at("16:30")
        say("")
        var bank: [String] = ["date,account,amount,reference"]
        for (i, v) in Self.vans.enumerated() {
            let book = books[v.name]!  // safe: every van joined above
            let onHand = try book.daySummary().cashOnHand
            // van-03's driver pays in 50.00 less than he holds: the settlement will show it.
            let paidIn = v.name == "van-03" ? onHand - Money(minorUnits: 5_000) : onHand
            let ref = "ICBC-\(Self.date.replacingOccurrences(of: "-", with: ""))-\(String(format: "%04d", i + 1))"
            try book.deposit(paidIn, bankRef: ref, slip: Array("deposit slip \(v.name) \(paidIn)".utf8))
            // The bank's statement: van-02's line carries the bank's own reference, matched by amount.
            bank.append("\(Self.date),6222020200112233,\(paidIn),\(v.name == "van-02" ? "CASH DEP 88213" : ref)")
            try book.logOdometer(18_200 + 1_000 * i + 96 + 7 * i, note: "收车 back at the depot")
            let back = try book.loadIn(counts: [:]).counts.reduce(0) { $0 + $1.counted }
            say("16:30  \(v.name)  deposited \(paidIn) at the bank\(paidIn != onHand ? " (holds \(onHand))" : ""); odometer \(18_200 + 1_000 * i + 96 + 7 * i) km; \(back) carton\(back == 1 ? "" : "s") back at the depot")
        }
        if let receipt = try? books["van-02"]!.receipt(shortage?.ticket ?? "", verify: true) {  // safe: joined above
            say("16:40  van-02  receipt \(receipt.handover.ticket) verified: \(receipt.checks?.map { "\($0.check) \($0.ok ? "ok" : "FAILED")" }.joined(separator: ", ") ?? "")")
        }
        do {
            _ = try books["van-01"]!.closeDay(unsynced: Unsynced(changes: try clients["van-01"]!.pending(), blobs: try clients["van-01"]!.pendingBlobs()))  // safe: joined above
        } catch let e as VanError {
            say("16:45  van-01  tries to close the day: \(e.description)")
        }

        // The service hall's day, on the same clock (told after the vans').
        var hall = HallDayDemo(folder: folder, clock: clock, options: options, logger: logger, at: at)
        try await hall.day(depotReplica: depotReplica, registry: registry, credentials: windowCredentials, port: depot.port)

        // 17:30 Back at the depot: sync, close the day, sync the summary.
        at("17:30")
        depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: depot.port)
        say("\n17:30  The vans are back; the depot answers again on the same address.")
        var ok = true
        for v in Self.vans {
            let book = books[v.name]!, client = clients[v.name]!  // safe: every van joined above
            let s = try await client.sync()
            say("17:30  \(v.name)  synced: pushed \(s.pushed) changes and \(s.blobsUp) images, \(ByteCount.format(s.bytesSent)) sent, \(s.milliseconds) ms")
            // van-03's driver cannot find the 50.00 he kept back: he declares it missing at the close.
            let kept = try book.daySummary().cashOnHand
            let (id, summary) = try book.closeDay(unsynced: Unsynced(changes: try client.pending(), blobs: try client.pendingBlobs()),
                                                  missing: kept > .zero ? kept : nil,
                                                  reason: kept > .zero ? "司机找不到这笔现金，待查 (the driver cannot find it; to be looked into)" : nil)
            _ = try await client.sync()
            say("\n\(v.name) closed the day (\(id)), summary sent to the depot:")
            say(DaySummaryText.render(summary).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            say("")
        }
        try await hall.close()
        try await depot.stop()

        // What the depot holds: every van's entries exactly once, every signature image.
        let ledger = DayLedger(try depotReplica.rows("events", where: "day", is: .text(Self.date)))
        for v in Self.vans {
            let vanIDs = Set(try books[v.name]!.replica.rows("events", where: "day", is: .text(Self.date)).map(\.key))  // safe: joined above
            let depotIDs = Set(ledger.all.filter { $0.route == v.route }.map(\.id))
            if vanIDs != depotIDs {
                ok = false
                say("MISMATCH: \(v.name) holds \(vanIDs.count) entries, the depot \(depotIDs.count) for \(v.route). This is a bug; please report it with the seed \(seed).")
            }
        }
        let deliveries = ledger.active(.deliver)
        let missingImages = try deliveries.filter { !(try depotReplica.hasBlob($0.ref ?? "")) }.count
        if missingImages > 0 { ok = false }
        let collected = deliveries.reduce(Money.zero) { $0 + $1.amount }
        let paidBack = ledger.active(.return).reduce(Money.zero) { $0 + $1.amount }
        let deposited = ledger.active(.deposit).filter { $0.window == nil }.reduce(Money.zero) { $0 + $1.amount }
        // The hall: every window's entries exactly once, every fee paid in.
        for w in HallDayDemo.windows {
            let here = Set(try hall.book(w.name).replica.rows("events", where: "day", is: .text(Self.date)).map(\.key))
            let there = Set(ledger.all.filter { $0.device == w.name }.map(\.id))
            if here != there {
                ok = false
                say("MISMATCH: \(w.name) holds \(here.count) entries, the depot \(there.count). This is a bug; please report it with the seed \(seed).")
            }
        }
        let fees = ledger.active(.fee).reduce(Money.zero) { $0 + $1.amount }
        let feesPaidIn = ledger.active(.deposit).filter { $0.window != nil }.reduce(Money.zero) { $0 + $1.amount }
        if fees != feesPaidIn { ok = false }
        let kept = Money(minorUnits: 5_000)
        if collected - paidBack - kept != deposited { ok = false }
        // 18:00 The accountant: the bank's statement, the day's settlement, an approval.
        at("18:00")
        let store = try SettlementStore(path: folder.appendingPathComponent("depot/settlement.sqlite").path, clock: clock)
        let statement = (bank + hall.bankLines).joined(separator: "\r\n") + "\r\n"
        try statement.write(to: folder.appendingPathComponent("bank.csv"), atomically: true, encoding: .utf8)
        let lines = try BankStatement.parse(Array(statement.utf8))
        _ = try store.importBank(lines, file: "bank.csv")
        let devices = try registry.settlementDevices()
        let reconciler = Reconciler(replica: depotReplica, store: store, devices: devices)
        try reconciler.prepareIndexes()
        let rec = try reconciler.reconcile(date: Self.date)
        say("\n18:00  accountant  imported bank.csv (\(lines.count) lines) and settles the day:\n")
        say(ReconcileText.table(rec).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        // Every difference between expected, collected and deposited has its name.
        let owed = rec.settlements.reduce(Money.zero) { $0 + $1.receivables.opened - $1.receivables.settled }
        let missing = rec.settlements.reduce(Money.zero) { $0 + $1.cash.declaredMissing }
        let explained = rec.totals.expected - rec.totals.collected == owed && rec.totals.collected - rec.totals.deposited == missing
        if !explained { ok = false }
        let approval = try reconciler.approve(device: "van-01", date: Self.date, by: "王会计", note: nil)
        say("\n18:05  accountant  approved van-01 (variance \(approval.variance)); its \(approval.entries) entries are locked")
        let statuses = Set(try reconciler.reconcile(date: Self.date).settlements.map(\.status))
        if !statuses.contains(.short) || !statuses.contains(.approved) { ok = false }
        if !(try await hall.later(depotReplica: depotReplica, registry: registry, port: depot.port, midnight: Self.midnight)) { ok = false }

        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        say("""
            At the depot: \(ledger.all.count) entries for \(Self.date) from \(Self.vans.count) vans and \(HallDayDemo.windows.count) windows, each exactly once; \
            \(deliveries.count) deliveries, \(ledger.active(.refuse).count) refusal, \(ledger.active(.return).count) return; \
            \(deliveries.count - missingImages) of \(deliveries.count) signature images held.
            Cash, the settlement's total line: expected \(rec.totals.expected), collected \(rec.totals.collected), \
            deposited \(rec.totals.deposited). Expected − collected = \(rec.totals.expected - rec.totals.collected): owed by shops \
            (a receivable, collected at a later stop); collected − deposited = \(rec.totals.collected - rec.totals.deposited): \
            declared missing by van-03. \(explained ? "Every fen accounted for" : "DOES NOT reconcile") (the vans \(collected - paidBack) \
            net of \(paidBack) paid back, the hall's fees \(fees), paid in \(feesPaidIn)).
            \(ok ? "Day complete" : "Day NOT complete") in \(String(format: "%.1f", seconds)) s.
            """)
        return ok
    }

    /// One sync attempt, told as a driver would see it.
    static func attempt(_ client: SyncClient) async -> String {
        do {
            let s = try await client.sync()
            return "synced, pushed \(s.pushed)"
        } catch {
            return error.description
        }
    }

    /// A signature pad's picture: a small real PNG of a pen stroke, one of its own per handover.
    static func signature(_ rng: inout SeededGenerator) -> [UInt8] {
        SignaturePNG.make(seed: rng.next())
    }
}
