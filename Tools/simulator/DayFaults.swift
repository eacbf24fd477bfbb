import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif
import TallyProtocol
import TallyReplica
import TallyRoutes
import TallyToolSupport

/// What goes wrong on a day, beyond the line and power cuts: the file-level, clock and depot
/// faults of issue 18. Each is counted in the verdict.
enum DayFault: String, CaseIterable, Sendable {
    /// The depot put back from the backup taken that morning, after the evening's syncs.
    case depotRestored = "depot restored"
    /// A device's file replaced by the copy taken that morning, after its evening sync.
    case fileWentBack = "file went back"
    /// A device's `-wal` deleted after a sync that wrote into it.
    case walLost = "wal lost"
    /// A device's clock set three years ahead for one entry, then corrected.
    case clockYearsAhead = "clock years ahead"
    /// A device's clock set two days ahead for one entry, then corrected.
    case clockDaysAhead = "clock days ahead"
    /// The depot's disk full for a few seconds while devices sync (a tmpfs; needs root).
    case diskFull = "depot disk full"
    /// Clients without a credential trickling pushes at the depot while devices sync.
    case slowClients = "slow clients"
    /// A van rewriting what the order system decides, on the handheld and by a forged push.
    case depotOwnedWrite = "depot-owned write"
}

/// Which day faults a day gets: each kind with the configured chance, from the run's seed.
struct DayFaultPlan: Sendable {
    var kinds: Set<DayFault>

    static func draw(day: Int, chance: Double, diskFullPossible: Bool, rng: inout SeededGenerator) -> DayFaultPlan {
        var kinds = Set<DayFault>()
        for k in DayFault.allCases {
            let roll = Double.random(in: 0..<1, using: &rng)
            if roll < chance { kinds.insert(k) }
        }
        // A restore needs a day already synced; a full disk needs the tmpfs.
        if day == 0 { kinds.remove(.depotRestored) }
        // A file put back after its sync, with the depot then put back past that sync, loses
        // what only those two held: truly lost, not a fault this run judges. (A file gone back
        // one day and the depot restored the next, past the device's new identity, is run.)
        if kinds.contains(.depotRestored) { kinds.subtract([.fileWentBack, .walLost]) }
        if !diskFullPossible { kinds.remove(.diskFull) }
        return DayFaultPlan(kinds: kinds)
    }

    func has(_ k: DayFault) -> Bool { kinds.contains(k) }
}

/// The counts the verdict prints.
final class DayFaultCounts: @unchecked Sendable {  // safe: touched under `lock`
    private let lock = NSLock()
    private var counts: [DayFault: Int] = [:]
    /// Clock-years-ahead entries the handheld refused (the right answer) or recorded.
    var yearsRefused = 0
    var ownedRefusedOnHandheld = 0
    var ownedRefusedAtDepot = 0
    var slowCut = 0

    func add(_ k: DayFault, _ n: Int = 1) { lock.withLock { counts[k, default: 0] += n } }
    subscript(k: DayFault) -> Int { lock.withLock { counts[k] ?? 0 } }
}

extension Simulation {
    // MARK: - Morning

    /// Before the day's work: the depot's backup, and the copies of the files that will go back.
    func morningFaults(_ plan: DayFaultPlan, day: Int, date: String) throws -> [(SimDevice, String)] {
        if plan.has(.depotRestored) {
            let file = (work as NSString).appendingPathComponent("depot-\(date).tallybackup")
            try? FileManager.default.removeItem(atPath: file)
            try depot.run(["depot", "backup", "--data", depot.data, "--out", file])
            backupToday = file
        }
        var copies: [(SimDevice, String)] = []
        if plan.has(.fileWentBack) {
            for d in onlineDevices(day).filter({ $0.pending() == 0 }).shuffled(using: &rng).prefix(2) {
                try d.closeFile()
                let copy = d.path + ".copy-\(date)"
                try? FileManager.default.removeItem(atPath: copy)
                try FileManager.default.copyItem(atPath: d.path, toPath: copy)
                try d.open()
                copies.append((d, copy))
            }
        }
        for (kind, jump) in [(DayFault.clockYearsAhead, Int64(3 * 365) * 86_400_000), (.clockDaysAhead, 2 * 86_400_000)] where plan.has(kind) {
            guard let d = onlineDevices(day).randomElement(using: &rng), let replica = d.replica else { continue }
            let key = try DeviceKey.stored(in: replica)
            d.clock.jump(jump)
            defer { d.clock.jump(0) }
            do {
                try d.writeOne(day: date, key: key, rng: &rng)
                stats.entriesWritten += 1
            } catch {
                // Far past the depot's last confirmed time the handheld records nothing: right.
                if kind == .clockYearsAhead { dayFaults.yearsRefused += 1 } else { throw error }
            }
            dayFaults.add(kind)
        }
        return copies
    }

    func onlineDevices(_ day: Int) -> [SimDevice] {
        devices.filter { !$0.offlineDays.contains(day) && !$0.offlineDays.contains(day + 1) && $0.replica != nil }
    }

    // MARK: - Evening, while devices sync

