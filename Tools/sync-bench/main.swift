// tally-sync-bench: sync over loopback against a real depot process.
//
//   swift build -c release --product tally && swift build -c release --product tally-sync-bench
//   .build/release/tally-sync-bench            # full sizes (about 15 minutes on 2 cores)
//   .build/release/tally-sync-bench --quick    # small sizes, a smoke test (under a minute)
//
// (SwiftPM builds only the last of several --product options, hence two commands.) The depot
// is the release `tally` next to this executable, or --tally PATH. --perf DIR attaches
// `perf record -g` to each depot; --keep keeps the scratch folder with the depots' logs.
//
// Scenarios (`--only day,fleet,ingest,first,delta,breakdown`):
//   day        one van's day (200 tickets, 3,000 changes, 200 signature blobs) pushed by one sync()
//   fleet      100 vans syncing at once, 3,000–15,000 changes each: depot ingest and peak memory
//   ingest     the same fleet pushing only (the push half of sync, no pull): the depot's ingest alone
//   first      a new device's join (snapshot of 1,000,000 rows) and first sync pulling deltas
//   delta      pulling 100,000 changes as deltas versus a snapshot of the same rows
//   breakdown  the push and pull paths piece by piece in-process (JSON, zlib, scope, SQLite)
import Foundation
import TallyToolSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Synchronization
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes
import TallySync

// MARK: - Options

struct Options: Sendable {
    var quick = false
    var runs = 5
    var dayTickets = 200
    var daySignatures = 200
    var fleetVans = 100
    var fleetTickets = 200...1_000
    var fleetSignatures = 0
    var firstRows = 1_000_000
    var firstDeltas = 3_000
    var firstRuns = 3
    var deltaRows = 100_000
    var breakdownTickets = 1_000
    var only: Set<String> = ["day", "fleet", "ingest", "first", "delta", "breakdown"]
    var scratch: String?
    var keep = false
    var tally: String?
    var depotWrapper: [String] = []
    var perf: String?
    var pageSize = 5_000
    /// The fleet gives up after this many seconds and reports how far it got.
    var fleetDeadline = 600
    /// `ingest` pushes over plain blocking sockets (SocketPush) instead of URLSession.
    var lightClients = false

    static func parse(_ args: [String]) throws -> Options {
        var o = Options()
        var it = args.makeIterator()
        func value(_ name: String) throws -> String {
            guard let v = it.next() else { throw ToolError("\(name) needs a value") }
            return v
        }
        func int(_ name: String) throws -> Int {
            let v = try value(name)
            guard let n = Int(v.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: "")) else { throw ToolError("\(name): '\(v)' is not a number") }
            return n
        }
        var explicit: [String: Int] = [:]
        while let a = it.next() {
            switch a {
            case "--quick": o.quick = true
            case "--runs": explicit["runs"] = try int(a)
            case "--vans": explicit["vans"] = try int(a)
            case "--rows": explicit["rows"] = try int(a)
            case "--deltas": explicit["deltas"] = try int(a)
            case "--first-runs": explicit["first-runs"] = try int(a)
            case "--delta-rows": explicit["delta-rows"] = try int(a)
            case "--fleet-min": explicit["fleet-min"] = try int(a)
            case "--fleet-max": explicit["fleet-max"] = try int(a)
            case "--fleet-signatures": explicit["fleet-signatures"] = try int(a)
            case "--page-size": explicit["page-size"] = try int(a)
            case "--fleet-deadline": explicit["fleet-deadline"] = try int(a)
            case "--only": o.only = Set(try value(a).split(separator: ",").map { String($0) })
            case "--scratch": o.scratch = try value(a)
            case "--keep": o.keep = true
            case "--tally": o.tally = try value(a)
            case "--depot-wrapper": o.depotWrapper = try value(a).split(separator: " ").map(String.init)
            case "--perf": o.perf = try value(a)
            case "--light-clients": o.lightClients = true
            case "-h", "--help":
                say("""
                    usage: tally-sync-bench [--quick] [--only day,fleet,ingest,first,delta,breakdown] [--runs N] [--vans N]
                                            [--fleet-min TICKETS] [--fleet-max TICKETS] [--fleet-signatures N]
                                            [--rows N] [--deltas N] [--first-runs N] [--delta-rows N] [--page-size N] [--fleet-deadline SECONDS]
                                            [--scratch DIR] [--keep] [--tally PATH] [--depot-wrapper "valgrind --tool=callgrind"] [--perf DIR] [--light-clients]
                    """)
                exit(0)
            default: throw ToolError("unknown option \(a); --help lists them")
            }
        }
        if o.quick {
            o.fleetDeadline = 120
            o.runs = 2; o.dayTickets = 50; o.daySignatures = 50
            o.fleetVans = 10; o.fleetTickets = 40...120
            o.firstRows = 50_000; o.firstDeltas = 600; o.firstRuns = 1
            o.deltaRows = 10_000; o.breakdownTickets = 200
        }
        if let v = explicit["runs"] { o.runs = v }
        if let v = explicit["fleet-deadline"] { o.fleetDeadline = v }
        if let v = explicit["vans"] { o.fleetVans = v }
        if let v = explicit["page-size"] { o.pageSize = v }
        if let v = explicit["rows"] { o.firstRows = v }
        if let v = explicit["deltas"] { o.firstDeltas = v }
        if let v = explicit["first-runs"] { o.firstRuns = v }
        if let v = explicit["delta-rows"] { o.deltaRows = v }
        if let v = explicit["fleet-signatures"] { o.fleetSignatures = v }
        if explicit["fleet-min"] != nil || explicit["fleet-max"] != nil {
            let lo = explicit["fleet-min"] ?? o.fleetTickets.lowerBound
            o.fleetTickets = lo...max(lo, explicit["fleet-max"] ?? o.fleetTickets.upperBound)
        }
        return o
    }
}

// MARK: - Devices

let quietLogger = Logger(label: "tally.sync-bench", factory: { _ in SwiftLogNoOpLogHandler() })
/// Devices keep the default durability of a handheld (every commit on disk).
let deviceOptions = ReplicaOptions.quiet(durability: .full)

struct Device: Sendable {
    let name: String
    let route: String
    let credential: String
    let path: String
}

