import Foundation
import TallyToolSupport
#if canImport(Glibc)
import Glibc
#endif
import TallyReplica
import TallyRoutes
import TallySync

/// One run: set up a depot and its devices, work the days with faults, heal, then check.
final class Simulation: @unchecked Sendable {  // safe: driven from one task; devices by one task each
    let config: SimConfig
    let work: String
    let depot: DepotRunner
    var proxy: FaultProxy!
    var devices: [SimDevice] = []
    var rng: SeededGenerator
    var stats = SimStats()
    let started = Date()
    /// Day faults (`DayFaults.swift`): the morning's depot backup, the depot's tmpfs, counts.
    var backupToday: String?
    var diskMount: String?
    var walLosses = 0
    let dayFaults = DayFaultCounts()

    init(_ config: SimConfig) throws {
        self.config = config
        rng = SeededGenerator(seed: config.seed)
        work = config.work ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("tally-sim-\(config.seed)-\(getpid())")
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let tally = here.appendingPathComponent("tally").path
        guard FileManager.default.isExecutableFile(atPath: tally) else {
            throw ToolError("no tally binary beside tally-sim (\(tally)); build both: swift build -c release --product tally && swift build -c release --product tally-sim")
        }
        depot = DepotRunner(tally: tally, data: (work as NSString).appendingPathComponent("depot"), logDir: work)
    }

    var proxyURL: URL { URL(string: "http://127.0.0.1:\(proxy.port)")! }  // safe: well-formed

    func run() async throws -> Verdict {
        try await setUp()
        let base = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18, a fixed start
        var day = 0
        while true {
            let date = Self.dayString(base.addingTimeInterval(Double(day) * 86_400))
            try await runDay(day, date: date)
            day += 1
            stats.days = day
            let elapsed = Date().timeIntervalSince(started) / 60
            if day >= config.days, config.minutes.map({ elapsed >= $0 }) ?? true { break }
        }
        try await heal()
        let days = (0..<day).map { Self.dayString(base.addingTimeInterval(Double($0) * 86_400)) }
        var verdict = try check(days: days)
        await depot.stop()
        if verdict.passed && config.proveChecks { verdict = try proveChecks(verdict, days: days) }
        if let m = diskMount { Tmpfs.unmount(m, keepingIn: verdict.passed ? nil : m + "-kept") }
        if verdict.passed && !config.keep { try? FileManager.default.removeItem(atPath: work) }
        return verdict
    }

    // MARK: - Set-up

    func setUp() async throws {
        if config.dayFaultChance > 0 && Tmpfs.mount(depot.data) { diskMount = depot.data }
        try depot.run(["depot", "init", "--data", depot.data])
        try await depot.start()
        proxy = try FaultProxy(upstreamPort: depot.port, seed: config.seed &+ 1)
        let total = config.vans + config.windows
        for i in 0..<total {
            let isVan = i < config.vans
            let name = isVan ? String(format: "van-%03d", i + 1) : String(format: "win-%02d", i - config.vans + 1)
            let scope = isVan ? String(format: "R%03d", i + 1) : String(format: "W%02d", i - config.vans + 1)
            // One device in five has a clock off, slow and fast in turn: up to three hours slow, or up to four minutes
            // fast (more than the depot's five-minute bound is refused by design).
            var skew: Int64 = 0
            if i % 5 == 2 {
                skew = (i / 5) % 2 == 0 ? -Int64.random(in: 60_000...10_800_000, using: &rng) : Int64.random(in: 1_000...240_000, using: &rng)
                stats.skewed += 1
            }
            let d = SimDevice(name: name, role: isVan ? .van : .window, scope: scope,
                              path: (work as NSString).appendingPathComponent("\(name).sqlite"), skewMs: skew)
            let json = try depot.run(["depot", "enroll", name, "--role", isVan ? "van" : "window",
                                      isVan ? "--route" : "--window", scope, "--data", depot.data, "--json"])
            guard let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let credential = obj["credential"] as? String else { throw ToolError("enroll \(name): \(json)") }
            devices.append(d)
            credentials[name] = credential
        }
        // Each van's ticket for its notes, issued by the depot (a device cannot create tickets:
        // what the order system decides is the depot's); every van joins after, so its first
        // copy holds it.
        let depotReplica = try Replica.open(at: (depot.data as NSString).appendingPathComponent("depot.sqlite"), options: .quiet())
        try depotReplica.write { tx in
            for d in devices where d.role == .van {
                try tx.insert("tickets", key: SimDevice.notesTicket(d.scope), ["route": .text(d.scope), "status": "planned"])
            }
        }
        try depotReplica.close()
    }