    /// The faults that run beside the evening's syncs; returns what to undo after them.
    func duringSyncFaults(_ plan: DayFaultPlan) -> (tricklers: Tricklers?, disk: Task<Void, Never>?) {
        let tricklers = plan.has(.slowClients) ? Tricklers(count: 24, port: depot.port) : nil
        if tricklers != nil { dayFaults.add(.slowClients) }
        guard plan.has(.diskFull), let mount = diskMount else { return (tricklers, nil) }
        let counts = dayFaults
        let hold = Double.random(in: 1.5...4, using: &rng)
        let after = Double.random(in: 0.1...1.0, using: &rng)
        let task = Task {
            try? await Task.sleep(nanoseconds: UInt64(after * 1e9))
            guard Tmpfs.fillUp(mount) else { return }
            counts.add(.diskFull)
            try? await Task.sleep(nanoseconds: UInt64(hold * 1e9))
            Tmpfs.free(mount)
        }
        return (tricklers, task)
    }

    // MARK: - Evening, after the syncs

    func eveningFaults(_ plan: DayFaultPlan, day: Int, date: String, copies: [(SimDevice, String)]) async throws {
        // The van that rewrites prices: refused on the handheld, and its forged push at the depot.
        if plan.has(.depotOwnedWrite), let van = onlineDevices(day).filter({ $0.role == .van }).randomElement(using: &rng) {
            dayFaults.add(.depotOwnedWrite)
            if try van.tryDepotOwnedWrite() { dayFaults.ownedRefusedOnHandheld += 1 } else {
                stats.faultProblems.append("OWNED: \(van.name)'s handheld accepted a write to tickets.amount_due")
            }
            let status = try await forgedOwnedPush(van)
            if status == 403 { dayFaults.ownedRefusedAtDepot += 1 } else if status != 0 {
                stats.faultProblems.append("OWNED: the depot answered \(status) to \(van.name)'s forged push of tickets.amount_due")
            }
        }
        // Files put back to the morning's copy, only where everything since reached the depot.
        for (d, copy) in copies {
            defer { try? FileManager.default.removeItem(atPath: copy) }
            guard d.replica != nil, d.pending() == 0 else { continue }
            try d.closeFile()
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: d.path + suffix) }
            try FileManager.default.copyItem(atPath: copy, toPath: d.path)
            try d.open()
            dayFaults.add(.fileWentBack)
        }
        if plan.has(.walLost), let d = onlineDevices(day).randomElement(using: &rng) {
            try await loseWAL(d, date: date)
        }
        if plan.has(.depotRestored), let file = backupToday {
            await depot.stop()
            try depot.run(["depot", "restore", file, "--data", depot.data, "--replace"])
            // The files it replaced, kept beside: the staff delete them once the depot runs well.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: depot.data)) ?? [] where name.contains(".before-restore-") {
                try? FileManager.default.removeItem(atPath: (depot.data as NSString).appendingPathComponent(name))
            }
            try await depot.start()
            dayFaults.add(.depotRestored)
            try? FileManager.default.removeItem(atPath: file)
            backupToday = nil
        }
    }

    /// A sync in a process that keeps the file open, killed after it; then its `-wal` is deleted:
    /// the file goes back to before the sync, while the depot holds what it pushed.
    func loseWAL(_ d: SimDevice, date: String) async throws {
        try d.closeFile()
        walLosses += 1
        let prefix = "\(d.name)-\(date)-W\(walLosses)-"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        p.arguments = ["child-sync", d.path, d.name, d.role.rawValue, d.scope, date, prefix, String(d.skewMs),
                       String(UInt64.random(in: 1...UInt64(UInt32.max), using: &rng))]
        let out = (work as NSString).appendingPathComponent("child-sync.out")
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(90)
        var lines: [String] = []
        while Date() < deadline {
            lines = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.contains(where: { ["synced", "replaced", "failed"].contains($0) }) || !p.isRunning { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        var entries: [String: Recorded] = [:]
        for line in lines where line.hasPrefix("E ") {
            let f = line.split(separator: " ").map(String.init)
            if f.count == 4, let amount = Int64(f[3]) { entries[f[1]] = Recorded(kind: f[2], amount: amount, day: date) }
        }
        if lines.contains("synced") {
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: d.path + suffix) }
            d.adoptRecorded(entries)  // at the depot, no longer in the file
            dayFaults.add(.walLost)
            try d.open()
        } else {
            try d.open()
            let (adopted, lost) = try d.adopt(childPrefix: prefix, printed: Set(entries.keys))
            stats.lostAtKill += lost
            stats.entriesWritten += adopted
        }
        stats.entriesWritten += entries.count
    }

    /// A push forged with the van's credential and site, setting what its ticket is due: the
    /// depot must refuse it (403) and store nothing. 0 when the depot could not be reached.
    func forgedOwnedPush(_ van: SimDevice) async throws -> Int {
        guard let replica = van.replica, let credential = credentials[van.name] else { return 0 }
        let change = Change(table: "tickets", key: SimDevice.notesTicket(van.scope), cl: 1, values: [ColumnValue("amount_due", .integer(1))],
                            hlc: HLC(rawValue: UInt64(Date().timeIntervalSince1970 * 1000) << 16), site: replica.site, seq: 1_000_000)
        let body = try WireCodec.encode(PushRequest(schemaVersion: replica.schema.version, site: replica.site, changes: [change]), compress: false)
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(depot.port)/v1/push")!)  // safe: well-formed
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization")
        guard let (_, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else { return 0 }
        return http.statusCode
    }
}
