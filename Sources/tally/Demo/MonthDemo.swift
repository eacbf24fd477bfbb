import Foundation
import Logging
import TallyDepot
import TallyReconcile
import TallyReplica
import TallyRoutes
import TallySync

/// A seeded month of working days on the embedded default: three routes synced over a real
/// depot on a loopback port, the National Day holidays and their make-up day (调休), and the
/// ordinary variations a script never takes: a part payment collected days later, a refusal
/// taken back, cash carried over, a relief van, cash declared missing and paid in after the
/// close, a ticket left untouched and corrected after its day was approved, bank statements in
/// a bank's own export (GBK, its own columns). It ends by checking, from its own record, that
/// every day reconciles, every receivable is accounted for, and no approved day changed.
struct MonthDemo {
    static let first = "2026-09-21"
    static let routes = ["R01", "R02", "R03"]
    static let vans = ["van-01", "van-02", "van-03"]
    static let account = "6222020200112233"

    let folder: URL
    let seed: UInt64
    let days: Int
    let clock = ManualWallClock(milliseconds: IsoTime.parse("\(MonthDemo.first)T00:00:00+08:00") ?? 0)
    let logger: Logger = {
        var l = Logger(label: "tally.demo.month")
        l.logLevel = .critical
        return l
    }()
    var options: ReplicaOptions { ReplicaOptions(wallClock: clock, durability: .normal, logger: logger) }

    /// What the demo itself recorded, to check the depot's books against at the end.
    struct Record {
        var owed: [String: Money] = [:]
        var approved: [String: FrozenDay] = [:]
        var approvedDays = 0
        var story: [String] = []
    }

    func say(_ s: String) { Console.out(s) }

    func at(_ date: String, _ hhmm: String) {
        clock.set(IsoTime.parse("\(date)T\(hhmm):00+08:00") ?? clock.nowMilliseconds())
    }

    /// Minutes after midnight as the clock's time of `date`: the vans work one after another on
    /// one clock, each in its own three hours, so time never runs backwards.
    func at(_ date: String, minutes: Int) { at(date, String(format: "%02d:%02d", minutes / 60, minutes % 60)) }

    /// The holidays of 2026's National Day week and the Saturday worked in their place.
    static func calendar() -> [(String, WorkCalendar.DayKind)] {
        ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"].map { ($0, .holiday) } + [("2026-10-10", .workday)]
    }