    /// Offline spells of three to six days start all through the run: on average one device in
    /// eighty a day, and one on the first day whatever the fleet's size. While away, a device
    /// works but holds the depot's compaction back.
    func startOfflineSpells(day: Int) {
        let expected = Double(devices.count) / 80
        var starts = Int(expected) + (Double.random(in: 0..<1, using: &rng) < expected - Double(Int(expected)) ? 1 : 0)
        if day == 0 { starts = max(starts, 1) }
        for d in devices.shuffled(using: &rng).filter({ !$0.offlineDays.contains(day) }).prefix(starts) {
            d.offlineDays = day..<(day + Int.random(in: 3...6, using: &rng))
            stats.offlineDevices += 1
        }
    }

    var credentials: [String: String] = [:]

    // MARK: - A day

    func runDay(_ index: Int, date: String) async throws {
        // Devices join on their first day, through the proxy, with the line working.
        proxy.setFaultRate(0)
        try await forEachDevice(devices.filter { $0.replica == nil }) { [credentials, proxyURL] d in
            try await d.join(url: proxyURL, credential: credentials[d.name]!)  // safe: enrolled above
        }
        proxy.setFaultRate(config.faultRate)

        startOfflineSpells(day: index)
        let plan = DayFaultPlan.draw(day: index, chance: config.dayFaultChance, diskFullPossible: diskMount != nil, rng: &rng)
        let copies = try morningFaults(plan, day: index, date: date)
        // Morning: everyone works.
        for d in devices {
            let n = d.role == .van ? Int.random(in: 8...20, using: &rng) : Int.random(in: 4...10, using: &rng)
            try d.work(day: date, entries: n, rng: &rng)
            stats.entriesWritten += n + 1
        }
        // A handheld dies mid-write.
        for _ in 0..<config.deviceKillsPerDay {
            try await killMidWrite(devices.randomElement(using: &rng)!, date: date)  // safe: not empty
        }
        // Evening: sync, while the depot may be killed and the line breaks.
        // (Not on a day its disk fills: a depot started on a full disk is another test.)
        let killDepot = Double.random(in: 0..<1, using: &rng) < config.depotKillChance && !plan.has(.diskFull)
        let killAfter = Double.random(in: 0.05...1.5, using: &rng)
        let during = duringSyncFaults(plan)
        async let outage: Void = killDepot ? depotOutage(after: killAfter) : ()
        let online = devices.filter { !$0.offlineDays.contains(index) }
        stats.offlineSkips += devices.count - online.count
        try await forEachDevice(online) { [self] d in
            // A driver whose sync broke tries once more a moment later.
            if await syncOnce(d) { return }
            try await Task.sleep(nanoseconds: UInt64.random(in: 200_000_000...1_500_000_000))
            _ = await syncOnce(d)
        }
        try await outage
        await during.disk?.value
        if let t = during.tricklers {
            t.stop()
            dayFaults.slowCut += t.closedByDepot
        }
        proxy.replayHeld()
        try await eveningFaults(plan, day: index, date: date, copies: copies)
        // The depot compacts its history at day end, while it serves; it does not wait for
        // devices away two days or more: they are set up again when they come back.
        compact(setAside: devices.filter { $0.offlineDays.contains(index) && index - $0.offlineDays.lowerBound >= 1 }.map(\.name))
        depot.sample()
        log("day \(index + 1) \(date): \(stats.entriesWritten) entries so far, \(stats.syncOK) syncs ok, \(stats.syncFailed) broken, depot kills \(stats.depotKills), peak \(depot.peakKB / 1024) MB")
    }

    /// `tally depot compact` on the serving depot; counts what it freed.
    func compact(setAside: [String] = []) {
        guard depot.isRunning, let out = try? depot.run(["depot", "compact", "--data", depot.data, "--json"] + setAside.flatMap { ["--set-aside", $0] }),
              let obj = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let freed = obj["freed"] as? [String: Any] else { return }
        stats.compactions += 1
        stats.compactedEntries += freed["log_entries"] as? Int ?? 0
        stats.compactedTombstones += freed["tombstones"] as? Int ?? 0
    }

