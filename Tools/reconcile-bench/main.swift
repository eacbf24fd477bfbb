// tally-reconcile-bench: reconciling one business day of a large fleet (see docs/BENCHMARKS.md).
//
//     swift run -c release tally-reconcile-bench [--vans N] [--tickets N] [--cartons N] [--runs N]
//                                                 [--dir PATH] [--keep]
//
// Builds a depot replica holding one day of N vans (500 by default), each on its own route with
// `--tickets` tickets (200) of `--cartons` cartons (9): per ticket one scan entry per carton and
// one delivery (2% refused instead, 5% short one carton, 10% part payments), per van a load-out,
// a vehicle check, two odometer readings, a deposit and a day close; plus the tickets, lines,
// cartons and 64-byte signature images. 500 × 200 × (9 + 1) ≈ 1,000,000 entries. Then times
// `Reconciler.reconcile(date:)` on a freshly opened replica (`--runs` times, median) and reports
// the process's peak memory (VmHWM) before and after.
// The build is not timed; `--dir PATH --keep` keeps the depot to rerun quickly.

import Foundation
import TallyReconcile
import TallyReplica
import TallyRoutes
import TallyToolSupport

struct Options {
    var vans = 500
    var tickets = 200
    var cartons = 9
    var runs = 3
    var dir: String?
    var keep = false

    static func parse() -> Options {
        var o = Options()
        var it = CommandLine.arguments.dropFirst().makeIterator()
        func int(_ f: String) -> Int {
            guard let v = it.next(), let n = Int(v), n > 0 else { die("\(f) takes a positive number") }
            return n
        }
        while let a = it.next() {
            switch a {
            case "--vans": o.vans = int(a)
            case "--tickets": o.tickets = int(a)
            case "--cartons": o.cartons = int(a)
            case "--runs": o.runs = int(a)
            case "--dir": o.dir = it.next()
            case "--keep": o.keep = true
            default: die("unknown argument \(a)")
            }
        }
        return o
    }
}

func die(_ s: String) -> Never {
    FileHandle.standardError.write(Data("tally-reconcile-bench: \(s)\n".utf8))
    exit(2)
}

func peakMB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Double(line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
}

