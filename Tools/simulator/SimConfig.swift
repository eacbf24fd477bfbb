import Foundation
import TallyToolSupport

/// What one simulator run does: how many devices, for how long, and how often things break.
struct SimConfig: Sendable {
    var seed: UInt64 = 1
    var vans = 6
    var windows = 2
    /// Simulated days; with `minutes`, days go on until the time is up (at least this many).
    var days = 3
    var minutes: Double?
    /// Share of HTTP exchanges the proxy breaks while the day runs.
    var faultRate = 0.15
    /// Chance per day that the depot is killed (SIGKILL) mid-sync and restarted.
    var depotKillChance = 0.7
    /// Devices killed (SIGKILL) mid-write per day.
    var deviceKillsPerDay = 1
    /// Sync requests in flight at once.
    var parallel = 24
    var work: String?
    var keep = false
    /// After a passing run, damage the depot's and one device's files on purpose and check the
    /// verdict turns to FAIL naming each damage: the checks are not vacuous.
    var proveChecks = false
    /// Chance per day of each day fault (`DayFault`: a depot restore, a file gone back, a lost
    /// `-wal`, clocks jumped ahead, a full depot disk, slow clients, depot-owned writes); 0: none.
    var dayFaultChance = 0.25

    static let usage = """
        usage: tally-sim [--seed N] [--vans N] [--windows N] [--days N] [--minutes M] [--fault-rate R]
                         [--depot-kill-chance P] [--device-kills N] [--day-faults P] [--parallel N] [--work DIR] [--keep]
                         [--prove-checks]
        """

    static func parse(_ arguments: [String]) throws -> SimConfig {
        var c = SimConfig()
        var a = arguments
        func value(_ flag: String) throws -> String {
            guard !a.isEmpty else { throw ToolError("\(flag) needs a value") }
            return a.removeFirst()
        }
        func number<T: LosslessStringConvertible>(_ flag: String, _: T.Type) throws -> T {
            let v = try value(flag)
            guard let n = T(v) else { throw ToolError("\(flag) takes a number, not '\(v)'") }
            return n
        }
        while !a.isEmpty {
            let flag = a.removeFirst()
            switch flag {
            case "--seed": c.seed = try number(flag, UInt64.self)
            case "--vans": c.vans = try number(flag, Int.self)
            case "--windows": c.windows = try number(flag, Int.self)
            case "--days": c.days = try number(flag, Int.self)
            case "--minutes": c.minutes = try number(flag, Double.self)
            case "--fault-rate": c.faultRate = try number(flag, Double.self)
            case "--depot-kill-chance": c.depotKillChance = try number(flag, Double.self)
            case "--device-kills": c.deviceKillsPerDay = try number(flag, Int.self)
            case "--parallel": c.parallel = try number(flag, Int.self)
            case "--day-faults": c.dayFaultChance = try number(flag, Double.self)
            case "--work": c.work = try value(flag)
            case "--keep": c.keep = true
            case "--prove-checks": c.proveChecks = true
            case "-h", "--help":
                print(usage)
                exit(0)
            default: throw ToolError("unknown option '\(flag)'")
            }
        }
        guard c.vans + c.windows >= 1, c.days >= 1, c.parallel >= 1, (0...1).contains(c.faultRate), (0...1).contains(c.dayFaultChance) else {
            throw ToolError("need at least one device and one day, --parallel ≥ 1, --fault-rate between 0 and 1")
        }
        return c
    }
}