    func run() async throws -> Bool {
        let started = DispatchTime.now()
        let data = DepotFolder(folder.appendingPathComponent("depot").path)
        at(Self.first, "06:30")
        try data.create(schema: RouteSchema.current, options: options)
        let depotReplica = try data.replica(schema: RouteSchema.current, options: options)
        let registry = try data.registry(clock: clock)
        let store = try SettlementStore(path: folder.appendingPathComponent("depot/settlement.sqlite").path, clock: clock)
        for (d, kind) in Self.calendar() { try WorkCalendar.declare(d, kind, note: kind == .holiday ? "国庆节" : "国庆调休", in: depotReplica) }
        try store.setDesignatedAccount(Self.account)
        try store.saveBankFormat(BankFormat(name: "ICBC", date: "交易日期", amount: "贷方发生额", reference: "摘要", account: nil))
        var credentials: [String: String] = [:]
        for (v, r) in zip(Self.vans, Self.routes) { credentials[v] = try registry.enroll(name: v, role: .van, scope: r).1.token }
        credentials["van-04"] = try registry.enroll(name: "van-04", role: .van, scope: "R01").1.token
        let depot = try await DemoDepot.start(replica: depotReplica, registry: registry, clock: clock, logger: logger, port: 0)
        defer { Task { try? await depot.stop() } }
        let url = URL(string: "http://127.0.0.1:\(depot.port)")!  // safe: a literal URL with a number
        let calendar = try WorkCalendar.load(depotReplica)
        say("Tally demo: a month of three routes from \(Self.first), \(days) calendar days, in \(folder.path)")
        say("depot: holidays 10-01..10-07 (国庆节), Saturday 10-10 worked (调休); designated account \(Self.account); bank format ICBC saved\n")

        var books: [String: VanBook] = [:]
        var clients: [String: SyncClient] = [:]
        func join(_ name: String) async throws {
            let path = folder.appendingPathComponent("\(name).sqlite").path
            _ = try await SyncClient.join(url: url, credential: credentials[name] ?? "", replicaPath: path, options: options)
            let replica = try Replica.open(at: path, options: options)
            clients[name] = try SyncClient(replica: replica, clock: clock, logger: logger)
            books[name] = try VanBook.joined(replica, clock: clock)
        }
        for v in Self.vans { try await join(v) }

        var record = Record()
        var rng = SeededGenerator(seed: seed ^ 0x6D6F_6E74)
        var workIndex = 0
        var pending: [String] = []  // worked days not yet approved
        var bankLines: [(date: String, amount: Money, ref: String)] = []
        var partial: (van: String, ticket: String, due: Int)?
        var untouched: (date: String, ticket: String, offset: Int)?
        guard let firstDay = IsoTime.dayNumber(Self.first) else { return false }
        for offset in 0..<days {
            let date = IsoTime.date(dayNumber: firstDay + Int64(offset))
            guard calendar.isWorkingDay(date) else {
                say("\(date)  \(calendar.declared[date] == .holiday ? "holiday 国庆节" : "weekend"): nobody works")
                continue
            }
            // 06:30 the accountant books yesterday: the bank's statement, then approvals.
            at(date, "06:30")
            if !bankLines.isEmpty {
                let read = try MonthBank.book(bankLines, into: store, file: "icbc-\(date).csv")
                say("\(date)  depot  imported the bank's ICBC export (\(read.encoding.rawValue)): \(read.lines.count) payments in")
                bankLines = []
            }
            let reconciler = Reconciler(replica: depotReplica, store: store, devices: try registry.settlementDevices())
            try reconciler.prepareIndexes()
            for day in pending {
                for s in try reconciler.reconcile(date: day).settlements where s.status != .pending && s.status != .approved {
                    _ = try reconciler.approve(device: s.device, date: day, by: "王会计", note: s.cash.variance == .zero ? nil : "核对无误，短款已说明")
                    if let frozen = try store.approvals(day: day)[s.device]?.frozen { record.approved["\(s.device)|\(day)"] = frozen }
                    record.approvedDays += 1
                }
            }
            pending = []

            // 07:00 the day's manifest; on the ninth working day the order system corrects an
            // approved day's untouched ticket.
            at(date, "07:00")
            let csv = SampleManifest(date: date, routes: Self.routes, ticketsPerRoute: 8, seed: seed &+ UInt64(offset)).csv()
            _ = try ManifestImport.run(try Manifest.parse(Array(csv.utf8)), into: depotReplica)
            if workIndex == 8, let u = untouched {
                let old = SampleManifest(date: u.date, routes: Self.routes, ticketsPerRoute: 8, seed: seed &+ UInt64(u.offset)).csv()
                let fixed = try ManifestImport.run(try Manifest.parse(Array(MonthBank.corrected(old, ticket: u.ticket).utf8)), into: depotReplica)
                say("\(date)  depot  the order system sends \(u.date)'s manifest again, \(u.ticket) with one carton more "
                    + "(\(fixed.written) ticket rewritten; that day is already approved)")
            }

            let relief = workIndex == 4
            if relief {
                try await join("van-04")
                say("\(date)  van-01's handheld is broken: relief van-04 joins route R01 and works today's tickets")
            }
            var evening: (van: String, amount: Money)?
            for (slot, v) in Self.vans.enumerated() {
                let name = relief && v == "van-01" ? "van-04" : v
                guard let book = books[name], let client = clients[name] else { continue }
                _ = try await client.sync()
                let line = try await work(book, client, date: date, offset: offset, slot: slot, index: workIndex, rng: &rng, record: &record,
                                          partial: &partial, untouched: &untouched, evening: &evening, bank: &bankLines)
                say("\(date)  \(name)  \(line)")
            }
            // Cash declared missing at a close, found in the van that evening: paid in after the close.
            if let e = evening, let book = books[e.van], let client = clients[e.van] {
                at(date, "20:30")
                let ref = "ICBC-\(date.replacingOccurrences(of: "-", with: ""))-\(e.van)-late"
                try book.deposit(e.amount, bankRef: ref)
                bankLines.append((date, e.amount, ref))
                _ = try await client.sync()
                say("\(date)  \(e.van)  20:30 finds the \(e.amount) in the van and pays it in after the close (a late deposit for the accountant)")
            }
            pending.append(date)
            workIndex += 1
        }

        // The month's books, checked against the demo's own record.
        at(IsoTime.date(dayNumber: firstDay + Int64(days)), "06:00")
        if !bankLines.isEmpty { _ = try MonthBank.book(bankLines, into: store, file: "icbc-last.csv") }
        let reconciler = Reconciler(replica: depotReplica, store: store, devices: try registry.settlementDevices())
        try reconciler.prepareIndexes()
        var worked = 0, reconciles = 0, frozenKept = 0, lateChanges = 0
        var unexplained: [String] = []
        var opened = Money.zero, settled = Money.zero
        for offset in 0..<days {
            let date = IsoTime.date(dayNumber: firstDay + Int64(offset))
            guard calendar.isWorkingDay(date) else { continue }
            for s in try reconciler.reconcile(date: date).settlements {
                worked += 1
                if s.cash.variance + s.cash.declaredMissing == .zero {
                    reconciles += 1
                } else {
                    unexplained.append("\(s.device) \(date) variance \(s.cash.variance)")
                }
                if let mine = record.approved["\(s.device)|\(date)"] {
                    let now = FrozenDay(s)
                    if now.tickets == mine.tickets && now.cash == mine.cash && now.load == mine.load && now.exceptions == mine.exceptions {
                        frozenKept += 1
                    } else {
                        unexplained.append("\(s.device) \(date): the approved day reads differently")
                    }
                    lateChanges += s.exceptions.filter { $0.kind == .lateChange }.count
                }
                opened += s.receivables.opened
                settled += s.receivables.settled
            }
        }
        let owed = try ReceivablesReport.balances(depotReplica)
        let owedTotal = owed.reduce(Money.zero) { $0 + $1.balance }
        let myOwed = record.owed.values.reduce(Money.zero, +)
        let receivablesOK = owedTotal == opened - settled && owedTotal == myOwed
            && Dictionary(uniqueKeysWithValues: owed.map { ($0.ticket, $0.balance) }) == record.owed.filter { $0.value != .zero }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        say("")
        say("The month at the depot: \(workIndex) working days, \(worked) device-days settled, \(record.approvedDays) approved.")
        say("  every day reconciles (variance 0.00, or exactly the cash declared missing): "
            + "\(reconciles == worked ? "yes" : "NO") (\(reconciles) of \(worked))")
        say("  every receivable accounted for: opened \(opened), paid off \(settled), "
            + "owed \(owedTotal) on \(owed.count) ticket\(owed.count == 1 ? "" : "s"); "
            + "the demo's own record says \(myOwed): \(receivablesOK ? "yes" : "NO")")
        say("  no approved day changed: \(frozenKept == record.approved.count ? "yes" : "NO") "
            + "(\(frozenKept) of \(record.approved.count) as approved; "
            + "\(lateChanges) later change\(lateChanges == 1 ? "" : "s") listed beside them for review)")
        for u in unexplained { say("  NOT EXPLAINED: \(u)") }
        say(String(format: "Month complete in %.1f s.", seconds))
        return reconciles == worked && receivablesOK && frozenKept == record.approved.count && unexplained.isEmpty
    }

