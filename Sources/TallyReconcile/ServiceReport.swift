import Foundation
import TallyReplica
import TallyRoutes

/// The service hall's and the drivers' feedback over a period: complaints by stage and
/// department, the overdue ones, time to reply, satisfaction per window and per driver against
/// the goal, and requests by handling mode with their time to finish. A stable JSON contract
/// (`tally report service --json`).
///
/// Satisfaction, per window: the share of the visitors asked (`rate` steps on requests the
/// window finished in the period) who said satisfied. Per driver, whose shops are not asked:
/// the share of the driver's deliveries in the period without a complaint about them (about
/// the ticket, or the van) that was not judged invalid.
public struct ServiceReport: Sendable, Codable, Equatable {
    public struct Overdue: Sendable, Codable, Equatable {
        public var complaint: String
        public var about: String
        public var department: String?
        /// `investigate` or `reply`.
        public var step: String
        public var dueBy: String
        public var recordedOn: String
    }

    public struct Replies: Sendable, Codable, Equatable {
        public var replied: Int
        public var inTime: Int
        /// Median working days from opening to the first reply.
        public var medianWorkingDays: Double?
        /// Median hours from opening to the first reply.
        public var medianHours: Double?
    }

    public struct Rate: Sendable, Codable, Equatable {
        /// The device: a window or a van.
        public var device: String
        /// The window's kind or the van's route.
        public var unit: String
        /// Visitors asked (windows) or deliveries (drivers).
        public var asked: Int
        public var satisfied: Int
        public var neutral: Int
        public var dissatisfied: Int
        /// Complaints about the device's work that were not judged invalid.
        public var complaints: Int
        /// `96.5%`, or `-` when nobody was asked.
        public var rate: String
        public var meetsGoal: Bool
    }

    public struct Mode: Sendable, Codable, Equatable {
        public var mode: String
        public var requests: Int
        public var done: Int
        public var open: Int
        public var overdue: Int
        public var cancelled: Int
        /// Median minutes from opening to finishing, of the done ones.
        public var medianMinutesToFinish: Int?
    }

    public struct Owner: Sendable, Codable, Equatable {
        /// The first-contact owner: the window's device and kind.
        public var device: String
        public var window: String
        public var requests: Int
        public var open: Int
    }

    public var from: String
    public var to: String
    /// The satisfaction goal, as a fraction written with a percent sign.
    public var goal: String
    public var complaints: Int
    public var byStage: [String: Int]
    /// Assigned departments; `unassigned` before an assignment (or while two disagree).
    public var byDepartment: [String: Int]
    public var major: Int
    public var conflicts: Int
    public var overdue: [Overdue]
    public var replies: Replies
    public var windows: [Rate]
    public var drivers: [Rate]
    public var modes: [Mode]
    public var owners: [Owner]

    /// 95 %: the share of satisfied visitors and shops the service aims for.
    public static let goalPerMille = 950