    /// Kills the depot with SIGKILL mid-sync and starts it again on the same port.
    func depotOutage(after seconds: Double) async throws {
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        depot.kill9()
        stats.depotKills += 1
        try await Task.sleep(nanoseconds: 300_000_000)
        try await depot.start()
    }

    /// Runs a child process writing into the device's file and kills it with SIGKILL after a
    /// few to a few hundred milliseconds; adopts whatever it committed.
    func killMidWrite(_ d: SimDevice, date: String) async throws {
        try d.closeFile()
        stats.deviceKills += 1
        let prefix = "\(d.name)-\(date)-K\(stats.deviceKills)-"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        p.arguments = ["child-write", d.path, d.name, d.role.rawValue, d.scope, date, prefix]
        let out = (work as NSString).appendingPathComponent("child.out")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        try await Task.sleep(nanoseconds: UInt64(Int.random(in: 5...400, using: &rng)) * 1_000_000)
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let printed = Set(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        try d.open()
        let (adopted, lost) = try d.adopt(childPrefix: prefix, printed: printed)
        stats.childAcknowledged += printed.count
        stats.childCommitted += adopted
        stats.entriesWritten += adopted
        stats.lostAtKill += lost
    }

    /// One sync; true when it completed.
    func syncOnce(_ d: SimDevice) async -> Bool {
        guard d.replica != nil else { return false }
        do {
            // As `tally sync` does: set up again from the depot if it compacted past the device.
            if try await d.sync().rebaselined != nil { stats.rebaselined(d.name) }
            stats.record(ok: true, nil)
            return true
        } catch {
            stats.record(ok: false, error)
            return false
        }
    }

    /// Runs `body` for every device, at most `config.parallel` at once.
    func forEachDevice(_ list: [SimDevice], _ body: @escaping @Sendable (SimDevice) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < min(config.parallel, list.count) { let d = list[next]; group.addTask { try await body(d) }; next += 1 }
            while try await group.next() != nil {
                if next < list.count { let d = list[next]; group.addTask { try await body(d) }; next += 1 }
            }
        }
    }

    // MARK: - Heal and check

    /// The line is mended and the depot kept up: every device syncs until the depot has all it
    /// holds and it has pulled everything, then once more.
    func heal() async throws {
        proxy.setFaultRate(0)
        if !depot.isRunning { try await depot.start() }
        proxy.replayHeld()
        for round in 0..<6 {
            let behind = devices.filter { $0.pending() > 0 || round == 0 }
            if behind.isEmpty { break }
            try await forEachDevice(behind) { [self] d in _ = await syncOnce(d) }
        }
        // A last pull for all, so each holds what the others pushed last; then the depot
        // compacts everything all have, and every device syncs once more after it.
        try await forEachDevice(devices) { [self] d in _ = await syncOnce(d) }
        try reviewHeld()
        compact()
        try await forEachDevice(devices) { [self] d in _ = await syncOnce(d) }
        depot.sample()
    }

