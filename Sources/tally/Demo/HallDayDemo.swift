import Foundation
import Logging
import TallyDepot
import TallyReconcile
import TallyReplica
import TallyRoutes
import TallySync

/// The service hall's day in the demo: four windows on the same depot as the vans, on the same
/// simulated clock. The hall's line to the depot works early in the morning and at noon only;
/// everything else happens offline: queue numbers, an immediate request with a fee, an
/// appointment, a joint request signed by two departments on two windows, complaints.
struct HallDayDemo {
    struct Window: Sendable {
        var name: String
        var kind: String
        var clerk: String
    }

    static let windows = [Window(name: "W1", kind: "orders", clerk: "张姐"), Window(name: "W2", kind: "accounts", clerk: "李会计"),
                          Window(name: "W3", kind: "logistics", clerk: "赵师傅"), Window(name: "W4", kind: "supervision", clerk: "陈主任")]

    let folder: URL
    let clock: ManualWallClock
    let options: ReplicaOptions
    let logger: Logger
    let at: (String) -> Void

    var books: [String: WindowBook] = [:]
    var clients: [String: SyncClient] = [:]
    /// The joint request and the appointment, for the later chapters.
    var joint = ""
    var appointment = ""
    /// The complaint recorded at a window (left to go overdue) and the van's (answered in time).
    var windowComplaint = ""
    var vanComplaint = ""
    /// The hall's lines on the bank's statement.
    var bankLines: [String] = []

    init(folder: URL, clock: ManualWallClock, options: ReplicaOptions, logger: Logger, at: @escaping (String) -> Void) {
        self.folder = folder
        self.clock = clock
        self.options = options
        self.logger = logger
        self.at = at
    }

    func say(_ s: String) { Console.out(s) }

    func book(_ name: String) -> WindowBook { books[name]! }  // safe: every window joins first

    /// Enrolls the windows; their credentials.
    static func enroll(_ registry: DeviceRegistry) throws -> [String: String] {
        var out: [String: String] = [:]
        for w in windows { out[w.name] = try registry.enroll(name: w.name, role: .window, scope: w.kind).1.token }
        return out
    }

    func syncAll(_ names: [String]) async throws -> String {
        var parts: [String] = []
        for n in names {
            let s = try await clients[n]!.sync()  // safe: joined
            parts.append("\(n) ↑\(s.pushed) ↓\(s.pulled)")
        }
        return parts.joined(separator: ", ")
    }

    /// 08:30–16:50, told after the vans' day. The depot is started for the morning and noon
    /// syncs only, on the port the vans use.
    mutating func day(depotReplica: Replica, registry: DeviceRegistry, credentials: [String: String], port: Int) async throws {
        say("\nMeanwhile, at the service hall (一站式服务大厅), four windows: "
            + Self.windows.map { "\($0.name) \($0.kind) (\($0.clerk))" }.joined(separator: ", ") + ".")
        at("08:30")
        var depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: port)
        let url = URL(string: "http://127.0.0.1:\(depot.port)")!  // safe: a literal URL with a number
        for w in Self.windows {
            let path = folder.appendingPathComponent("\(w.name).sqlite").path
            _ = try await SyncClient.join(url: url, credential: credentials[w.name]!, replicaPath: path, options: options)  // safe: enrolled
            let replica = try Replica.open(at: path, options: options)
            clients[w.name] = try SyncClient(replica: replica, clock: clock, logger: logger)
            books[w.name] = try WindowBook.joined(replica, person: w.clerk, clock: clock)
        }
        say("08:30  hall    the windows join and sync: \(try await syncAll(Self.windows.map(\.name)))")

