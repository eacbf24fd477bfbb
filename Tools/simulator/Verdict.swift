import Foundation
import TallySync
import TallyToolSupport

/// Counts of what the run did and what broke, shared by the devices' tasks.
final class SimStats: @unchecked Sendable {  // safe: the counters syncs touch are under `lock`
    private let lock = NSLock()
    var days = 0
    var skewed = 0
    var offlineDevices = 0
    var offlineSkips = 0
    var entriesWritten = 0
    var recorded = 0
    var reconciled = 0
    var depotKills = 0
    var deviceKills = 0
    var childAcknowledged = 0
    var childCommitted = 0
    var lostAtKill: [String] = []
    var compactions = 0
    var compactedEntries = 0
    var compactedTombstones = 0
    /// Devices set up again from the depot after it compacted past them, and how often.
    private(set) var rebaselinedDevices: Set<String> = []
    private(set) var rebaselines = 0
    /// Changes held for review at the end, and what was wrong with them.
    var held = 0
    var heldProblems: [String] = []
    /// What a day fault found wrong (a handheld or depot that took a depot-owned write).
    var faultProblems: [String] = []
    /// Signature images the devices held at the end (each checked at the depot).
    var images = 0

    func rebaselined(_ device: String) {
        lock.withLock {
            rebaselines += 1
            rebaselinedDevices.insert(device)
        }
    }
    private(set) var syncOK = 0
    private(set) var syncFailed = 0
    private(set) var failures: [String: Int] = [:]

    func record(ok: Bool, _ error: (any Error)?) {
        lock.withLock {
            if ok { syncOK += 1; return }
            syncFailed += 1
            let kind: String = switch error as? SyncError {
            case .unreachable?: "unreachable"
            case .refused(let e)?: "refused \(e.code)"
            case .credentialRefused?: "credential refused"
            case .protocolViolation?: "protocol"
            case .local?: "local"
            case .depotCannotStore?: "depot cannot store"
            case .recoveryNeeded(let r)?: "set up again needed (\(r.rawValue))"
            case .clockWrong?: "clock wrong"
            case .rebaselineRequired?: "copy older than the depot's history"
            default: "other: " + String(String(describing: error ?? ToolError("?")).prefix(80))
            }
            failures[kind, default: 0] += 1
        }
    }
}

/// The run's outcome: passed when no problem was found.
struct Verdict {
    var problems: [String]
    var stats: SimStats
    var faults: [NetworkFault: Int]
    var peakKB: Int
    var config: SimConfig
    var seconds: Double
    var dayFaults: DayFaultCounts
    /// Whether the depot ran on its own tmpfs (root), so its disk could fill.
    var diskFullRun: Bool
    /// Set by `--prove-checks`: damage done on purpose was caught.
    var checksProved: Bool?

    var passed: Bool { problems.isEmpty }

    /// The day faults and what came of them.
    var dayFaultText: String {
        let d = dayFaults
        let kinds: String = DayFault.allCases.map { "\($0.rawValue) \(d[$0])" }.joined(separator: ", ")
        let outcomes: String = "clock years ahead refused on the handheld \(d.yearsRefused); depot-owned writes refused on the handheld "
            + "\(d.ownedRefusedOnHandheld), at the depot \(d.ownedRefusedAtDepot); slow clients cut \(d.slowCut)"
        let root: String = diskFullRun ? "" : "; no disk-full faults: the depot's tmpfs needs root"
        let imagesOK: Bool = !problems.contains { $0.hasPrefix("IMAGE") }
        return "day faults: \(kinds) (\(outcomes)\(root)); "
            + "\(stats.images) signature images on the devices, each at the depot: \(imagesOK ? "yes" : "NO")"
    }

    /// One line: the verdict, then the figures; problems (at most 20) on lines after it.
    var line: String {
        let s = stats
        let faultText = NetworkFault.allCases.map { "\($0.rawValue) \(faults[$0] ?? 0)" }.joined(separator: ", ")
        let failText = s.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let head = passed ? "PASS" : "FAIL (\(problems.count) problems)"
        var text = "tally-sim \(head): seed \(config.seed), \(config.vans) vans + \(config.windows) windows, \(s.days) days in \(Int(seconds)) s; "
            + "\(s.recorded) entries recorded, each at the depot exactly once: \(passed ? "yes" : "NO"); \(s.reconciled) device-days reconciled to the simulator's own sums; "
            + "syncs \(s.syncOK) completed, \(s.syncFailed) broken (\(failText.isEmpty ? "none" : failText)); "
            + "faults: \(faultText), depot SIGKILL+restart \(s.depotKills), device SIGKILL mid-write \(s.deviceKills) "
            + "(\(s.childAcknowledged) acknowledged, \(s.childCommitted) committed, all kept), clocks off \(s.skewed), offline for days \(s.offlineDevices) (\(s.offlineSkips) device-days); "
            + "compacted \(s.compactions) times while serving (\(s.compactedEntries) log entries freed), devices set up again after it \(s.rebaselines), "
            + "their notes held for review and released \(s.held); "
            + dayFaultText + "; "
            + "depot peak memory \(peakKB / 1024) MB"
            + (checksProved == true ? "; damage done on purpose afterwards (an entry deleted and an amount changed at the depot, an entry deleted on a van) was caught" : "")
        for p in problems.prefix(20) { text += "\n  " + p }
        if problems.count > 20 { text += "\n  … and \(problems.count - 20) more" }
        return text
    }
}