/// Enrolls devices in the depot's registry, before the server starts.
func enroll(_ folder: DepotFolder, _ specs: [(name: String, route: String)], devicesDir: String, role: DeviceRole = .van) throws -> [Device] {
    try FileManager.default.createDirectory(atPath: devicesDir, withIntermediateDirectories: true)
    let registry = try folder.registry(clock: SystemWallClock())
    return try specs.map { spec in
        let (_, credential) = try registry.enroll(name: spec.name, role: role, scope: spec.route)
        return Device(name: spec.name, route: spec.route, credential: credential.token, path: devicesDir + "/\(spec.name).sqlite")
    }
}

func join(_ d: Device, _ depot: DepotProcess, pageSize: Int) async throws -> SyncClient {
    _ = try await SyncClient.join(url: depot.url, credential: d.credential, replicaPath: d.path, options: deviceOptions)
    let replica = try Replica.open(at: d.path, options: deviceOptions)
    return try SyncClient(replica: replica, logger: quietLogger, pageSize: pageSize)
}

/// Attaches `perf record` to the depot from here until it stops, with `--perf DIR`.
func profile(_ depot: DepotProcess, _ o: Options, _ name: String) throws {
    guard let dir = o.perf else { return }
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try depot.attachPerf(output: (dir as NSString).appendingPathComponent("depot-\(name).perf.data"))
}

func removeReplica(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
}

/// When each phase of a sync began, from its progress callback.
final class Phases: Sendable {
    let start: ContinuousClock.Instant
    private let marks = Mutex<[SyncProgress.Phase: ContinuousClock.Instant]>([:])

    init(start: ContinuousClock.Instant = .now) { self.start = start }

    func record(_ p: SyncProgress) {
        let now = ContinuousClock.now
        marks.withLock { if $0[p.phase] == nil { $0[p.phase] = now } }
    }