        // An immediate request with a fee.
        at("08:40")
        let w3 = book("W3")
        let crates = try w3.take(service: "crate_deposit")
        _ = try w3.open(crates.queue, mode: .immediate, visitor: "刘老板", subject: "周转箱押金 a deposit on four turnover crates")
        let fee = try w3.fee("crate_deposit", amount: Money(minorUnits: 10_000), request: crates.queue, payer: "刘老板")
        at("08:43")
        let done = try w3.finish(crates.queue, satisfaction: .satisfied, comment: "很快")
        say("08:40  W3      number \(crates.queue): 刘老板 keeps four crates, 100.00 deposit in cash (\(fee)); "
            + "done in \(done.minutesToFinish ?? 0) min, "
            + "satisfied 满意")
        at("08:50")
        let card = try w3.take(service: "card")
        _ = try w3.open(card.queue, mode: .immediate, visitor: "周老板", subject: "客户卡补办 and a second delivery 二次配送")
        _ = try w3.fee("card", amount: Money(minorUnits: 2_340), request: card.queue)
        _ = try w3.fee("redelivery", amount: Money(minorUnits: 8_000), request: card.queue)
        _ = try w3.finish(card.queue, satisfaction: .neutral, comment: "排队久")
        say("08:50  W3      number \(card.queue): 周老板 replaces a lost customer card 23.40 and pays a second delivery 80.00; "
            + "neutral 一般 (\"排队久\")")

        // A joint request: a new delivery address needs orders' and logistics' sign-off.
        at("09:10")
        let w1 = book("W1"), w2 = book("W2")
        let j = try w1.take(service: "orders")
        let opened = try w1.open(j.queue, mode: .joint, visitor: "王老板", phone: "13800000001", subject: "变更送货地址 the shop moves next street",
                                 departments: ["orders", "logistics"], within: 3)
        joint = opened.id
        _ = try w1.sign(opened.id, note: "材料齐全")
        say("09:10  W1      number \(j.queue): 王老板's shop moves: a new delivery address, joint with logistics, due by \(opened.dueBy ?? "?"); "
            + "orders signs its part")
        say("09:12  hall    sync: \(try await syncAll(["W1", "W3"]))")
        at("09:20")
        try await depot.stop()
        say("09:20  hall    the line to the depot goes down")

        // An appointment at accounts, offline.
        at("09:40")
        let a = try w2.take(service: "accounts")
        let appt = try w2.open(a.queue, mode: .appointment, visitor: "陈老板", subject: "对账 go through the shop's account statement", within: 3)
        appointment = appt.id
        say("09:40  W2      number \(a.queue): 陈老板 wants his account statement gone through: by appointment, due by \(appt.dueBy ?? "?")")
        at("10:05")
        let toSign = try w3.requests().filter { $0.state == .open && $0.unsigned.contains("logistics") }
        let signed = try w3.sign(joint, note: "新地址在配送范围内")
        say("10:05  W3      \(toSign.count) joint request to sign: signs \(signed.queue) offline (\(signed.stateText))")
        // A complaint at the supervision desk about the wait at accounts.
        at("10:15")
        let w4 = book("W4")
        let desk = try ComplaintBook.joined(w4.replica, person: "陈主任", clock: clock)
        let complaint = try desk.open(ComplaintRequest(about: "W2", aboutKind: .device, byName: "陈老板", phone: "13700000002",
                                                      text: "在结算窗口排队四十分钟无人叫号", wants: "道歉并改进叫号"))
        windowComplaint = complaint.id
        _ = try desk.judge(complaint.id, "valid")
        _ = try desk.assign(complaint.id, to: "accounts")
        say("10:15  W4      陈老板 complains about the wait at W2: recorded as \(complaint.id), judged valid, assigned to accounts; "
            + "investigation due by \(complaint.investigateDeadline), reply by \(complaint.replyDeadline)")

        at("10:30")
        do {
            _ = try w1.finish(joint)
        } catch let e as ServiceError {
            say("10:30  W1      tries to finish \(signed.queue): \(e.description)")
        }