func seconds(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

/// CPU seconds this process has used (user + system): on a busy machine, what the work cost.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

let day = "2026-11-28"
let o = Options.parse()
let dir = o.dir ?? (FileManager.default.temporaryDirectory.path + "/tally-reconcile-bench-\(UUID().uuidString.prefix(8))")
try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
let path = dir + "/depot.sqlite"
let clock = ManualWallClock(milliseconds: 1_795_824_000_000)
let options = ReplicaOptions.quiet(wallClock: clock, durability: .off)

func build() throws {
    let started = DispatchTime.now().uptimeNanoseconds
    let depot = try Replica.create(at: path, schema: RouteSchema.current, options: options)
    let products = SampleManifest.products
    var rng = SeededGenerator(seed: 5)
    var entries = 0
    for v in 0..<o.vans {
        let route = "R\(String(format: "%03d", v + 1))", device = "van-\(String(format: "%03d", v + 1))"
        let at = "2026-11-28T09:00:00.000+08:00"
        try depot.write { tx in
            var collected: Int64 = 0
            var loaded: [String: Int] = [:]
            for n in 1...o.tickets {
                let ticket = "T\(String(format: "%03d", v + 1))\(String(format: "%04d", n))"
                let customer = "C\(String(format: "%03d", v + 1))\(String(format: "%04d", n))"
                let cash = n % 3 != 0
                let p1 = products[n % products.count], p2 = products[(n + 3) % products.count]
                let q1 = (o.cartons + 1) / 2, q2 = o.cartons - q1
                let due = p1.price.minorUnits * Int64(q1) + p2.price.minorUnits * Int64(q2)
                try tx.insert("customers", key: customer, ["route": .text(route), "name": .text("张记便利店\(n)"), "address": "幸福路1号", "phone": "13800000000"])
                try tx.insert("tickets", key: ticket, ["date": .text(day), "route": .text(route), "stop": .integer(Int64(n)), "customer": .text(customer),
                                                     "payment": .text(cash ? "cash" : "electronic"), "amount_due": .integer(due), "status": "delivered",
                                                     "promised_by": "2026-11-28T20:00:00+08:00", "cartons": .integer(Int64(o.cartons))])
                var codes: [(String, SampleManifest.Product)] = []
                for (i, (p, q)) in [(p1, q1), (p2, q2)].enumerated() where q > 0 {
                    try tx.insert("ticket_lines", key: "\(ticket)/\(i + 1)", ["route": .text(route), "ticket": .text(ticket), "line_no": .integer(Int64(i + 1)),
                                                                             "box": .integer(Int64(i + 1)), "product_code": .text(p.code), "product_name": .text(p.name),
                                                                             "quantity": .integer(Int64(q)), "unit_price": .integer(p.price.minorUnits)])
                    for c in 1...q {
                        let code = "\(customer)-\(p.code)-\(String(format: "%04d", c))"
                        try tx.insert("cartons", key: code, ["route": .text(route), "ticket": .text(ticket), "product_code": .text(p.code)])
                        codes.append((code, p))
                    }
                    loaded[p.code, default: 0] += q
                }
                if n % 50 == 0 {
                    try tx.insert("events", key: "\(device)/refuse/\(ticket)", ["route": .text(route), "ticket": .text(ticket), "kind": "refuse", "amount": 0,
                                                                                "device": .text(device), "at": .text(at), "day": .text(day), "reason": "closed"])
                    entries += 1
                    continue
                }
                let short = n % 20 == 0 ? 1 : 0
                for (code, p) in codes.dropLast(short) {
                    try tx.insert("events", key: "\(device)/scan/\(code)", ["route": .text(route), "ticket": .text(ticket), "kind": "scan", "amount": 0,
                                                                            "device": .text(device), "at": .text(at), "day": .text(day), "ref": .text(code), "product": .text(p.code)])
                    entries += 1
                }
                let value = due - (short == 1 ? p2.price.minorUnits : 0)
                let paid = cash ? (n % 10 == 1 ? value / 2 : value) : 0
                collected += paid
                let signature = (0..<64).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let sig = try tx.putBlob(signature)
                let lines = [Handover.Line(product: p1.code, name: p1.name, ordered: q1, delivered: q1, short: 0, unitPrice: p1.price),
                             Handover.Line(product: p2.code, name: p2.name, ordered: q2, delivered: q2 - short, short: short, unitPrice: p2.price)]
                let h = Handover(ticket: ticket, day: day, route: route, customer: customer, customerName: "张记便利店\(n)", payment: cash ? "cash" : "electronic",
                                 lines: lines, value: Money(minorUnits: value), cash: Money(minorUnits: paid), partialReason: paid < value && cash ? "店主现金不足" : nil,
                                 signer: "老板", signature: sig, device: device, at: at, promisedBy: "2026-11-28T20:00:00+08:00", late: false)
                let json = h.canonicalJSON()
                try tx.insert("events", key: "\(device)/deliver/\(ticket)", [
                    "route": .text(route), "ticket": .text(ticket), "kind": "deliver", "amount": .integer(paid), "due": .integer(value),
                    "device": .text(device), "at": .text(at), "day": .text(day), "ref": .text(sig), "qty": .integer(Int64(o.cartons - short)),
                    "detail": .text(json), "hash": .text(Handover.hash(of: json)), "reason": h.partialReason.map(Value.text) ?? .null])
                entries += 1
            }
            let counts = loaded.keys.sorted().map { LoadCount(product: $0, name: $0, expected: loaded[$0]!, counted: loaded[$0]!) }  // safe: keys of loaded
            let countsJSON = String(decoding: try JSONEncoder().encode(counts), as: UTF8.self)
            for (kind, extra) in [("load_out", ["detail": Value.text(countsJSON), "qty": .integer(Int64(o.tickets * o.cartons))]),
                                  ("vehicle_check", ["reason": "ok"]), ("odometer", ["qty": 18_200]), ("deposit", ["amount": .integer(collected), "ref": .text("ICBC-\(device)")]),
                                  ("close_day", ["detail": "{}"])] {
                var row: [String: Value] = ["route": .text(route), "kind": .text(kind), "amount": 0, "device": .text(device), "at": .text(at), "day": .text(day)]
                for (k, val) in extra { row[k] = val }
                try tx.insert("events", key: "\(device)/\(kind)/\(day)", row)
                entries += 1
            }
        }
        if (v + 1) % 50 == 0 { print("  built \(v + 1) vans, \(entries) entries, \(String(format: "%.0f", seconds(started))) s"); fflush(nil) }
    }
    try depot.close()
    print("built a depot of \(o.vans) vans, \(o.vans * o.tickets) tickets, \(entries) entries in \(String(format: "%.1f", seconds(started))) s (not timed below)")
}

do {
    if !FileManager.default.fileExists(atPath: path) { try build() }
    let before = peakMB()
    var times: [Double] = []
    var cpus: [Double] = []
    var last: Reconciliation?
    var rawTimes: [Double] = []
    var entriesOfDay = 0
    for run in 1...o.runs {
        // The baseline: the least any reconciliation of the day does, one SQL pass summing the
        // day's entries by device and kind, on the same file and its indexes.
        do {
            let replica = try Replica.open(at: path, options: options)
            let t0 = DispatchTime.now().uptimeNanoseconds
            var groups = 0, rows = 0
            try replica.select("SELECT device, kind, count(*), sum(amount) FROM events WHERE day = ?1 GROUP BY device, kind", [.text(day)]) { r in
                groups += 1
                rows += Int(r[2].integer ?? 0)
            }
            entriesOfDay = rows
            rawTimes.append(seconds(t0))
            try replica.close()
            print("raw SQL pass over the day's entries: \(String(format: "%.2f", rawTimes.last!)) s, \(groups) groups")  // safe: appended above
        }
        let replica = try Replica.open(at: path, options: options)
        let store = try SettlementStore(path: dir + "/settlement.sqlite", clock: clock)
        let devices = (1...o.vans).map { DeviceInfo(name: "van-\(String(format: "%03d", $0))", role: "van", scope: "R\(String(format: "%03d", $0))",
                                                     lastSyncAt: "2026-11-28T18:00:00+08:00", lastSkewMs: 0) }
        let r = Reconciler(replica: replica, store: store, devices: devices)
        try r.prepareIndexes()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let c0 = cpuSeconds()
        last = try r.reconcile(date: day)
        times.append(seconds(t0))
        cpus.append(cpuSeconds() - c0)
        print("run \(run): \(String(format: "%.2f", times.last!)) s wall, \(String(format: "%.2f", cpus.last!)) s CPU, peak memory so far \(String(format: "%.0f", peakMB())) MB")  // safe: appended just above
        try replica.close()
    }
    let median = times.sorted()[times.count / 2]
    BenchResults.record(BenchFigure(
        section: "reconcile", id: "reconcile day",
        figure: "reconcile one day of \(o.vans) vans (\(o.vans * o.tickets) tickets, \(entriesOfDay) entries) (tally-reconcile-bench)",
        unit: "s", higherIsBetter: false, samples: times,
        baseline: "raw SQLite: one GROUP BY pass summing the day's entries", baselineSamples: rawTimes,
        note: String(format: "peak memory %.0f MB", peakMB())))
    if let rec = last {
        let statuses = Dictionary(grouping: rec.settlements, by: \.status).mapValues(\.count)
        let exceptions = rec.settlements.reduce(0) { $0 + $1.exceptions.count }
        print("reconciled \(rec.settlements.count) vans: \(statuses.map { "\($0.key.rawValue) \($0.value)" }.sorted().joined(separator: ", ")); \(exceptions) exceptions; collected \(rec.totals.collected)")
    }
    let cpu = cpus.sorted()[cpus.count / 2]
    var load = [Double](repeating: 0, count: 3)
    getloadavg(&load, 3)
    print(String(format: "median %.2f s wall, %.2f s CPU over %d runs (the first also builds the indexes); peak memory %.0f MB (%.0f MB before reconciling); load %.1f",
                 median, cpu, times.count, peakMB(), before, load[0]))
} catch {
    die("\(error)")
}
if o.dir == nil && !o.keep { try? FileManager.default.removeItem(atPath: dir) }