    /// Seconds from `start` to the phase's first callback.
    func at(_ phase: SyncProgress.Phase) -> Double? {
        marks.withLock { $0[phase] }.map { Fmt.secs(start.duration(to: $0)) }
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

// MARK: - 1. One van's day

struct DayRun {
    var seconds: Double
    var push: Double
    var pull: Double
    var blobs: Double
    var summary: SyncSummary
    var written: DayWritten
}

func benchDay(_ o: Options, tally: String, scratch: String) async throws -> [String] {
    let dir = scratch + "/day"
    let folder = DepotFolder(dir + "/depot")
    try folder.create(schema: RouteSchema.current, options: .quiet())
    let devices = try enroll(folder, [("van-D00", "D00")] + (1...o.runs).map { ("van-D\(pad($0, 2))", "D\(pad($0, 2))") },
                             devicesDir: dir + "/devices")
    let depot = try await DepotProcess(tally: tally, data: folder.path, logPrefix: dir + "/depot", wrapper: o.depotWrapper)
    // A warm-up van: the first request of a process pays for libcurl and the server's first connection.
    let warm = try await join(devices[0], depot, pageSize: o.pageSize)
    _ = try VanDay.write(warm.replica, route: "D00", device: "van-D00", tickets: 5, signatures: 5, seed: 0)
    _ = try await warm.sync()
    try profile(depot, o, "day")

    var runs: [DayRun] = []
    var rawStore: [Double] = [], contentBytes: [Double] = []
    for i in 1...o.runs {
        let d = devices[i]
        let client = try await join(d, depot, pageSize: o.pageSize)
        let written = try VanDay.write(client.replica, route: d.route, device: d.name, tickets: o.dayTickets, signatures: o.daySignatures, seed: UInt64(i))
        let phases = Phases()
        let summary = try await client.sync(progress: { phases.record($0) })
        let seconds = Fmt.secs(phases.start.duration(to: .now))
        guard summary.pushed == written.changes, summary.blobsUp == written.blobs, summary.pending == 0 else {
            throw ToolError("day run \(i): pushed \(summary.pushed)/\(written.changes), blobs \(summary.blobsUp)/\(written.blobs), pending \(summary.pending)")
        }
        let pullAt = phases.at(.pull) ?? seconds
        let blobsAt = phases.at(.blobs) ?? seconds
        runs.append(DayRun(seconds: seconds, push: pullAt, pull: blobsAt - pullAt, blobs: seconds - blobsAt, summary: summary, written: written))
        // The baseline: raw SQLite storing the same rows and blobs; the content's own weight.
        let own = try RawBaseline.own(client.replica)
        rawStore.append(try RawBaseline(path: dir + "/raw-day.sqlite").store(own.changes, blobs: own.blobs))
        contentBytes.append(RawBaseline.contentBytesPerChange(own.changes))
        say("  day run \(i): \(Fmt.s(seconds)) — push \(Fmt.ms(pullAt)), pull \(Fmt.ms(blobsAt - pullAt)), blobs \(Fmt.ms(seconds - blobsAt)); "
            + "\(summary.pushed) changes, \(summary.blobsUp) blobs, \(Fmt.bytes(summary.bytesSent)) sent")
    }
    let peak = depot.peakMemoryMB
    await depot.stop()

    let time = Stat(runs.map(\.seconds))
    let perChange = Stat(runs.map { Double($0.summary.bytesSent) / Double($0.summary.pushed) })
    let perChangeNoBlobs = Stat(runs.map { Double($0.summary.bytesSent - $0.written.blobBytes) / Double($0.summary.pushed) })
    let w = runs[0].written
    var t = Table("1. One van's day: \(Fmt.int(w.changes)) changes (\(o.dayTickets) tickets) + \(w.blobs) signature blobs of ~8 KB, one sync() (\(o.runs) fresh vans)",
                  ["figure", "median (min–max)"])
    t.add("sync() wall time", time.text(Fmt.s))
    t.add("  push phase (changes)", Stat(runs.map(\.push)).text(Fmt.ms))
    t.add("  pull phase", Stat(runs.map(\.pull)).text(Fmt.ms))
    t.add("  blob phase (\(w.blobs) PUTs)", Stat(runs.map(\.blobs)).text(Fmt.ms))
    t.add("bytes sent (request bodies)", Stat(runs.map { Double($0.summary.bytesSent) }).text { Fmt.bytes(Int($0)) })
    t.add("bytes on the wire per change", perChange.text { String(format: "%.0f B", $0) })
    t.add("  excluding blob bytes", perChangeNoBlobs.text { String(format: "%.1f B", $0) })
    t.add("ratio to the aim (1 s)", Fmt.x(time.median / 1.0))
    t.add("depot peak memory (VmHWM)", Fmt.mb(peak))
    say(t.render())
    BenchResults.record(BenchFigure(
        section: "sync", id: "day", figure: "one van's day over loopback: \(Fmt.int(w.changes)) changes + \(w.blobs) signature blobs, one sync() (\(o.runs) vans) (tally-sync-bench day)",
        unit: "s", higherIsBetter: false, samples: runs.map(\.seconds),
        baseline: "raw SQLite storing the same rows and blobs (one transaction, fsync)", baselineSamples: rawStore,
        aim: "< 1 s", aimValue: 1, note: "depot peak \(Fmt.mb(peak))"))
    BenchResults.record(BenchFigure(
        section: "wire", id: "bytes per change", figure: "bytes on the wire per change, compressed, signature blobs aside (request bodies of the day's sync)",
        unit: "B/change", higherIsBetter: false, samples: runs.map { Double($0.summary.bytesSent - $0.written.blobBytes) / Double($0.summary.pushed) },
        baseline: "the same changes' table, key and values alone as text, deflated", baselineSamples: contentBytes,
        aim: "< 20 B per change", aimValue: 20,
        note: String(format: "with the blobs: %.0f B per change", perChange.median)))
    return [
        "| One van's day: \(Fmt.int(w.changes)) changes + \(w.blobs) blobs, one `sync()` | \(time.text(Fmt.s)) | < 1 s | \(Fmt.x(time.median)) of the aim |",
        "| bytes per change on the wire (with blobs / without) | \(String(format: "%.0f B / %.1f B", perChange.median, perChangeNoBlobs.median)) | | |",
    ]
}

// MARK: - 2. A fleet syncing at once

func benchFleet(_ o: Options, tally: String, scratch: String, pushOnly: Bool = false) async throws -> [String] {
    let dir = scratch + (pushOnly ? "/ingest" : "/fleet")
    let folder = DepotFolder(dir + "/depot")
    try folder.create(schema: RouteSchema.current, options: .quiet())
    let n = o.fleetVans
    let devices = try enroll(folder, (1...n).map { ("van-F\(pad($0, 3))", "F\(pad($0, 3))") }, devicesDir: dir + "/devices")
    let depot = try await DepotProcess(tally: tally, data: folder.path, logPrefix: dir + "/depot", wrapper: o.depotWrapper)

    var t = ContinuousClock.now
    var clients: [SyncClient] = []
    for d in devices { clients.append(try await join(d, depot, pageSize: o.pageSize)) }
    say("  fleet: \(n) vans joined in \(Fmt.s(Fmt.secs(t.duration(to: .now))))")

    // Each van's own day: tickets spread evenly over the range, 15 changes per ticket.
    t = .now
    let span = o.fleetTickets
    let plan: [Int] = (0..<n).map { k in n == 1 ? span.lowerBound : span.lowerBound + (span.upperBound - span.lowerBound) * k / (n - 1) }
    let written: [DayWritten] = try await withThrowingTaskGroup(of: (Int, DayWritten).self) { group in
        for (k, c) in clients.enumerated() {
            let d = devices[k], tickets = plan[k], sigs = o.fleetSignatures
            group.addTask {
                (k, try VanDay.write(c.replica, route: d.route, device: d.name, tickets: tickets, signatures: sigs,
                                     ticketsPerTransaction: 50, seed: UInt64(1_000 + k)))
            }
        }
        var out = [DayWritten](repeating: DayWritten(changes: 0, blobs: 0, blobBytes: 0), count: n)
        for try await (k, w) in group { out[k] = w }
        return out
    }
    let total = written.reduce(0) { $0 + $1.changes }
    let totalBlobs = written.reduce(0) { $0 + $1.blobs }
    say("  fleet: \(Fmt.int(total)) changes written on \(n) vans in \(Fmt.s(Fmt.secs(t.duration(to: .now))))")

    // The baseline: raw SQLite storing every van's rows and blobs, one transaction per van.
    var rawSeconds = 0.0
    do {
        let raw = try RawBaseline(path: dir + "/raw-fleet.sqlite")
        for c in clients {
            let own = try RawBaseline.own(c.replica)
            rawSeconds += raw.store(own.changes, blobs: own.blobs)
        }
        say("  fleet: raw SQLite stores the same rows and blobs in \(Fmt.s(rawSeconds))")
    }
    try? FileManager.default.removeItem(atPath: dir + "/raw-fleet.sqlite")

    // All at once.
    try profile(depot, o, pushOnly ? "ingest" : "fleet")
    let depotCPU0 = depot.cpuSeconds, selfCPU0 = ProcStat.selfCPUSeconds
    let start = ContinuousClock.now
    // Raw pushes wait as long as the depot needs: this measures capacity, not patience.
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = 600
    config.timeoutIntervalForResource = 3_600
    let session = URLSession(configuration: config)
    let url = depot.url
    // A van whose sync fails (a request timing out while the depot is busy) tries again at
    // once, as the app's next sync would; the failures are counted.
    typealias VanResult = (pushed: Int, pending: Int, sent: Int, seconds: Double, pushDone: Double?, failures: [String], finished: Bool)
    // Past the deadline the depot is stopped and every van gives up: the figures say how far it got.
    let stopped = Counter()
    let atDeadline = Mutex<(cpu: Double, peak: Double)?>(nil)
    // A thread of its own, not a task or a dispatch timer: the threads those run on may all be
    // busy with the vans' blocking work (SQLite, JSON) for seconds.
    let over = Counter()
    let limit = ContinuousClock.now + .seconds(o.fleetDeadline)
    Thread {
        while over.value == 0 {
            if ContinuousClock.now >= limit {
                atDeadline.withLock { $0 = (depot.cpuSeconds, depot.peakMemoryMB) }
                stopped.add()
                say("  … deadline of \(o.fleetDeadline) s reached: stopping the depot")
                kill(depot.pid, SIGKILL)
                return
            }
            usleep(100_000)
        }
    }.start()
    let done = Counter()
    let monitor = Task {
        var last = (t: ContinuousClock.now, cpu: depot.cpuSeconds)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(15))
            if Task.isCancelled { break }
            let now = ContinuousClock.now, cpu = depot.cpuSeconds
            say("  … \(Fmt.s(Fmt.secs(start.duration(to: now)))): \(done.value) of \(n) vans done; depot CPU \(String(format: "%.0f%%", 100 * (cpu - last.cpu) / Fmt.secs(last.t.duration(to: now)))), RSS \(Fmt.mb(depot.residentMB))")
            last = (now, cpu)
        }
    }
    let results: [VanResult] = try await withThrowingTaskGroup(of: VanResult.self) { group in
        for (k, c) in clients.enumerated() {
            let credential = devices[k].credential, page = o.pageSize, day = written[k].changes
            group.addTask {
                defer { done.add() }
                if pushOnly {
                    do {
                        let s = o.lightClients
                            ? try await SocketPush.pushAll(c.replica, credential: credential, port: depot.port, pageSize: page)
                            : try await RawPush.pushAll(c.replica, credential: credential, url: url, session: session, pageSize: page)
                        return (s.pushed, s.pending, s.sent, Fmt.secs(start.duration(to: .now)), nil, [], true)
                    } catch where stopped.value > 0 {
                        return (0, day, 0, Fmt.secs(start.duration(to: .now)), nil, ["\(error)"], false)
                    }
                }
                var failures: [String] = []
                while true {
                    let phases = Phases(start: start)
                    do {
                        let s = try await c.sync(progress: { phases.record($0) })
                        // Bytes of the successful attempt only.
                        return (day - s.pending, s.pending, s.bytesSent, Fmt.secs(start.duration(to: .now)), phases.at(.pull), failures, true)
                    } catch {
                        if stopped.value > 0 {
                            let pending = (try? c.pending()) ?? day
                            return (day - pending, pending, 0, Fmt.secs(start.duration(to: .now)), nil, failures, false)
                        }
                        failures.append("\(error)")
                        try await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
        var out: [VanResult] = []
        for try await r in group { out.append(r) }
        return out
    }
    monitor.cancel()
    over.add()
    let timedOut = stopped.value > 0
    let wall = timedOut ? Double(o.fleetDeadline) : Fmt.secs(start.duration(to: .now))
    let frozen = atDeadline.withLock { $0 }
    let depotCPU = (frozen?.cpu ?? depot.cpuSeconds) - depotCPU0, selfCPU = ProcStat.selfCPUSeconds - selfCPU0
    let peak = frozen?.peak ?? depot.peakMemoryMB
    let pushWall = results.map { $0.pushDone ?? $0.seconds }.max() ?? wall
    let pushed = results.reduce(0) { $0 + $1.pushed }
    let pending = results.reduce(0) { $0 + $1.pending }
    let sent = results.reduce(0) { $0 + $1.sent }
    let finished = results.filter(\.finished).count
    await depot.stop()
    let log = PushLog(depot.log)
    if !timedOut {
        guard pushed == total, pending == 0 else { throw ToolError("fleet: pushed \(pushed) of \(total), \(pending) pending") }
        let held = try Replica.open(at: folder.replicaPath, options: .quiet()).changeCount()
        guard held >= total else { throw ToolError("fleet: the depot holds \(held) changes, fewer than the \(total) pushed") }
    }

    var tab = Table((pushOnly ? "2b. \(n) vans pushing at once (pushes only, no pull or blob phase\(o.lightClients ? ", plain-socket clients" : "")): " : "2. \(n) vans syncing at once: ") + "\(Fmt.int(total)) changes (\(Fmt.int(plan.first! * VanDay.changesPerTicket))–\(Fmt.int(plan.last! * VanDay.changesPerTicket)) per van)\(totalBlobs > 0 ? " + \(totalBlobs) blobs" : "")",  // safe: n >= 1
                    ["figure", "value"])
    if timedOut {
        tab.add("DID NOT FINISH within the deadline", "\(finished) of \(n) vans done after \(o.fleetDeadline) s")
        tab.add("changes the depot acknowledged (of \(Fmt.int(total)))", Fmt.int(pushed))
    }
    tab.add("depot log: pushes / changes applied / duplicates re-sent", "\(Fmt.int(log.pushes)) / \(Fmt.int(log.applied)) / \(Fmt.int(log.duplicates))")
    tab.add("depot log: pull requests", Fmt.int(log.pulls))
    tab.add("requests answered 503 busy (Retry-After) and sent again", log.shed == 0 ? "none" : "about \(Fmt.int(log.shed))")
    tab.add(pushOnly ? "wall time, all pushes" : "wall time, all syncs (push + pull + blobs)", Fmt.s(wall))
    if !pushOnly && !timedOut { tab.add("wall time until the last push was acknowledged", Fmt.s(pushWall)) }
    tab.add("depot ingest (changes pushed / wall time)", Fmt.rate(Double(pushed) / wall))
    if !pushOnly && !timedOut { tab.add("depot ingest (changes pushed / push wall time)", Fmt.rate(Double(total) / pushWall)) }
    tab.add("ratio to the aim (100,000 changes/s)", Fmt.x(Double(pushed) / wall / 100_000))
    tab.add(pushOnly ? "one van's pushes, median (min–max)" : "one van's sync, median (min–max)", Stat(results.map(\.seconds)).text(Fmt.s))
    let failures = results.flatMap(\.failures)
    if !pushOnly {
        let kinds = Dictionary(grouping: failures) { f in f.contains("unreachable") ? "depot unreachable (request timed out)" : String(f.prefix(80)) }
        tab.add("syncs that failed and were retried", failures.isEmpty ? "none" : "\(failures.count) on \(results.filter { !$0.failures.isEmpty }.count) vans: " + kinds.map { "\($0.value.count)× \($0.key)" }.joined(separator: "; "))
    }
    tab.add(timedOut ? "depot CPU time (user+sys) / per change acknowledged" : "depot CPU time (user+sys) / per change", "\(Fmt.s(depotCPU)) / \(Fmt.us(depotCPU / Double(max(1, pushed))))")
    tab.add("bench (\(n) clients) CPU time", Fmt.s(selfCPU))
    tab.add("bytes sent / per change", "\(Fmt.bytes(sent)) / \(String(format: "%.1f B", Double(sent) / Double(total)))")
    tab.add("depot peak memory (VmHWM)", Fmt.mb(peak))
    say(tab.render())
    if timedOut {
        return [
            "| \(n) vans \(pushOnly ? "pushing" : "syncing") at once, \(Fmt.int(total)) changes | **did not finish in \(o.fleetDeadline) s**: \(finished) vans done, \(Fmt.int(pushed)) changes acknowledged, \(Fmt.int(log.duplicates)) duplicates re-sent after timeouts | ≥ 100,000/s | |",
            "| … depot peak memory | \(Fmt.mb(peak)) | | |",
        ]
    }
    if !pushOnly {
        let what = "\(n) vans' day-end sync at once: \(Fmt.int(total)) changes + \(Fmt.int(totalBlobs)) blobs (tally-sync-bench fleet)"
        BenchResults.record(BenchFigure(
            section: "sync", id: "fleet wall", figure: what + ", wall time", unit: "s", higherIsBetter: false, samples: [wall],
            baseline: "raw SQLite storing the same rows and blobs, one transaction per van", baselineSamples: [rawSeconds],
            aim: "< 60 s", aimValue: 60,
            note: "\(Fmt.rate(Double(total) / wall)) changes; depot CPU \(Fmt.us(depotCPU / Double(total))) per change; \(failures.count) syncs retried"))
        BenchResults.record(BenchFigure(
            section: "sync", id: "fleet memory", figure: "… the depot's peak memory (VmHWM)", unit: "MB", higherIsBetter: false,
            samples: [peak], aim: "< 300 MB", aimValue: 300))
    }
    if pushOnly {
        return [
            "| \(n) vans pushing only (no pull\(o.lightClients ? ", plain-socket clients" : "")), \(Fmt.int(total)) changes: depot ingest | \(Fmt.rate(Double(total) / wall)) (wall \(Fmt.s(wall))) | ≥ 100,000/s | \(Fmt.x(Double(total) / wall / 100_000)) |",
            "| … depot CPU per change; depot peak memory | \(Fmt.us(depotCPU / Double(total))); \(Fmt.mb(peak)) | | |",
        ]
    }
    return [
        "| \(n) vans syncing at once, \(Fmt.int(total)) changes: depot ingest | \(Fmt.rate(Double(total) / wall)) (wall \(Fmt.s(wall)); pushes done at \(Fmt.s(pushWall)); \(failures.count) syncs timed out and were retried) | ≥ 100,000/s | \(Fmt.x(Double(total) / wall / 100_000)) |",
        "| … depot CPU per change; depot peak memory | \(Fmt.us(depotCPU / Double(total))); \(Fmt.mb(peak)) | | |",
    ]
}

// MARK: - 3. First sync of a new device

/// What the depot's log says about pushes and pulls.
struct PushLog {
    var pushes = 0, applied = 0, duplicates = 0, pulls = 0
    /// Requests the depot answered 503 busy: its log counts them at the first and every 100th.
    var shed = 0
    init(_ log: String) {
        for line in log.split(separator: "\n") {
            func field(_ name: String) -> Int {
                guard let r = line.range(of: " " + name + "=") else { return 0 }
                return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            if line.hasSuffix("] push") { pushes += 1; applied += field("applied"); duplicates += field("duplicates") }
            if line.hasSuffix("] pull") { pulls += 1 }
            if line.contains("busy: requests shed") { shed = max(shed, field("shed")) }
        }
    }
}

/// The depot's own timings of the snapshots it built (its log's "snapshot" lines).
func snapshotLog(_ log: String) -> [(ms: Int, bytes: Int)] {
    log.split(separator: "\n").filter { $0.hasSuffix("snapshot") || $0.contains(" snapshot") && $0.contains("bytes=") }.compactMap { line in
        func field(_ name: String) -> Int? {
            guard let r = line.range(of: name + "=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
        guard let ms = field("ms"), let bytes = field("bytes") else { return nil }
        return (ms, bytes)
    }
}

func benchFirst(_ o: Options, tally: String, scratch: String) async throws -> [String] {
    let dir = scratch + "/first"
    let folder = DepotFolder(dir + "/depot")
    try folder.create(schema: RouteSchema.current, options: .quiet())
    var t = ContinuousClock.now
    do {
        let r = try folder.replica(schema: RouteSchema.current, options: .quiet(durability: .off))
        try DepotLoad.tickets(r, route: "R01", count: o.firstRows)
        try r.checkpoint()
    }
    let loadSecs = Fmt.secs(t.duration(to: .now))
    say("  first: \(Fmt.int(o.firstRows)) R01 tickets written into depot.sqlite in \(Fmt.s(loadSecs)) (\(Fmt.bytes(fileSize(folder.replicaPath))))")
    let devices = try enroll(folder, [("van-R01-feeder", "R01")] + (1...o.firstRuns).map { ("van-R01-new\($0)", "R01") }, devicesDir: dir + "/devices")
    let depot = try await DepotProcess(tally: tally, data: folder.path, logPrefix: dir + "/depot", wrapper: o.depotWrapper)

    try profile(depot, o, "first")
    // A second van of the route, whose changes after each snapshot the new device pulls.
    t = .now
    let feeder = try await join(devices[0], depot, pageSize: o.pageSize)
    let feederJoin = Fmt.secs(t.duration(to: .now))
    say("  first: the feeder van joined in \(Fmt.s(feederJoin)) (\(Fmt.bytes(fileSize(devices[0].path))) replica)")

    var joins: [Double] = [], firsts: [Double] = [], replicaBytes: [Int] = [], received: [Int] = []
    var offset = 0
    for i in 1...o.firstRuns {
        let d = devices[i]
        t = .now
        let c = try await join(d, depot, pageSize: o.pageSize)
        joins.append(Fmt.secs(t.duration(to: .now)))
        replicaBytes.append(fileSize(d.path))
        let n = try DepotLoad.deltas(feeder.replica, route: "R01", device: devices[0].name, count: o.firstDeltas, offset: offset)
        offset += n / 3
        let fs = try await feeder.sync()
        guard fs.pushed == n else { throw ToolError("the feeder pushed \(fs.pushed) of \(n)") }
        t = .now
        let s = try await c.sync()
        firsts.append(Fmt.secs(t.duration(to: .now)))
        received.append(s.bytesReceived)
        guard s.pulled == n else { throw ToolError("the new device pulled \(s.pulled) changes, not the \(n) written after its snapshot") }
        for k in [0, o.firstRows - 1] {
            let key = "R01" + String(format: "-T%07d", k)
            guard try c.replica.row("tickets", key: key) != nil else { throw ToolError("the new device lacks ticket \(key)") }
        }
        say("  first run \(i): join \(Fmt.s(joins.last!)), first sync \(Fmt.s(firsts.last!)) pulling \(Fmt.int(n)) changes")  // safe: appended above
        removeReplica(d.path)
    }
    // The join's steps one by one (the feeder is joined, so it may ask for its snapshot again).
    let steps = try await SnapshotSteps.measure(url: depot.url, credential: devices[0].credential, path: dir + "/devices/steps.sqlite", options: deviceOptions)
    removeReplica(dir + "/devices/steps.sqlite")
    let peak = depot.peakMemoryMB
    let snaps = snapshotLog(depot.log)
    await depot.stop()

    let join = Stat(joins), first = Stat(firsts)
    let total = Stat(zip(joins, firsts).map { $0 + $1 })
    // The baseline: raw SQLite copying the route's rows into a new file, each run.
    var copies: [Double] = []
    for _ in 1...o.firstRuns {
        let (secs, rows) = try RawBaseline.copyRoute(from: folder.replicaPath, table: "tickets", route: "R01", to: dir + "/raw-copy.sqlite")
        guard rows == o.firstRows else { throw ToolError("raw copy: \(rows) rows") }
        copies.append(secs)
    }
    try? FileManager.default.removeItem(atPath: dir + "/raw-copy.sqlite")
    BenchResults.record(BenchFigure(
        section: "sync", id: "first", figure: "a new device's first sync: join with \(Fmt.int(o.firstRows)) rows, then \(Fmt.int(o.firstDeltas)) later changes (tally-sync-bench first)",
        unit: "s", higherIsBetter: false, samples: zip(joins, firsts).map { $0 + $1 },
        baseline: "raw SQLite copying the same rows into a new file (CREATE TABLE … AS SELECT)", baselineSamples: copies,
        aim: "< 10 s", aimValue: 10, note: "depot peak \(Fmt.mb(peak))"))
    var tab = Table("3. First sync of a new device: \(Fmt.int(o.firstRows)) rows of its route at the depot, \(Fmt.int(o.firstDeltas)) changes after the snapshot (\(o.firstRuns) runs)",
                    ["figure", "median (min–max)"])
    tab.add("join (snapshot built, sent, stored)", join.text(Fmt.s))
    if !snaps.isEmpty {
        tab.add("  depot: building the snapshot file", Stat(snaps.map { Double($0.ms) / 1000 }).text(Fmt.s))
        tab.add("  snapshot file (uncompressed)", Fmt.bytes(snaps.last!.bytes))  // safe: not empty
    }
    tab.add("  replica file on the device", Fmt.bytes(replicaBytes.first ?? 0))
    let buildLast = snaps.last.map { Double($0.ms) / 1000 } ?? 0
    tab.add("  one join, step by step: GET /v1/snapshot", Fmt.s(steps.request))
    tab.add("    of which the depot builds the file", Fmt.s(buildLast))
    tab.add("    of which the depot deflates it (level 1, redone here)", "\(Fmt.s(steps.deflate)): \(Fmt.bytes(steps.file)) → \(Fmt.bytes(steps.compressed)) on the wire")
    tab.add("  then inflate (in URLSession) / write file / open / settings + checkpoint",
            "\(steps.received == steps.file ? "–" : Fmt.s(steps.inflate)) / \(Fmt.s(steps.write)) / \(Fmt.s(steps.open)) / \(Fmt.s(steps.settings))")
    tab.add("first sync() pulling \(Fmt.int(o.firstDeltas)) changes", first.text(Fmt.s))
    tab.add("join + first sync", total.text(Fmt.s))
    tab.add("ratio to the aim (10 s)", Fmt.x(total.median / 10))
    tab.add("(feeder van's join, same snapshot)", Fmt.s(feederJoin))
    tab.add("depot peak memory (VmHWM)", Fmt.mb(peak))
    tab.add("(bulk load of the depot, in-process)", "\(Fmt.s(loadSecs)), \(Fmt.rate(Double(o.firstRows) / loadSecs))")
    say(tab.render())
    return [
        "| New device, \(Fmt.int(o.firstRows)) rows: join (snapshot) + first sync of \(Fmt.int(o.firstDeltas)) deltas | \(total.text(Fmt.s)) (join \(Fmt.s(join.median)), sync \(Fmt.s(first.median))) | < 10 s | \(Fmt.x(total.median / 10)) of the aim |",
        "| … depot peak memory while serving the snapshot | \(Fmt.mb(peak)) | | |",
    ]
}

// MARK: - 3b. Deltas versus snapshot

func benchDelta(_ o: Options, tally: String, scratch: String) async throws -> [String] {
    let dir = scratch + "/delta"
    let folder = DepotFolder(dir + "/depot")
    try folder.create(schema: RouteSchema.current, options: .quiet())
    let devices = try enroll(folder, [("van-R02-old", "R02"), ("van-R02-new", "R02")], devicesDir: dir + "/devices")
    // The old van joins an empty depot, then is away while the depot gathers the rows.
    var depot = try await DepotProcess(tally: tally, data: folder.path, logPrefix: dir + "/depot", wrapper: o.depotWrapper)
    let port = depot.port
    _ = try await SyncClient.join(url: depot.url, credential: devices[0].credential, replicaPath: devices[0].path, options: deviceOptions)
    await depot.stop()
    do {
        let r = try folder.replica(schema: RouteSchema.current, options: .quiet(durability: .off))
        try DepotLoad.tickets(r, route: "R02", count: o.deltaRows)
        try r.checkpoint()
    }
    depot = try await DepotProcess(tally: tally, data: folder.path, logPrefix: dir + "/depot", port: port, wrapper: o.depotWrapper)
    try profile(depot, o, "delta")
    let old = try SyncClient(replica: try Replica.open(at: devices[0].path, options: deviceOptions), logger: quietLogger, pageSize: o.pageSize)
    var t = ContinuousClock.now
    let s = try await old.sync()
    let pullSecs = Fmt.secs(t.duration(to: .now))
    guard s.pulled == o.deltaRows else { throw ToolError("delta: pulled \(s.pulled) of \(o.deltaRows)") }
    t = .now
    _ = try await join(devices[1], depot, pageSize: o.pageSize)
    let snapSecs = Fmt.secs(t.duration(to: .now))
    let peak = depot.peakMemoryMB
    await depot.stop()

    var tab = Table("3b. The same \(Fmt.int(o.deltaRows)) rows as deltas or as a snapshot", ["way", "time", "rows/s", "received (after URLSession inflates)"])
    tab.add("pull pages (\(o.pageSize) changes each) in one sync()", Fmt.s(pullSecs), Fmt.rate(Double(o.deltaRows) / pullSecs), Fmt.bytes(s.bytesReceived))
    tab.add("join with the snapshot", Fmt.s(snapSecs), Fmt.rate(Double(o.deltaRows) / snapSecs), Fmt.bytes(fileSize(devices[1].path)) + " file")
    tab.add("deltas ÷ snapshot", Fmt.x(pullSecs / snapSecs), "", "")
    tab.add("depot peak memory (VmHWM)", Fmt.mb(peak), "", "")
    say(tab.render())
    return [
        "| \(Fmt.int(o.deltaRows)) rows as pull pages vs as a snapshot | \(Fmt.s(pullSecs)) vs \(Fmt.s(snapSecs)) (\(Fmt.x(pullSecs / snapSecs))) | | |",
    ]
}

// MARK: - 4. Where the time goes, piece by piece

func benchBreakdown(_ o: Options, scratch: String) async throws -> [String] {
    let dir = scratch + "/breakdown"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let van = try Replica.create(at: dir + "/van.sqlite", schema: RouteSchema.current, options: .quiet())
    let written = try VanDay.write(van, route: "B01", device: "van-B01", tickets: o.breakdownTickets, signatures: 0,
                                   ticketsPerTransaction: 50, seed: 7)
    let folder = DepotFolder(dir + "/depot")
    try folder.create(schema: RouteSchema.current, options: .quiet())
    let registry = try folder.registry(clock: SystemWallClock())
    _ = try registry.enroll(name: "van-B01", role: .van, scope: "B01")
    _ = try registry.enroll(name: "van-B02", role: .van, scope: "B02")
    _ = try registry.enroll(name: "accountant", role: .accountant, scope: nil)
    try registry.bind(device: "van-B01", site: van.site.hex)
    let owner = try registry.device(named: "van-B01")!, other = try registry.device(named: "van-B02")!  // safe: enrolled above
    let accountant = try registry.device(named: "accountant")!  // safe: enrolled above
    let depot = try folder.replica(schema: RouteSchema.current, options: .quiet(durability: .full))
    let policy = ColumnScopePolicy(schema: depot.schema)
    let n = written.changes
    let page = o.pageSize

    var tRead = 0.0, tEncode = 0.0, tDeflate = 0.0, tInflate = 0.0, tDecode = 0.0, tDecodeJSON = 0.0, tScope = 0.0, tApply = 0.0
    var jsonBytes = 0, zBytes = 0
    var bodies: [[UInt8]] = []
    var ack: UInt64 = 0
    func time<T>(_ acc: inout Double, _ body: () throws -> T) rethrows -> T {
        let t = ContinuousClock.now
        let r = try body()
        acc += Fmt.secs(t.duration(to: .now))
        return r
    }
    while true {
        let changes = try time(&tRead) { try van.ownChanges(after: ack, limit: page) }
        if changes.isEmpty { break }
        let req = PushRequest(schemaVersion: 1, site: van.site, changes: changes)
        let json = try time(&tEncode) { try WireCodec.encode(req, compress: false) }
        let z = time(&tDeflate) { Deflate.compress(json, level: 6) }
        jsonBytes += json.count; zBytes += z.count
        let inflated = try time(&tInflate) { try Deflate.decompress(z, limit: WireLimits.maxInflated) }
        bodies.append(inflated)
        let decoded = try time(&tDecode) { try WireCodec.decodePush(from: inflated, compressed: false) }
        let viaDecoder = try time(&tDecodeJSON) { try WireCodec.decode(PushRequest.self, from: inflated, compressed: false) }
        guard PushParser.parse(inflated) != nil, decoded == viaDecoder else { throw ToolError("breakdown: PushParser and JSONDecoder disagree on a push body") }
        // As DepotService.push checks: each change against the row as the push has written it so far.
        let refused = try time(&tScope) {
            try depot.read { rows in
                var written: [String: [ColumnValue]] = [:]
                for c in decoded.changes {
                    let id = c.table + "\u{0}" + c.key
                    var checked = c
                    if let earlier = written[id] {
                        for v in earlier where c.value(v.column) == nil { checked.values.append(v) }
                    }
                    if try policy.refusal(checked, device: owner, rows: rows) != nil { return true }
                    if !c.values.isEmpty { written[id] = checked.values }
                }
                return false
            }
        }
        guard !refused else { throw ToolError("breakdown: the scope policy refused the van's own changes") }
        _ = try time(&tApply) { try depot.apply(decoded.changes) }
        ack = changes.last!.seq  // safe: not empty
    }
    // The pull side: a van of another route examines every change and receives none; an
    // accountant receives them all.
    func pullScan(_ device: DeviceRecord) throws -> (Double, Double, Int, Int) {
        var cursor = VersionVector()
        var tScan = 0.0, tJSON = 0.0, served = 0, bytes = 0
        while true {
            let p = try time(&tScan) {
                try depot.changePage(after: cursor, limit: page, owners: policy.pageOwners(device: device)) { c, rows in try policy.canRead(c, device: device, rows: rows) }
            }
            let body = try time(&tJSON) { try WireCodec.encode(PullResponse(changes: p.changes, cursor: p.cursor, more: p.more, ack: 0), compress: true) }
            served += p.changes.count; bytes += body.count
            cursor = p.cursor
            if !p.more { break }
        }
        return (tScan, tJSON, served, bytes)
    }
    let (scanOther, _, servedOther, _) = try pullScan(other)
    let (scanAll, jsonAll, servedAll, _) = try pullScan(accountant)
    guard servedOther == 0, servedAll == n else { throw ToolError("breakdown: pull served \(servedOther) / \(servedAll) of \(n)") }
    // The whole service path (DepotService.handle: inflate, decode, scope, merge, answer), no HTTP.
    let folder2 = DepotFolder(dir + "/depot2")
    try folder2.create(schema: RouteSchema.current, options: .quiet())
    let registry2 = try folder2.registry(clock: SystemWallClock())
    let (_, cred2) = try registry2.enroll(name: "van-B01", role: .van, scope: "B01")
    try registry2.bind(device: "van-B01", site: van.site.hex)
    let depot2 = try folder2.replica(schema: RouteSchema.current, options: .quiet(durability: .full))
    let service = DepotService(replica: depot2, registry: registry2, scope: ColumnScopePolicy(schema: depot2.schema), clock: SystemWallClock(),
                               logger: quietLogger, version: "bench", scratch: dir)
    var tService = 0.0
    ack = 0
    while true {
        let changes = try van.ownChanges(after: ack, limit: page)
        if changes.isEmpty { break }
        let body = try WireCodec.encode(PushRequest(schemaVersion: 1, site: van.site, changes: changes), compress: true)
        let req = DepotRequest(method: "POST", path: "/v1/push", headers: ["Authorization": "Bearer \(cred2.token)", "Content-Encoding": "deflate",
                                                                            "Accept-Encoding": "deflate"], body: body)
        let res = time(&tService) { service.handle(req) }
        guard res.status == 200 else { throw ToolError("breakdown: the service answered \(res.status): \(String(decoding: res.body, as: UTF8.self))") }
        ack = changes.last!.seq  // safe: not empty
    }

    // The apply path alone: a replica with no scope or HTTP in front.
    let fresh = try Replica.create(at: dir + "/apply-only.sqlite", schema: RouteSchema.current, options: .quiet(durability: .full))
    var tApplyOnly = 0.0
    ack = 0
    while true {
        let changes = try van.ownChanges(after: ack, limit: page)
        if changes.isEmpty { break }
        _ = try time(&tApplyOnly) { try fresh.apply(changes) }
        ack = changes.last!.seq  // safe: not empty
    }

    // A blob as the depot stores one per PUT: its own transaction, with an fsync at FULL.
    var blobTimes: [(Durability, Double)] = []
    for d in [Durability.full, .normal] {
        let r = try Replica.create(at: dir + "/blobs-\(d.rawValue).sqlite", schema: RouteSchema.current, options: .quiet(durability: d))
        var rng = SeededGenerator(seed: 9)
        let blobs = (0..<200).map { _ in rng.bytes(8_192) }
        let t = ContinuousClock.now
        for b in blobs { try r.putBlob(b) }
        blobTimes.append((d, Fmt.secs(t.duration(to: .now)) / 200))
    }

    let per = { (t: Double) in Fmt.us(t / Double(n)) }
    let rate = { (t: Double) in Fmt.rate(Double(n) / t) }
    var tab = Table("4. Where the time goes: \(Fmt.int(n)) changes of one van, pages of \(page), in-process (no HTTP), one core",
                    ["step", "side", "per change", "changes/s"])
    tab.add("read own changes from the log", "van", per(tRead), rate(tRead))
    tab.add("JSON encode (PushWriter, by hand; the bytes JSONEncoder writes)", "van", per(tEncode), rate(tEncode))
    tab.add("deflate level 6", "van", per(tDeflate), rate(tDeflate))
    tab.add("inflate", "depot", per(tInflate), rate(tInflate))
    tab.add("JSON decode (PushParser, over the bytes)", "depot", per(tDecode), rate(tDecode))
    tab.add("  same bodies with JSONDecoder (PushRequest, Value trying String first)", "(alt.)", per(tDecodeJSON), rate(tDecodeJSON))
    let variants = try DecodeVariants.time(bodies)
    tab.add("  same bodies into wire-shaped structs, the old Value order (blob probe first)", "(alt.)", per(variants.probeFirst), rate(variants.probeFirst))
    tab.add("  same structs, Value trying String first", "(alt.)", per(variants.stringFirst), rate(variants.stringFirst))
    tab.add("  same bodies, untyped JSONSerialization", "(alt.)", per(variants.serialization), rate(variants.serialization))
    tab.add("scope check (refusal: a row read per change)", "depot", per(tScope), rate(tScope))
    tab.add("merge into depot.sqlite (apply, synchronous=FULL)", "depot", per(tApply), rate(tApply))
    let depotSum = tInflate + tDecode + tScope + tApply
    tab.add("depot total for a push (sum of the above)", "depot", per(depotSum), rate(depotSum))
    tab.add("DepotService.handle(push), whole, no HTTP", "depot", per(tService), rate(tService))
    tab.add("pull scan for a van of another route (owner index; 0 served)", "depot", per(scanOther), rate(scanOther))
    tab.add("pull scan for an accountant (all served)", "depot", per(scanAll), rate(scanAll))
    tab.add("  + JSON encode + deflate of the pull pages", "depot", per(jsonAll), rate(jsonAll))
    tab.add("apply into an empty replica (same changes)", "—", per(tApplyOnly), rate(tApplyOnly))
    say(tab.render())
    say(String(format: "  JSON %.1f B/change, deflated %.1f B/change (%.0f%%)", Double(jsonBytes) / Double(n), Double(zBytes) / Double(n),
               100 * Double(zBytes) / Double(jsonBytes)))
    say("  storing one 8 KB blob in its own transaction (as a PUT does): " + blobTimes.map { "\(Fmt.ms($0.1)) at synchronous=\($0.0.rawValue.uppercased())" }.joined(separator: ", "))
    return [
        "| In-process push path per change: JSON decode / scope / merge | \(per(tDecode)) / \(per(tScope)) / \(per(tApply)) (depot total \(rate(depotSum)) on one core) | | |",
    ]
}

// MARK: - Main

func machine() -> String {
    let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        .first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
    let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores (nproc), \(cpu), \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GB RAM; load average \(load)"
}

do {
    let o = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let tally = o.tally ?? exe.deletingLastPathComponent().appendingPathComponent("tally").path
    guard FileManager.default.isExecutableFile(atPath: tally) else {
        throw ToolError("no tally executable at \(tally): build it with `swift build -c release --product tally`, or pass --tally PATH")
    }
    let scratch = o.scratch ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("tally-sync-bench-\(getpid())")
    if FileManager.default.fileExists(atPath: scratch) {
        guard (try FileManager.default.contentsOfDirectory(atPath: scratch)).isEmpty else { throw ToolError("\(scratch) is not empty") }
    }
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { if !o.keep { try? FileManager.default.removeItem(atPath: scratch) } }

    say("tally-sync-bench\(o.quick ? " --quick" : ""): \(machine())")
    say("depot: \(tally) depot serve (own process, loopback); scratch \(scratch)")
    let started = ContinuousClock.now
    var summary: [String] = []
    if o.only.contains("day") { summary += try await benchDay(o, tally: tally, scratch: scratch) }
    if o.only.contains("fleet") { summary += try await benchFleet(o, tally: tally, scratch: scratch) }
    if o.only.contains("ingest") { summary += try await benchFleet(o, tally: tally, scratch: scratch, pushOnly: true) }
    if o.only.contains("first") { summary += try await benchFirst(o, tally: tally, scratch: scratch) }
    if o.only.contains("delta") { summary += try await benchDelta(o, tally: tally, scratch: scratch) }
    if o.only.contains("breakdown") { summary += try await benchBreakdown(o, scratch: scratch) }
    say("\n== Summary (markdown) ==\n| figure | measured | aim | |\n| --- | --- | --- | --- |")
    for line in summary { say(line) }
    let load = ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    say("\nload average at the end \(load) (other work on the machine inflates wall times)")
    say("bench process peak memory \(Fmt.mb(ProcStat.selfPeakMemoryMB)); total \(Fmt.s(Fmt.secs(started.duration(to: .now))))")
} catch {
    FileHandle.standardError.write(Data("tally-sync-bench: \(error)\n".utf8))
    Running.stopAll()
    exit(1)
}
