import Foundation
import TallyReplica
import TallyRoutes

/// The service figures the delivery rules assess drivers by, over a range of business days:
/// ticket accuracy (every carton checked against its ticket, 100% required), on-time rate
/// (delivered by the promised time; for flexible-route tickets the order system puts the
/// phone order time plus 24 h in `promised_by`), refusals by reason, cash variance per driver.
public struct KPIReport: Sendable, Codable, Equatable {
    public struct Driver: Sendable, Codable, Equatable {
        public var device: String
        public var route: String
        public var days: Int
        public var deliveries: Int
        public var accurate: Int
        public var onTime: Int
        public var refusals: Int
        /// Sum of the days' variances (deposited − collected).
        public var variance: Money
        public var accuracy: String
        public var onTimeRate: String
    }

    public var from: String
    public var to: String
    public var deliveries: Int
    /// Share of deliveries with every carton scanned and on its own ticket, like "99.85%".
    public var accuracy: String
    public var onTimeRate: String
    public var refusalsByReason: [String: Int]
    public var drivers: [Driver]

    enum CodingKeys: String, CodingKey {
        case from, to, deliveries, accuracy, drivers
        case onTimeRate = "on_time_rate"
        case refusalsByReason = "refusals_by_reason"
    }

    static func percent(_ n: Int, of d: Int) -> String {
        guard d > 0 else { return "—" }
        let basisPoints = (n * 10_000 + d / 2) / d
        return "\(basisPoints / 100).\(basisPoints % 100 < 10 ? "0" : "")\(basisPoints % 100)%"
    }

    /// The days from `from` to `to`, inclusive (at most 366).
    static func days(from: String, to: String) throws -> [String] {
        guard let a = IsoTime.parse(from + "T00:00:00Z"), let b = IsoTime.parse(to + "T00:00:00Z"), a <= b else {
            throw ReconcileError("give --from and --to as dates like 2026-11-01, --from not after --to")
        }
        let count = Int((b - a) / 86_400_000) + 1
        guard count <= 366 else { throw ReconcileError("a KPI report covers at most a year; narrow --from and --to") }
        return (0..<count).map { String(IsoTime.format(a + UInt64($0) * 86_400_000, offsetMinutes: 0).prefix(10)) }
    }
}

extension Reconciler {
    /// KPIs over business days `from`…`to`.
    public func kpi(from: String, to: String) throws -> KPIReport {
        var drivers: [String: KPIReport.Driver] = [:]
        var refusals: [String: Int] = [:]
        let matching = try DepositMatching(deposits: allDeposits(), bank: store.bankLines())
        for day in try KPIReport.days(from: from, to: to) {
            let rec = try reconcile(date: day, route: nil, matching: matching)
            var promised: [String: UInt64] = [:]
            try replica.select("SELECT ticket, promised_by FROM tickets WHERE date = ?1 AND tally_cl % 2 = 1", [.text(day)]) { r in
                if let t = r[0].text, let p = r[1].text.flatMap(IsoTime.parse) { promised[t] = p }
            }
            var onTime: [String: Int] = [:], deliveries: [String: Int] = [:]
            try replica.select("""
                SELECT device, ticket, at FROM events WHERE day = ?1 AND kind = 'deliver' AND tally_cl % 2 = 1
                  AND \(LedgerSQL.notVoided)
                """, [.text(day)]) { r in
                let device = r[0].text ?? ""
                deliveries[device, default: 0] += 1
                if let at = r[2].text.flatMap(IsoTime.parse), let by = promised[r[1].text ?? ""], at <= by { onTime[device, default: 0] += 1 }
            }
            try replica.select("""
                SELECT reason FROM events WHERE day = ?1 AND kind = 'refuse' AND tally_cl % 2 = 1
                  AND \(LedgerSQL.notVoided)
                """, [.text(day)]) { r in refusals[r[0].text ?? "none", default: 0] += 1 }
            for s in rec.settlements where s.window == nil {  // drivers only; windows have `report service`
                var d = drivers[s.device] ?? KPIReport.Driver(device: s.device, route: s.route, days: 0, deliveries: 0, accurate: 0, onTime: 0,
                                                             refusals: 0, variance: .zero, accuracy: "", onTimeRate: "")
                let n = deliveries[s.device] ?? 0
                let inaccurate = Set(s.exceptions.filter { $0.kind == .cartonMismatch }.compactMap(\.ticket)).count
                d.days += 1
                d.deliveries += n
                d.accurate += max(0, n - inaccurate)
                d.onTime += onTime[s.device] ?? 0
                d.refusals += s.tickets.refused
                d.variance += s.cash.variance
                drivers[s.device] = d
            }
        }
        var list = drivers.values.sorted { $0.device < $1.device }
        for i in list.indices {
            list[i].accuracy = KPIReport.percent(list[i].accurate, of: list[i].deliveries)
            list[i].onTimeRate = KPIReport.percent(list[i].onTime, of: list[i].deliveries)
        }
        let total = list.reduce(0) { $0 + $1.deliveries }
        return KPIReport(from: from, to: to, deliveries: total,
                         accuracy: KPIReport.percent(list.reduce(0) { $0 + $1.accurate }, of: total),
                         onTimeRate: KPIReport.percent(list.reduce(0) { $0 + $1.onTime }, of: total),
                         refusalsByReason: refusals, drivers: list)
    }
}