    /// One van's working day; returns the line the demo prints for it.
    // swiftlint:disable:next function_parameter_count
    func work(_ book: VanBook, _ client: SyncClient, date: String, offset: Int, slot: Int, index: Int, rng: inout SeededGenerator,
              record: inout Record, partial: inout (van: String, ticket: String, due: Int)?,
              untouched: inout (date: String, ticket: String, offset: Int)?, evening: inout (van: String, amount: Money)?,
              bank: inout [(date: String, amount: Money, ref: String)]) async throws -> String {
        let base = 7 * 60 + 10 + 180 * slot
        at(date, minutes: base)
        try book.vehicleCheck(fault: nil)
        _ = try book.loadOut(counts: [:], restMatch: true, confirm: true)
        var notes: [String] = []
        var delivered = 0
        // A part payment's rest, collected two working days later at the same shop.
        if let p = partial, p.van == book.device, index == p.due, let owed = try book.balances().first(where: { $0.ticket == p.ticket }) {
            at(date, minutes: base + 10)
            try book.collect(p.ticket, cash: owed.balance, note: "上次欠款结清")
            record.owed[p.ticket] = .zero
            notes.append("\(owed.customerName) pays the \(owed.balance) it owed on \(p.ticket)")
            partial = nil
        }
        let tickets = try book.tickets().filter { $0.day == date }
        for (i, t) in tickets.enumerated() {
            at(date, minutes: base + 20 + 18 * i)
            if index == 6 && book.device == "van-03" && i == tickets.count - 1 {
                untouched = (date, t.ticket, offset)
                notes.append("\(t.ticket) not reached before closing time (left to the depot)")
                continue
            }
            if index == 2 && book.device == "van-01" && i == 1 {
                let id = try book.refuse(t.ticket, reason: "closed", note: "店门关着")
                try book.void(id, reason: "店主五分钟后回来了，收货")
                notes.append("\(t.ticket) refused (closed), then taken back when the owner came back")
            }
            let codes = try book.replica.rows("cartons", where: "ticket", is: .text(t.ticket)).map(\.key)
            _ = try book.scan(t.ticket, codes: codes)
            var cash: Money? = t.payment == "cash" ? t.amountDue : nil
            var reason: String?
            if index == 1 && book.device == "van-02" && partial == nil && t.payment == "cash" && t.amountDue > Money(minorUnits: 20_000) {
                cash = Money(minorUnits: t.amountDue.minorUnits / 2)
                reason = "店主现金不足，余款下次结清"
                partial = (book.device, t.ticket, index + 2)
                record.owed[t.ticket] = t.amountDue - (cash ?? .zero)
                notes.append("\(t.customerName) pays \(cash ?? .zero) of \(t.amountDue) on \(t.ticket), owes the rest")
            }
            var onAccount: Money?
            if index == 9 && book.device == "van-01" && !notes.contains(where: { $0.contains("on account") })
                && t.payment == "cash" && t.amountDue > Money(minorUnits: 20_000) {
                // A credit customer: 100.00 on its account, billed later; still owed when the month ends.
                onAccount = Money(minorUnits: 10_000)
                cash = t.amountDue - Money(minorUnits: 10_000)
                record.owed[t.ticket] = Money(minorUnits: 10_000)
                notes.append("\(t.customerName) takes 100.00 of \(t.ticket) on account (a credit customer)")
            }
            _ = try book.deliver(DeliveryRequest(ticket: t.ticket, signature: SignaturePNG.make(seed: rng.next()), signer: "店主", cash: cash,
                                                 partialReason: reason, onAccount: onAccount))
            delivered += 1
        }
        at(date, minutes: base + 170)
        _ = try book.loadIn(counts: [:], restMatch: true, confirm: true)
        try book.logOdometer(10_000 + 100 * index, note: "收车")
        var onHand = try book.daySummary().cashOnHand
        var carry: Money?, missing: Money?, why: String?
        if index == 3 && book.device == "van-03" && onHand > Money(minorUnits: 20_000) {
            carry = Money(minorUnits: 20_000)
            why = "银行已关门，明早存"
        }
        if index == 5 && book.device == "van-02" && onHand > Money(minorUnits: 5_000) {
            missing = Money(minorUnits: 5_000)
            why = "找不到这50元"
        }
        let paidIn = onHand - (carry ?? .zero) - (missing ?? .zero)
        if paidIn > .zero {
            let ref = "ICBC-\(date.replacingOccurrences(of: "-", with: ""))-\(book.device)"
            try book.deposit(paidIn, bankRef: ref)
            bank.append((date, paidIn, ref))
        }
        onHand = try book.daySummary().cashOnHand
        _ = try await client.sync()
        _ = try book.closeDay(unsynced: Unsynced(changes: try client.pending(), blobs: try client.pendingBlobs()),
                              carry: carry, missing: missing, reason: why)
        if let carry { notes.append("\(carry) carried over to tomorrow's float (\(why ?? ""))") }
        if let missing {
            evening = (book.device, missing)
            notes.append("\(missing) declared missing at the close (\(why ?? ""))")
        }
        _ = try await client.sync()
        let sum = tickets.count
        return "\(delivered)/\(sum) delivered, \(paidIn) paid in, day closed" + (notes.isEmpty ? "" : "; " + notes.joined(separator: "; "))
    }
}