    /// Builds the report from a replica that holds the service tables (the depot's, an
    /// accountant's, or a window's). `now` decides what is overdue.
    public static func build(_ replica: Replica, from: String, to: String, now: UInt64) throws -> ServiceReport {
        guard IsoTime.isDate(from), IsoTime.isDate(to) else { throw ReconcileError("give the period as dates like 2026-11-28: --from D --to D") }
        guard from <= to else { throw ReconcileError("the period ends (\(to)) before it starts (\(from))") }
        func inPeriod(_ day: String) -> Bool { day >= from && day <= to }
        let today = IsoTime.date(ofMilliseconds: now)

        // Complaints opened in the period.
        let stepsBySubject = try ServiceLedger.stepsBySubject(replica)  // one pass serves complaints and requests
        let complaints = try ComplaintBook.views(in: replica, now: now, steps: stepsBySubject).filter { inPeriod($0.complaint.day) }
        var byStage: [String: Int] = [:], byDepartment: [String: Int] = [:]
        var overdue: [Overdue] = []
        var days: [Double] = [], hours: [Double] = []
        var inTime = 0
        for c in complaints {
            byStage[c.stage.rawValue, default: 0] += 1
            if c.judgement != .invalid { byDepartment[c.department ?? "unassigned", default: 0] += 1 }
            if let d = c.dueNext, d.overdue {
                overdue.append(Overdue(complaint: c.id, about: "\(c.complaint.aboutKind.rawValue) \(c.complaint.about)", department: c.department,
                                       step: d.step.rawValue, dueBy: d.by, recordedOn: c.complaint.place))
            }
            if let r = c.repliedAt {
                if let w = c.workingDaysToReply { days.append(Double(w)) }
                if let a = IsoTime.parse(c.openedAt), let b = IsoTime.parse(r), b >= a { hours.append(Double(b - a) / 3_600_000) }
                if !c.repliedLate { inTime += 1 }
            }
        }

        // Requests taken in the period, and the satisfaction their owners recorded.
        let requests = try replica.rows("requests").filter { $0.isLive && inPeriod($0["day"].text ?? "") }
            .map { RequestView(row: $0, steps: stepsBySubject[$0.key] ?? [], today: today) }
        var modes: [Mode] = []
        for mode in RequestMode.allCases {
            let list = requests.filter { $0.mode == mode }
            modes.append(Mode(mode: mode.rawValue, requests: list.count, done: list.filter { $0.state == .done }.count,
                              open: list.filter { $0.state == .open || $0.state == .ready }.count, overdue: list.filter(\.overdue).count,
                              cancelled: list.filter { $0.state == .cancelled }.count,
                              medianMinutesToFinish: median(list.compactMap(\.minutesToFinish).map(Double.init)).map { Int($0.rounded()) }))
        }
        let waiting = requests.filter { $0.mode == nil }
        if !waiting.isEmpty {
            modes.append(Mode(mode: "not opened", requests: waiting.count, done: 0, open: waiting.filter { $0.state == .waiting }.count,
                              overdue: 0, cancelled: waiting.filter { $0.state == .cancelled }.count, medianMinutesToFinish: nil))
        }
        var owners: [String: Owner] = [:]
        for r in requests {
            owners[r.ownerDevice, default: Owner(device: r.ownerDevice, window: r.ownerWindow, requests: 0, open: 0)].requests += 1
            if r.state == .open || r.state == .ready { owners[r.ownerDevice]?.open += 1 }
        }

        // Complaints that count against a device: not judged invalid.
        let standing = complaints.filter { $0.judgement != .invalid }
        var deliveredBy: [String: String] = [:]  // ticket → device
        var deliveries: [String: (route: String, count: Int)] = [:]
        try replica.select("""
            SELECT device, route, ticket FROM events e WHERE kind = 'deliver' AND day >= ?1 AND day <= ?2 AND tally_cl % 2 = 1
              AND id NOT IN (SELECT ref FROM events WHERE kind = 'void' AND ref IS NOT NULL AND tally_cl % 2 = 1)
            """, [.text(from), .text(to)]) { r in
            let device = r[0].text ?? ""
            deliveries[device, default: (r[1].text ?? "", 0)].count += 1
            if let t = r[2].text { deliveredBy[t] = device }
        }
        let requestOwner = Dictionary(requests.map { ($0.id, $0.ownerDevice) }, uniquingKeysWith: { a, _ in a })
        var against: [String: Int] = [:]
        for c in standing {
            switch c.complaint.aboutKind {
            case .ticket: if let d = deliveredBy[c.complaint.about] { against[d, default: 0] += 1 }
            case .request: if let d = requestOwner[c.complaint.about] ?? requests.first(where: { $0.queue == c.complaint.about })?.ownerDevice { against[d, default: 0] += 1 }
            case .device: against[c.complaint.about, default: 0] += 1
            }
        }

        var windows: [String: Rate] = [:]
        for r in requests where r.state == .done {
            var w = windows[r.ownerDevice] ?? Rate(device: r.ownerDevice, unit: r.ownerWindow, asked: 0, satisfied: 0, neutral: 0, dissatisfied: 0,
                                                  complaints: 0, rate: "-", meetsGoal: false)
            switch r.satisfaction {
            case .satisfied?: w.asked += 1; w.satisfied += 1
            case .neutral?: w.asked += 1; w.neutral += 1
            case .dissatisfied?: w.asked += 1; w.dissatisfied += 1
            case nil: break
            }
            windows[r.ownerDevice] = w
        }
        for (device, o) in owners where windows[device] == nil {
            windows[device] = Rate(device: device, unit: o.window, asked: 0, satisfied: 0, neutral: 0, dissatisfied: 0, complaints: 0, rate: "-", meetsGoal: false)
        }
        var drivers: [String: Rate] = [:]
        for (device, d) in deliveries {
            let complained = min(against[device] ?? 0, d.count)
            drivers[device] = Rate(device: device, unit: d.route, asked: d.count, satisfied: d.count - complained, neutral: 0,
                                   dissatisfied: complained, complaints: against[device] ?? 0, rate: "-", meetsGoal: false)
        }
        func finish(_ rates: [String: Rate]) -> [Rate] {
            rates.values.map { r in
                var r = r
                if windows[r.device] != nil && drivers[r.device] == nil { r.complaints = against[r.device] ?? 0 }
                if r.asked > 0 {
                    r.rate = KPIReport.percent(r.satisfied, of: r.asked)
                    r.meetsGoal = r.satisfied * 1000 >= r.asked * goalPerMille
                }
                return r
            }.sorted { ($0.unit, $0.device) < ($1.unit, $1.device) }
        }

        return ServiceReport(
            from: from, to: to, goal: "95%", complaints: complaints.count, byStage: byStage, byDepartment: byDepartment,
            major: complaints.filter(\.major).count, conflicts: complaints.filter { !$0.conflicts.isEmpty }.count,
            overdue: overdue.sorted { ($0.dueBy, $0.complaint) < ($1.dueBy, $1.complaint) },
            replies: Replies(replied: days.count, inTime: inTime, medianWorkingDays: median(days), medianHours: median(hours).map { ($0 * 10).rounded() / 10 }),
            windows: finish(windows), drivers: finish(drivers), modes: modes,
            owners: owners.values.sorted { $0.device < $1.device })
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
