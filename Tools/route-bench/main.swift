// tally-route-bench: how long recording a delivery takes on a van's replica (see docs/BENCHMARKS.md).
//
//     swift run -c release tally-route-bench [--tickets N] [--cartons N] [--durability full|normal|off]
//                                            [--cli N] [--dir PATH] [--seed N]
//
// One delivery = `scan` of every carton of the ticket (10 by default) in one call, then `deliver`
// with an 8 KB signature image and the cash: what the driver does at a shop. Measured per
// delivery over a day of 200 tickets on a van replica holding the route's manifest, with the
// durability a handheld runs with (synchronous=FULL: every delivery is on disk when it returns).
// The baseline is raw SQLite through the C API writing the same rows (10 scan rows, a delivery
// row, the image) in one transaction, in the same process and file system.
// With --cli N, also N deliveries through the built `tally` binary (two processes each: scan and
// deliver), what a driver waits for when the handheld runs the CLI.

import Foundation
import GRDBSQLite
import TallyReplica
import TallyRoutes
import TallyToolSupport

struct Options {
    var tickets = 200
    var cartons = 10
    var durability = Durability.full
    var cli = 0
    var dir: String?
    var seed: UInt64 = 11
    /// Whole runs (fresh files each); the figures are the medians of their p50s.
    var runs = 1

    static func parse() -> Options {
        var o = Options()
        var it = CommandLine.arguments.dropFirst().makeIterator()
        func value(_ f: String) -> String {
            guard let v = it.next() else { die("\(f) needs a value") }
            return v
        }
        while let a = it.next() {
            switch a {
            case "--tickets": o.tickets = Int(value(a)) ?? o.tickets
            case "--cartons": o.cartons = Int(value(a)) ?? o.cartons
            case "--durability":
                switch value(a) {
                case "full": o.durability = .full
                case "normal": o.durability = .normal
                case "off": o.durability = .off
                default: die("--durability takes full, normal or off")
                }
            case "--cli": o.cli = Int(value(a)) ?? 0
            case "--dir": o.dir = value(a)
            case "--seed": o.seed = UInt64(value(a)) ?? o.seed
            case "--runs": o.runs = max(1, Int(value(a)) ?? 1)
            default: die("unknown argument \(a)")
            }
        }
        return o
    }
}

func die(_ s: String) -> Never {
    FileHandle.standardError.write(Data("tally-route-bench: \(s)\n".utf8))
    exit(2)
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

struct Percentiles {
    var sorted: [Double]
    init(_ ms: [Double]) { sorted = ms.sorted() }
    func p(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)] }
    var line: String {
        String(format: "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (n=%d)", p(0.5), p(0.9), p(0.99), sorted.last ?? 0, sorted.count)
    }
}

/// A manifest of `tickets` tickets on route R01, each with `cartons` cartons over two products,
/// written as the order system would and parsed like any manifest.
func manifest(_ o: Options) -> Manifest {
    let products = SampleManifest.products
    var csv = Manifest.columns.joined(separator: ",") + "\n"
    for n in 1...o.tickets {
        let customer = "C1\(String(format: "%04d", n))"
        let payment = n % 3 == 0 ? "electronic" : "cash"
        let split = [(products[n % products.count], o.cartons / 2), (products[(n + 3) % products.count], o.cartons - o.cartons / 2)]
        for (box, (p, qty)) in split.enumerated() where qty > 0 {
            let codes = (1...qty).map { "\(customer)-\(p.code)-\(String(format: "%04d", $0))" }.joined(separator: ";")
            csv += "2026-11-28,R01,T\(String(format: "%05d", n)),\(n),\(customer),张记便利店\(n),幸福路\(n)号,13800000000,\(payment),2026-11-28T20:00:00+08:00,\(box + 1),\(p.code),\(p.name),\(qty),\(p.price),\(codes)\n"
        }
    }
    do { return try Manifest.parse(Array(csv.utf8)) } catch { die("the benchmark's manifest: \(error)") }
}