    /// The depot staff's review: the notes held from devices set up again are listed (each
    /// must come from such a device) and released, so they reach every device of the route.
    func reviewHeld() throws {
        let json = try depot.run(["depot", "quarantine", "list", "--data", depot.data, "--json"])
        guard let items = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw ToolError("quarantine list: not JSON: \(json.prefix(200))")
        }
        stats.held = items.count
        for item in items {
            let device = item["device"] as? String ?? "?"
            if !stats.rebaselinedDevices.contains(device) && !setUpAgain(device) {
                stats.heldProblems.append("HELD: \(item["table"] ?? "?") \(item["key"] ?? "?") of \(device) was held, but \(device) was never set up again")
            }
        }
        if !items.isEmpty { _ = try depot.run(["depot", "quarantine", "release", "--all", "--data", depot.data]) }
    }

    /// Whether a device was set up again from the depot at some sync, as its kept files show
    /// (a sync that set it up again and then broke on the line returned no summary saying so).
    func setUpAgain(_ device: String) -> Bool {
        guard let d = devices.first(where: { $0.name == device }) else { return false }
        let base = (d.path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
        return names.contains { $0.hasPrefix(base + ".before-rebaseline-") || $0.hasPrefix(base + ".before-recovery-") }
    }

    func check(days: [String]) throws -> Verdict {
        var problems: [String] = stats.faultProblems
        problems += stats.lostAtKill.map { "LOSS: \($0) was acknowledged by a device killed mid-write and is not in its file" }

        // 1. Every recorded entry is at the depot exactly once, as recorded; nothing else is.
        let depotReplica = try Replica.open(at: (depot.data as NSString).appendingPathComponent("depot.sqlite"), options: .quiet())
        var atDepot: [String: (Recorded, String)] = [:]
        var rowsSeen = 0
        try depotReplica.select("SELECT id, kind, amount, day, device, route, window FROM events") { r in
            rowsSeen += 1
            atDepot[r[0].text ?? ""] = (Recorded(kind: r[1].text ?? "", amount: r[2].integer ?? 0, day: r[3].text ?? ""), r[5].text ?? r[6].text ?? "")
        }
        var recordedTotal = 0
        for d in devices {
            for (id, rec) in d.recorded {
                recordedTotal += 1
                guard let (held, _) = atDepot[id] else { problems.append("LOSS: \(d.name)'s \(id) is not at the depot"); continue }
                if held != rec { problems.append("ALTERED: \(id) is \(held) at the depot, \(rec) on \(d.name)") }
            }
        }
        let known = Set(devices.flatMap { $0.recorded.keys })
        for id in atDepot.keys where !known.contains(id) { problems.append("EXTRA: \(id) at the depot was never written by a device") }
        if rowsSeen != atDepot.count { problems.append("TWICE: the depot holds \(rowsSeen) rows for \(atDepot.count) ids") }

        // 2. Every device converged to what its scope implies: its entries are exactly the
        // depot's entries of its route or window, and nothing of its own is pending.
        for d in devices {
            guard let r = d.replica else { problems.append("\(d.name) never joined"); continue }
            var mine = Set<String>()
            try r.select("SELECT id FROM events") { mine.insert($0[0].text ?? "") }
            let scoped = Set(atDepot.filter { $0.value.1 == d.scope }.keys)
            if mine != scoped {
                problems.append("DIVERGED: \(d.name) holds \(mine.count) entries, the depot \(scoped.count) for \(d.scope) (missing \(scoped.subtracting(mine).count), extra \(mine.subtracting(scoped).count))")
            }
            if d.pending() > 0 { problems.append("PENDING: \(d.name) still has \(d.pending()) changes the depot has not acknowledged") }
        }

        // 2b. Every note a van wrote (a record change) is at the depot as written, merged at
        // once or held and released, and the van holds the depot's notes of its route.
        problems += stats.heldProblems
        var depotNotes: [String: (note: String, route: String)] = [:]
        try depotReplica.select("SELECT ticket, note, route FROM tickets WHERE note IS NOT NULL") { r in
            depotNotes[r[0].text ?? ""] = (r[1].text ?? "", r[2].text ?? "")
        }
        for d in devices where d.role == .van {
            for (ticket, note) in d.notes where depotNotes[ticket]?.note != note {
                problems.append("LOSS: \(d.name)'s note on \(ticket) is \(depotNotes[ticket].map { "'\($0.note)'" } ?? "missing") at the depot")
            }
            guard let r = d.replica else { continue }
            var mine: [String: String] = [:]
            try r.select("SELECT ticket, note FROM tickets WHERE note IS NOT NULL") { mine[$0[0].text ?? ""] = $0[1].text ?? "" }
            let theirs = depotNotes.filter { $0.value.route == d.scope }.mapValues(\.note)
            if mine != theirs { problems.append("DIVERGED: \(d.name) holds \(mine.count) ticket notes, the depot \(theirs.count) for \(d.scope)") }
        }

        // 3. Reconciliation totals equal the simulator's own sums, device by device, day by day.
        var reconciled = 0
        for date in days {
            let json = try depot.run(["reconcile", "--data", depot.data, "--date", date, "--format", "json"])
            guard let obj = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let settlements = obj["settlements"] as? [[String: Any]] else { throw ToolError("reconcile \(date): not JSON") }
            var byDevice: [String: (collected: Int64, deposited: Int64)] = [:]
            for s in settlements {
                guard let device = s["device"] as? String, let cash = s["cash"] as? [String: Any] else { continue }
                byDevice[device] = (Self.minor(cash["collected"]), Self.minor(cash["deposited"]))
            }
            for d in devices {
                let mine = d.recorded.values.filter { $0.day == date }
                let collected = mine.filter { $0.kind == "deliver" || $0.kind == "fee" }.reduce(0) { $0 + $1.amount }
                let deposited = mine.filter { $0.kind == "deposit" }.reduce(0) { $0 + $1.amount }
                let got = byDevice[d.name] ?? (0, 0)
                if got.collected != collected || got.deposited != deposited {
                    problems.append("CASH: \(d.name) \(date): reconciled collected \(got.collected) deposited \(got.deposited), the simulator's own sums \(collected) and \(deposited)")
                }
                reconciled += 1
            }
        }
        // 3b. Every signature image a device holds is at the depot.
        var images = 0
        for d in devices {
            guard let r = d.replica else { continue }
            let hashes = try r.blobs(after: 0, limit: .max).map(\.hash)
            images += hashes.count
            let missing = try depotReplica.missingBlobs(of: hashes)
            if !missing.isEmpty { problems.append("IMAGE: \(missing.count) of \(d.name)'s \(hashes.count) images are not at the depot") }
        }
        stats.images = images

        // 4. Every chain and signature at the depot verifies (nothing altered, no gap left).
        do { try depot.run(["audit", "verify", "--data", depot.data]) } catch {
            problems.append("AUDIT: tally audit verify found problems: \(error)")
        }
        stats.recorded = recordedTotal
        stats.reconciled = reconciled
        return Verdict(problems: problems, stats: stats, faults: proxy.faultCounts(), peakKB: depot.peakKB, config: config,
                       seconds: Date().timeIntervalSince(started), dayFaults: dayFaults, diskFullRun: diskMount != nil)
    }

    /// Damages the files below the engine with the sqlite3 shell, as a fault or a bug would:
    /// one entry deleted at the depot, one amount changed at the depot, one entry deleted on a
    /// device. The checks must name all three; the verdict passes only if they do.
    func proveChecks(_ passed: Verdict, days: [String]) throws -> Verdict {
        guard let van = devices.first(where: { $0.role == .van && !$0.recorded.isEmpty }),
              let victim = van.recorded.first(where: { $0.value.kind == "deliver" })?.key,
              let other = van.recorded.first(where: { $0.value.kind == "deliver" && $0.key != victim })?.key,
              let third = van.recorded.first(where: { $0.key != victim && $0.key != other })?.key
        else { throw ToolError("--prove-checks needs a van with at least three entries") }
        let depotFile = (depot.data as NSString).appendingPathComponent("depot.sqlite")
        try Self.sqlite(depotFile, "DELETE FROM events WHERE id = '\(victim)'; UPDATE events SET amount = amount + 1 WHERE id = '\(other)';")
        try van.closeFile()
        try Self.sqlite(van.path, "DELETE FROM events WHERE id = '\(third)';")
        try van.open()
        let damaged = try check(days: days)
        let caught = [
            damaged.problems.contains { $0.hasPrefix("LOSS") && $0.contains(victim) },
            damaged.problems.contains { $0.hasPrefix("ALTERED") && $0.contains(other) },
            damaged.problems.contains { $0.hasPrefix("CASH") && $0.contains(van.name) },
            damaged.problems.contains { $0.hasPrefix("DIVERGED") && $0.contains(van.name) },
        ]
        var v = passed
        v.checksProved = caught.allSatisfy { $0 }
        if !caught.allSatisfy({ $0 }) {
            v.problems = ["the checks missed damage done on purpose (loss, altered, cash, diverged: \(caught)); found only: "
                + damaged.problems.prefix(5).joined(separator: " | ")]
        }
        return v
    }

    static func sqlite(_ file: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [file, sql]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ToolError("sqlite3 \(file) failed") }
    }

    /// A money string ("123.45") as minor units.
    static func minor(_ any: Any?) -> Int64 {
        (any as? String).flatMap { try? Money(parsing: $0) }?.minorUnits ?? 0
    }

    static func dayString(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "Asia/Shanghai")!  // safe: a known zone
        let c = cal.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)  // safe: asked for
    }

    func log(_ s: String) {
        FileHandle.standardError.write(Data("[\(Int(Date().timeIntervalSince(started)))s] \(s)\n".utf8))
    }
}