/// The month's bank: statements as ICBC exports them (GBK, Chinese columns, title and footer),
/// and the order system's correction of a ticket.
enum MonthBank {
    /// The accountant imports the bank's export of these payments through the saved ICBC format.
    static func book(_ lines: [(date: String, amount: Money, ref: String)], into store: SettlementStore, file: String) throws -> ReadStatement {
        guard let format = try store.bankFormat(named: "ICBC") else { throw DepotError.refused("the demo's ICBC bank format is not saved") }
        let read = try BankStatement.read(try export(lines, account: MonthDemo.account), format: format, designated: MonthDemo.account)
        _ = try store.importBank(read.lines, file: file)
        return read
    }

    static func export(_ lines: [(date: String, amount: Money, ref: String)], account: String) throws -> [UInt8] {
        var out = ["中国工商银行 对公账户明细", "账号:,\(account)", "交易日期,借方发生额,贷方发生额,余额,摘要"]
        for l in lines {
            out.append("\(l.date.replacingOccurrences(of: "-", with: "/")) 16:30:00,,\"\(grouped(l.amount))\",,\(l.ref)")
        }
        out.append("合计,,\"\(grouped(lines.reduce(Money.zero) { $0 + $1.amount }))\",,")
        guard let gbk = TextEncoding.encode(out.joined(separator: "\r\n") + "\r\n", as: "GB18030") else {
            throw DepotError.refused("the demo could not write its statement in GBK")
        }
        return gbk
    }

    /// 12685.00 as a bank prints it: 12,685.00.
    static func grouped(_ m: Money) -> String {
        let text = m.description
        let parts = text.split(separator: ".")
        var digits = Array(parts[0])
        var out = ""
        while digits.count > 3 {
            out = "," + String(digits.suffix(3)) + out
            digits.removeLast(3)
        }
        return String(digits) + out + (parts.count > 1 ? "." + parts[1] : "")
    }

    /// The order system's corrected export of a day: one carton more on a ticket's first line.
    static func corrected(_ csv: String, ticket: String) -> String {
        var lines = csv.components(separatedBy: "\r\n")
        guard let i = lines.firstIndex(where: { $0.contains(",\(ticket),") }) else { return csv }
        var f = lines[i].components(separatedBy: ",")
        guard f.count == 16, let qty = Int(f[13]), let code = f[15].components(separatedBy: ";").first else { return csv }
        f[13] = String(qty + 1)
        f[15] += ";" + code.dropLast(4) + "0099"
        lines[i] = f.joined(separator: ",")
        return lines.joined(separator: "\r\n")
    }
}