func signature(_ rng: inout SeededGenerator) -> [UInt8] {
    (0..<8_192).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

// MARK: - The engine: VanBook on a van replica

func engineDeliveries(_ o: Options, dir: String) throws -> (Percentiles, Percentiles, Percentiles) {
    let path = dir + "/van.sqlite"
    let clock = ManualWallClock(milliseconds: 1_795_824_000_000)
    let options = ReplicaOptions.quiet(wallClock: clock, durability: o.durability)
    let replica = try Replica.create(at: path, schema: RouteSchema.current, options: options)
    let m = manifest(o)
    _ = try ManifestImport.run(m, into: replica)
    try replica.setSettings(["sync.device": "van-01", "sync.scope": "R01", "sync.role": "van"])
    let book = try VanBook.joined(replica, clock: clock)
    var rng = SeededGenerator(seed: o.seed)
    var scans: [Double] = [], delivers: [Double] = [], totals: [Double] = []
    for t in m.tickets {
        clock.advance(by: 60_000)
        let sig = signature(&rng)
        let t0 = now()
        _ = try book.scan(t.ticket, codes: t.lines.flatMap(\.cartons))
        let t1 = now()
        _ = try book.deliver(DeliveryRequest(ticket: t.ticket, signature: sig, signer: "老板", cash: t.payment == .cash ? t.amountDue : nil))
        let t2 = now()
        scans.append(Double(t1 - t0) / 1e6)
        delivers.append(Double(t2 - t1) / 1e6)
        totals.append(Double(t2 - t0) / 1e6)
    }
    try replica.close()
    return (Percentiles(scans), Percentiles(delivers), Percentiles(totals))
}

// MARK: - The baseline: raw SQLite writing the same rows

nonisolated(unsafe) let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

func rawDeliveries(_ o: Options, dir: String) -> Percentiles {
    var db: OpaquePointer?
    guard sqlite3_open_v2(dir + "/raw.sqlite", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK, let db else { die("cannot open raw.sqlite") }
    defer { sqlite3_close_v2(db) }
    func exec(_ sql: String) { if sqlite3_exec(db, sql, nil, nil, nil) != SQLITE_OK { die("\(sql): \(String(cString: sqlite3_errmsg(db)))") } }
    exec("PRAGMA journal_mode = WAL")
    exec("PRAGMA synchronous = \(o.durability == .full ? "FULL" : o.durability == .normal ? "NORMAL" : "OFF")")
    exec("CREATE TABLE events(id TEXT PRIMARY KEY, route TEXT, ticket TEXT, kind TEXT, amount INTEGER, device TEXT, at TEXT, ref TEXT, detail TEXT, hash TEXT) WITHOUT ROWID")
    exec("CREATE TABLE blobs(hash BLOB PRIMARY KEY, data BLOB)")
    var ins: OpaquePointer?, blob: OpaquePointer?
    sqlite3_prepare_v3(db, "INSERT INTO events VALUES (?, 'R01', ?, ?, ?, 'van-01', '2026-11-28T09:00:00+08:00', ?, ?, ?)", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &ins, nil)
    sqlite3_prepare_v3(db, "INSERT OR IGNORE INTO blobs VALUES (?, ?)", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &blob, nil)
    defer { sqlite3_finalize(ins); sqlite3_finalize(blob) }
    var rng = SeededGenerator(seed: o.seed)
    var totals: [Double] = []
    let detail = String(repeating: "x", count: 600)
    for t in manifest(o).tickets {
        let sig = signature(&rng)
        let t0 = now()
        exec("BEGIN IMMEDIATE")
        func row(_ id: String, _ kind: String, _ amount: Int64, _ ref: String, _ detail: String?) {
            sqlite3_bind_text(ins, 1, id, -1, transient)
            sqlite3_bind_text(ins, 2, t.ticket, -1, transient)
            sqlite3_bind_text(ins, 3, kind, -1, transient)
            sqlite3_bind_int64(ins, 4, amount)
            sqlite3_bind_text(ins, 5, ref, -1, transient)
            if let detail { sqlite3_bind_text(ins, 6, detail, -1, transient); sqlite3_bind_text(ins, 7, String(repeating: "0", count: 64), -1, transient) }
            else { sqlite3_bind_null(ins, 6); sqlite3_bind_null(ins, 7) }
            if sqlite3_step(ins) != SQLITE_DONE { die("insert: \(String(cString: sqlite3_errmsg(db)))") }
            sqlite3_reset(ins)
        }
        for code in t.lines.flatMap(\.cartons) { row("van-01/scan/\(code)", "scan", 0, code, nil) }
        exec("COMMIT")
        exec("BEGIN IMMEDIATE")
        let hash = BlobHash.sha256(sig)
        _ = hash.withUnsafeBytes { sqlite3_bind_blob(blob, 1, $0.baseAddress, Int32($0.count), transient) }
        _ = sig.withUnsafeBytes { sqlite3_bind_blob(blob, 2, $0.baseAddress, Int32($0.count), transient) }
        if sqlite3_step(blob) != SQLITE_DONE { die("blob: \(String(cString: sqlite3_errmsg(db)))") }
        sqlite3_reset(blob)
        row("van-01/deliver/\(t.ticket)", "deliver", t.amountDue.minorUnits, BlobHash.hex(hash), detail)
        exec("COMMIT")
        totals.append(Double(now() - t0) / 1e6)
    }
    return Percentiles(totals)
}

// MARK: - Through the CLI binary

func cliDeliveries(_ o: Options, dir: String, count: Int) throws -> Percentiles? {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tally")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        print("cli: skipped (no tally binary next to this one; build it with `swift build -c release --product tally`)")
        return nil
    }
    // The van replica left by the engine run is reused: a fresh one with the same manifest.
    let path = dir + "/cli-van.sqlite"
    let replica = try Replica.create(at: path, schema: RouteSchema.current, options: .quiet(durability: .full))
    var small = o
    small.tickets = count
    let m = manifest(small)
    _ = try ManifestImport.run(m, into: replica)
    try replica.setSettings(["sync.device": "van-01", "sync.scope": "R01", "sync.role": "van"])
    try replica.close()
    var rng = SeededGenerator(seed: o.seed)
    var totals: [Double] = []
    func run(_ args: [String]) throws {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        if p.terminationStatus != 0 { die("tally \(args.prefix(3).joined(separator: " ")) failed (exit \(p.terminationStatus))") }
    }
    for t in m.tickets {
        let sig = dir + "/sig.png"
        FileManager.default.createFile(atPath: sig, contents: Data(signature(&rng)))
        let t0 = now()
        try run(["van", "scan", t.ticket] + t.lines.flatMap(\.cartons) + ["--replica", path])
        var deliver = ["van", "deliver", t.ticket, "--signature", sig, "--replica", path]
        if t.payment == .cash { deliver += ["--cash", t.amountDue.description] }
        try run(deliver)
        totals.append(Double(now() - t0) / 1e6)
    }
    return Percentiles(totals)
}

// MARK: - Main

let o = Options.parse()
let dir = o.dir ?? (FileManager.default.temporaryDirectory.path + "/tally-route-bench-\(UUID().uuidString.prefix(8))")
try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { if o.dir == nil { try? FileManager.default.removeItem(atPath: dir) } }
print("tally-route-bench: \(o.tickets) deliveries of \(o.cartons) cartons each, 8 KB signature, durability \(o.durability == .full ? "full (fsync per delivery)" : o.durability == .normal ? "normal" : "off (no fsync: CPU only)"), in \(dir)")
do {
    var engineP50: [Double] = [], rawP50: [Double] = []
    for run in 1...o.runs {
        let runDir = o.runs == 1 ? dir : dir + "/run\(run)"
        try? FileManager.default.createDirectory(atPath: runDir, withIntermediateDirectories: true)
        let raw = rawDeliveries(o, dir: runDir)
        let (scan, deliver, total) = try engineDeliveries(o, dir: runDir)
        if o.runs > 1 { print("run \(run) of \(o.runs):") }
        print("raw SQLite, same rows (two transactions):  \(raw.line)")
        print("van scan (\(o.cartons) codes):                   \(scan.line)")
        print("van deliver:                              \(deliver.line)")
        print("scan + deliver (one delivery):            \(total.line)")
        print(String(format: "engine/raw at p50: %.1f×, at p99: %.1f×", total.p(0.5) / raw.p(0.5), total.p(0.99) / raw.p(0.99)))
        engineP50.append(total.p(0.5))
        rawP50.append(raw.p(0.5))
        if o.runs > 1 { try? FileManager.default.removeItem(atPath: runDir) }
    }
    let mode = o.durability == .full ? "fsync per transaction" : o.durability == .normal ? "synchronous=NORMAL" : "no fsync"
    BenchResults.record(BenchFigure(
        section: "local write", id: "delivery \(mode)",
        figure: "a delivery: scan \(o.cartons) cartons + deliver with an 8 KB signature and cash, p50 of \(o.tickets), \(mode) (tally-route-bench)",
        unit: "ms", higherIsBetter: false, samples: engineP50,
        baseline: "raw SQLite, same rows, C API, two transactions", baselineSamples: rawP50,
        aim: "within 1.5× of raw SQLite", aimRatio: 1.5))
    if o.cli > 0, let cli = try cliDeliveries(o, dir: dir, count: o.cli) {
        print("through the tally binary (2 processes):  \(cli.line)")
    }
} catch {
    die("\(error)")
}