        // Noon: the line is back for a while.
        at("12:00")
        depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: depot.port)
        say("12:00  hall    the line is back: \(try await syncAll(["W3", "W1"]))")
        at("12:10")
        let finished = try w1.finish(joint, satisfaction: .satisfied, comment: "一次办好")
        say("12:10  W1      \(finished.queue) has both sign-offs (\(finished.signed.values.map { "\($0.department ?? "") by \($0.person) on \($0.device)" }.sorted().joined(separator: ", "))): done, satisfied 满意")
        _ = try await syncAll(["W1"])
        at("12:30")
        try await depot.stop()

        at("16:40")
        let onHand = try w3.daySummary().cashOnHand
        _ = try w3.deposit(onHand, bankRef: "ICBC-20261128-0901")
        bankLines.append("2026-11-28,6222020200112233,\(onHand),ICBC-20261128-0901")
        say("16:40  W3      deposits \(onHand) of fees at the bank")
    }

    /// 17:40, with the depot back: the windows sync (the supervision desk takes in the shop's
    /// complaint the van brought) and close their day.
    mutating func close() async throws {
        at("17:40")
        say("17:40  hall    sync: \(try await syncAll(Self.windows.map(\.name)))")
        let desk = try ComplaintBook.joined(book("W4").replica, person: "陈主任", clock: clock)
        if let c = try desk.list().first(where: { $0.complaint.route != nil }) {
            vanComplaint = c.id
            _ = try desk.judge(c.id, "valid")
            _ = try desk.assign(c.id, to: "distribution")
            say("17:40  W4      the shop's complaint \(c.id) (\(c.complaint.text)) arrived with van-02's sync: judged valid, assigned to distribution")
        }
        for w in Self.windows {
            let b = book(w.name), c = clients[w.name]!  // safe: joined
            _ = try await c.sync()
            let (_, s) = try b.closeDay(unsynced: Unsynced(changes: try c.pending(), blobs: try c.pendingBlobs()))
            _ = try await c.sync()
            say("17:40  \(w.name)      closed: \(s.taken) number\(s.taken == 1 ? "" : "s") taken, fees \(s.cashCollected), deposited \(s.cashDeposited)"
                + (s.open.isEmpty ? "" : ", still open \(s.open.joined(separator: ", "))")
                + (s.unexplained.isEmpty ? "" : "; unexplained: \(s.unexplained.joined(separator: "; "))"))
        }
    }

    /// Monday and Tuesday: the shop's complaint is investigated, answered and archived in time;
    /// the visitor's is not investigated and is listed overdue. Then the service report.
    func later(depotReplica: Replica, registry: DeviceRegistry, port: Int, midnight: UInt64) async throws -> Bool {
        let day: UInt64 = 86_400_000
        func on(_ days: UInt64, _ hhmm: String) {
            let p = hhmm.split(separator: ":").compactMap { UInt64($0) }
            clock.set(midnight + days * day + (p[0] * 60 + p[1]) * 60_000)
        }
        let desk = try ComplaintBook.joined(book("W4").replica, person: "陈主任", clock: clock)
        on(2, "09:30")
        say("\nMonday 2026-11-30")
        _ = try desk.investigate(vanComplaint, findings: "装车少装一条，装车单与实物不符")
        let replied = try desk.reply(vanComplaint, told: "已致歉，明日随车补送，装车增加复核")
        say("09:30  W4      \(vanComplaint): investigated and replied (\(replied.view.workingDaysToReply ?? 0) working day after opening, due by \(replied.view.replyDeadline))")
        on(2, "16:00")
        _ = try desk.followUp(vanComplaint, "satisfied", note: "补货已收到，满意")
        _ = try desk.archive(vanComplaint)
        say("16:00  W4      follow-up call: the shop is satisfied; \(vanComplaint) archived")

        on(3, "09:00")
        let depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: port)
        _ = try await clients["W4"]!.sync()  // safe: joined
        try await depot.stop()
        say("\nTuesday 2026-12-01, 09:00: the supervision desk syncs and lists what is overdue (tally complaint list --overdue):")
        let now = clock.nowMilliseconds()
        let overdue = try ComplaintBook.views(in: depotReplica, now: now).filter(\.overdue)
        for v in overdue {
            say("    \(v.id)  about \(v.complaint.about)  \(v.department ?? "-")  \(v.dueNext.map { "\($0.step.rawValue) was due by \($0.by)" } ?? "")  OVERDUE")
        }
        let report = try ServiceReport.build(depotReplica, from: "2026-11-28", to: "2026-12-01", now: now)
        say("\n" + ServiceReportText.render(report).split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n"))
        let answered = try ComplaintBook.view(vanComplaint, in: depotReplica, now: now)
        return overdue.map(\.id) == [windowComplaint] && answered?.stage == .archived && answered?.repliedLate == false
    }
}
