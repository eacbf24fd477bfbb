import Foundation
import Testing
import TallyReplica
import TallyRoutes

/// Issue 19 through the built `tally` and a real depot process: ordinary days a script never
/// takes (a relief van, a refusal taken back, a count, cash that outlives its day, a picture
/// that is no proof, a day corrected after it was approved).
@Suite(.serialized, .timeLimit(.minutes(6)))
struct WorkingDayCLITests {
    static let day1 = "2026-11-29"
    static let day2 = "2026-11-30"

    /// A depot serving the given days' manifests of route R01 (4 tickets each, seed 3).
    static func depot(_ scratch: Scratch, days: [String]) async throws -> DepotProcess {
        let depot = try await DepotProcess(scratch)
        for d in days { try await importSample(depot, date: d) }
        try await depot.start()
        return depot
    }

    static func importSample(_ depot: DepotProcess, date: String, tickets: Int = 4) async throws {
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", date, "--routes", "R01", "--tickets", String(tickets), "--seed", "3"],
                                        in: depot.scratch)
        let file = depot.scratch.path("manifest-\(date).csv")
        try sample.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try await Tool.run(["depot", "import-manifest", file, "--data", depot.data], in: depot.scratch)
        try #require(imported.status == 0, "\(imported)")
    }

    /// `tally van ARGS --replica VAN`, at `now` when given (Beijing time).
    static func van(_ v: DeviceFile, _ scratch: Scratch, now: String? = nil, _ args: String...) async throws -> Tool.Result {
        try await Tool.run(["van"] + args + ["--replica", v.path], in: scratch, env: now.map { ["TALLY_NOW": $0] } ?? [:])
    }

    static func tickets(_ v: DeviceFile, _ scratch: Scratch, now: String? = nil) async throws -> [TicketView] {
        let r = try await van(v, scratch, now: now, "tickets", "--json")
        try #require(r.status == 0, "\(r)")
        return try cliJSON.decode([TicketView].self, from: Data(r.stdout.utf8))
    }

    /// A picture the shop signs on the pad, its own.
    static func pad(_ scratch: Scratch, _ name: String, seed: UInt64) throws -> String {
        let path = scratch.path("\(name).png")
        try Data(SignaturePNG.make(seed: seed)).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Scans every carton of a ticket and hands it over in full (cash tickets paid in full).
    @discardableResult
    static func deliver(_ v: DeviceFile, _ scratch: Scratch, _ t: TicketView, now: String? = nil, seed: UInt64) async throws -> Tool.Result {
        let codes = try v.withReplica { try $0.rows("cartons", where: "ticket", is: .text(t.ticket)).map(\.key) }
        let scan = try await Tool.run(["van", "scan", t.ticket] + codes + ["--replica", v.path], in: scratch,
                                      env: now.map { ["TALLY_NOW": $0] } ?? [:])
        #expect(scan.status == 0, "\(scan)")
        var args = ["deliver", t.ticket, "--signature", try pad(scratch, "sig-\(t.ticket)", seed: seed), "--signer", "老板"]
        if t.payment == "cash" { args += ["--cash", t.amountDue.description] }
        return try await Tool.run(["van"] + args + ["--replica", v.path], in: scratch, env: now.map { ["TALLY_NOW": $0] } ?? [:])
    }

    static func reconcile(_ depot: DepotProcess, _ date: String) async throws -> [String: Any] {
        let r = try await Tool.run(["reconcile", "--data", depot.data, "--date", date, "--format", "json"], in: depot.scratch)
        try #require(r.status == 0, "\(r)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    static func settlement(_ rec: [String: Any], _ device: String) -> [String: Any]? {
        (rec["settlements"] as? [[String: Any]])?.first { $0["device"] as? String == device }
    }

    static func kinds(_ s: [String: Any]?) -> [String] {
        ((s?["exceptions"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
    }

    // MARK: - 1. A settled day never changes afterwards

    @Test func anApprovedDayKeepsItsFiguresAndCartonCodesAreNeverReused() async throws {
        let scratch = try Scratch("frozen-day")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        defer { Task { await depot.stop() } }
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let tickets = try await Self.tickets(van, scratch)
        // Three tickets delivered, the fourth left untouched; the cash paid in; the day closed.
        var cash = Money.zero
        for (i, t) in tickets.prefix(3).enumerated() {
            #expect(try await Self.deliver(van, scratch, t, seed: UInt64(10 + i)).status == 0)
            if t.payment == "cash" { cash += t.amountDue }
        }
        if cash > .zero { #expect(try await Self.van(van, scratch, "deposit", cash.description, "--bank-ref", "ICBC-1").status == 0) }
        #expect(try await van.sync(scratch).status == 0)
        let closed = try await Self.van(van, scratch, "close-day")
        #expect(closed.status == 0, "\(closed)")
        let approve = try await Tool.run(["settle", "approve", "van-01", "--date", Self.day1, "--note", "checked by phone", "--data", depot.data],
                                         in: scratch)
        #expect(approve.status == 0, "\(approve)")
        let before = try await Self.reconcile(depot, Self.day1)
        let approved = try #require(Self.settlement(before, "van-01"))
        #expect(approved["status"] as? String == "approved")

        // The next day's sample manifest prints codes of its own; a file reusing 11-29's is refused, with its line.
        let next = try await Tool.run(["depot", "sample-manifest", "--date", Self.day2, "--routes", "R01", "--tickets", "4", "--seed", "3"],
                                      in: scratch)
        let oldCodes = Set(try depot.withReplica { try $0.rows("cartons").map(\.key) })
        let csv = next.stdout
        #expect(oldCodes.allSatisfy { !csv.contains($0) }, "sample-manifest reuses a carton code of another day")
        let reused = csv.replacingOccurrences(of: "-261130-", with: "-261129-")
        try reused.write(toFile: scratch.path("reused.csv"), atomically: true, encoding: .utf8)
        let digest = try depot.digest()
        let refused = try await Tool.run(["depot", "import-manifest", scratch.path("reused.csv"), "--data", depot.data], in: scratch)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("line 2") && refused.stderr.contains("is already on ticket") && refused.stderr.contains("of 2026-11-29"),
                "\(refused.stderr)")
        #expect(try depot.digest() == digest, "a refused manifest changes nothing")

        // A corrected 11-29 manifest changes the untouched ticket: allowed (no device worked it), and
        // the approved day is shown as approved, the change listed beside it.
        let original = try String(contentsOfFile: scratch.path("manifest-\(Self.day1).csv"), encoding: .utf8)
        let untouched = try #require(tickets.last)
        var lines = original.components(separatedBy: "\r\n")
        let i = try #require(lines.firstIndex { $0.contains(",\(untouched.ticket),") })
        // One carton more on its first line, with a code of its own.
        var fields = lines[i].components(separatedBy: ",")
        let qty = try #require(Int(fields[13]))
        let code = try #require(fields[15].components(separatedBy: ";").first)
        fields[13] = String(qty + 1)
        fields[15] += ";" + code.dropLast(4) + "0099"
        lines[i] = fields.joined(separator: ",")
        try lines.joined(separator: "\r\n").write(toFile: scratch.path("corrected.csv"), atomically: true, encoding: .utf8)
        let corrected = try await Tool.run(["depot", "import-manifest", scratch.path("corrected.csv"), "--data", depot.data], in: scratch)
        #expect(corrected.status == 0, "\(corrected)")
        let after = try await Self.reconcile(depot, Self.day1)
        let frozen = try #require(Self.settlement(after, "van-01"))
        #expect(frozen["status"] as? String == "approved")
        for key in ["cash", "tickets", "load"] {
            #expect(NSDictionary(dictionary: frozen[key] as? [String: Any] ?? [:]).isEqual(to: approved[key] as? [String: Any] ?? [:]),
                    "\(key) changed after the approval")
        }
        let approvedKinds = Self.kinds(approved)
        #expect(Array(Self.kinds(frozen).prefix(approvedKinds.count)) == approvedKinds)
        let late = ((frozen["exceptions"] as? [[String: Any]]) ?? []).filter { $0["kind"] as? String == "late_change" }
        #expect(late.contains { ($0["detail"] as? String ?? "").contains("cartons on the manifest would now read") }, "\(late)")
    }

    // MARK: - 2. A relief van works today and is never settled for yesterday

    @Test func aReliefVanWorksTheDayOfItsTickets() async throws {
        let scratch = try Scratch("relief-van")
        let depot = try await Self.depot(scratch, days: [Self.day1, Self.day2])
        defer { Task { await depot.stop() } }
        let regular = try await DeviceFile.join(depot, "van-01", route: "R01")
        let morning1 = "\(Self.day1)T09:00:00+08:00"
        let day1 = try await Self.tickets(regular, scratch, now: morning1)
        #expect(Set(day1.map(\.day)) == [Self.day1])
        let first = try #require(day1.first { $0.payment != "cash" } ?? day1.first)
        #expect(try await Self.deliver(regular, scratch, first, now: morning1, seed: 1).status == 0)
        if first.payment == "cash" {
            #expect(try await Self.van(regular, scratch, now: morning1, "deposit", first.amountDue.description, "--bank-ref", "R-1").status == 0)
        }
        #expect(try await regular.sync(scratch).status == 0)

        // The relief van joins on 11-30: it sees 11-30's tickets, not yesterday's, and works them.
        let relief = try await DeviceFile.join(depot, "van-02", route: "R01")
        let morning2 = "\(Self.day2)T08:30:00+08:00"
        let nothing = try await Self.van(relief, scratch, now: morning2, "close-day")
        #expect(nothing.status == 1 && nothing.stderr.contains("recorded nothing"), "\(nothing)")
        let today = try await Self.tickets(relief, scratch, now: morning2)
        #expect(!today.isEmpty && Set(today.map(\.day)) == [Self.day2], "\(today.map(\.day))")
        let t = try #require(today.first { $0.payment != "cash" } ?? today.first)
        let d = try await Self.deliver(relief, scratch, t, now: morning2, seed: 2)
        #expect(d.status == 0, "\(d)")
        #expect(try await relief.sync(scratch).status == 0)

        // 11-29 is settled for the van that worked it, not for the relief van.
        let rec = try await Self.reconcile(depot, Self.day1)
        let devices = ((rec["settlements"] as? [[String: Any]]) ?? []).compactMap { $0["device"] as? String }
        #expect(devices == ["van-01"], "\(devices)")
        let rec2 = try await Self.reconcile(depot, Self.day2)
        #expect(Self.settlement(rec2, "van-02") != nil)
        #expect(Self.settlement(rec2, "van-01") == nil, "van-01 did nothing on 11-30 while van-02 worked the route")
    }

    // MARK: - 3. A refusal taken back, offline

    @Test func aRefusalTakenBackOfflineIsDeliveredAndBothEntriesShow() async throws {
        let scratch = try Scratch("refusal-back")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        await depot.stop()  // offline from here
        let t = try #require(try await Self.tickets(van, scratch).first)
        let refused = try await Self.van(van, scratch, "refuse", t.ticket, "--reason", "closed", "--json")
        #expect(refused.status == 0, "\(refused)")
        let refusal = "van-01/refuse/\(t.ticket)"
        var early = try await Self.van(van, scratch, "deliver", t.ticket, "--signature", try Self.pad(scratch, "early", seed: 5))
        if t.payment == "cash" {
            early = try await Self.van(van, scratch, "deliver", t.ticket, "--signature", try Self.pad(scratch, "early", seed: 5),
                                       "--cash", t.amountDue.description)
        }
        #expect(early.status == 1 && early.stderr.contains("tally van void \(refusal)"), "\(early)")
        #expect(try await Self.van(van, scratch, "void", refusal, "--reason", "店主五分钟后回来了").status == 0)
        let delivered = try await Self.deliver(van, scratch, t, seed: 5)
        #expect(delivered.status == 0, "\(delivered)")
        let view = try await Self.tickets(van, scratch).first { $0.ticket == t.ticket }
        #expect(view?.status == "delivered")

        try await depot.start()
        defer { Task { await depot.stop() } }
        #expect(try await van.sync(scratch).status == 0)
        let rec = try await Self.reconcile(depot, Self.day1)
        let s = try #require(Self.settlement(rec, "van-01"))
        let counts = try #require(s["tickets"] as? [String: Any])
        #expect(counts["delivered"] as? Int == 1 && counts["refused"] as? Int == 0)
        let back = ((s["exceptions"] as? [[String: Any]]) ?? []).first { $0["kind"] as? String == "refusal_taken_back" }
        #expect((back?["detail"] as? String ?? "").contains("then delivered"), "\(s)")
        #expect(!Self.kinds(s).contains("conflict"), "a refusal taken back is not a disagreement between devices")
    }

    // MARK: - 4. Counts are not blind

    @Test func aCountNamesEveryProductAndShowsTheDifferenceFirst() async throws {
        let scratch = try Scratch("blind-count")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        defer { Task { await depot.stop() } }
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let before = try van.digest()
        let blind = try await Self.van(van, scratch, "load-out")
        #expect(blind.status == 1 && blind.stderr.contains("not counted") && blind.stderr.contains("--rest-match"), "\(blind)")
        let products = try van.withReplica { try $0.rows("ticket_lines").compactMap { $0["product_code"].text } }
        let one = try #require(products.first)
        let off = try await Self.van(van, scratch, "load-out", "--count", "\(one)=0", "--rest-match")
        #expect(off.status == 1 && off.stderr.contains("counted 0") && off.stderr.contains("--confirm"), "\(off)")
        #expect(off.stderr.split(separator: "\n").count == 1, "one line")
        #expect(try van.digest() == before, "refused counts record nothing")
        let exact = try await Self.van(van, scratch, "load-out", "--rest-match", "--json")
        #expect(exact.status == 0, "\(exact)")
        let back = try await Self.van(van, scratch, "load-in")
        #expect(back.status == 1 && back.stderr.contains("not counted"), "\(back)")
    }

    // MARK: - 5. Cash is always bookable

    @Test func cashOnHandIsCarriedOrDeclaredAndALateDepositIsTaken() async throws {
        let scratch = try Scratch("carry-cash")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let morning1 = "\(Self.day1)T09:00:00+08:00"
        var collected = Money.zero
        for (i, t) in try await Self.tickets(van, scratch, now: morning1).enumerated() where t.payment == "cash" {
            #expect(try await Self.deliver(van, scratch, t, now: morning1, seed: UInt64(7 + i)).status == 0)
            collected += t.amountDue
        }
        try #require(collected > Money(minorUnits: 30_000), "seed 3's cash tickets come to over 300.00")
        let paidIn = collected - Money(minorUnits: 30_000)
        #expect(try await Self.van(van, scratch, now: morning1, "deposit", paidIn.description, "--bank-ref", "ICBC-A").status == 0)
        #expect(try await van.sync(scratch).status == 0)

        // 300.00 on hand: no close without placing it.
        let digest = try van.digest()
        let bare = try await Self.van(van, scratch, now: morning1, "close-day")
        #expect(bare.status == 1 && bare.stderr.contains("300.00 cash on hand") && bare.stderr.contains("--carry"), "\(bare)")
        let wrong = try await Self.van(van, scratch, now: morning1, "close-day", "--carry", "100.00", "--reason", "备用金")
        #expect(wrong.status == 1 && wrong.stderr.contains("must account for all of it"), "\(wrong)")
        let noReason = try await Self.van(van, scratch, now: morning1, "close-day", "--carry", "200.00", "--missing", "100.00")
        #expect(noReason.status == 1 && noReason.stderr.contains("--reason"), "\(noReason)")
        #expect(try van.digest() == digest, "a refused close records nothing")
        let close = try await Self.van(van, scratch, now: morning1, "close-day", "--carry", "200.00", "--missing", "100.00",
                                       "--reason", "200 留作明天找零，100 找不到了", "--json")
        #expect(close.status == 0, "\(close)")

        // The 100.00 turns up: paid in after the close, accepted for the accountant.
        let late = try await Self.van(van, scratch, now: "\(Self.day1)T20:00:00+08:00", "deposit", "100.00", "--bank-ref", "ICBC-B", "--json")
        struct Deposited: Decodable { var afterClose: Bool }
        #expect(late.status == 0, "\(late)")
        #expect(try cliJSON.decode(Deposited.self, from: Data(late.stdout.utf8)).afterClose)
        let tooMuch = try await Self.van(van, scratch, now: "\(Self.day1)T20:05:00+08:00", "deposit", "500.00", "--bank-ref", "ICBC-C")
        #expect(tooMuch.status == 1, "\(tooMuch)")
        #expect(try await van.sync(scratch).status == 0)
        let rec = try await Self.reconcile(depot, Self.day1)
        let s = try #require(Self.settlement(rec, "van-01"))
        let cash = try #require(s["cash"] as? [String: Any])
        #expect(cash["carried_out"] as? String == "200.00" && cash["declared_missing"] as? String == "0.00", "\(cash)")
        #expect(cash["deposited"] as? String == (paidIn + Money(minorUnits: 10_000)).description && cash["variance"] as? String == "0.00", "\(cash)")
        #expect(Self.kinds(s).contains("after_close") && Self.kinds(s).contains("cash_missing"), "\(Self.kinds(s))")

        // The next day opens with the 200.00 carried: on hand before anything is collected.
        try await Self.importSample(depot, date: Self.day2)
        #expect(try await van.sync(scratch).status == 0)
        let morning2 = "\(Self.day2)T08:00:00+08:00"
        let summary = try await Self.van(van, scratch, now: morning2, "summary", "--json")
        let s2 = try cliJSON.decode(DaySummary.self, from: Data(summary.stdout.utf8))
        #expect(s2.day == Self.day2 && s2.cashCarriedIn == Money(minorUnits: 20_000) && s2.cashOnHand == Money(minorUnits: 20_000), "\(s2)")
        #expect(try await Self.van(van, scratch, now: morning2, "deposit", "200.00", "--bank-ref", "ICBC-D").status == 0)
        await depot.stop()
    }

    // MARK: - 7. Evidence that proves something

    @Test func aSignatureIsAPictureAndProvesOneHandover() async throws {
        let scratch = try Scratch("signature-proof")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        defer { Task { await depot.stop() } }
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let tickets = try await Self.tickets(van, scratch)
        let shops = Dictionary(grouping: tickets, by: \.customer)
        try #require(shops.count >= 2)
        let a = tickets[0], b = try #require(tickets.first { $0.customer != a.customer })
        for t in [a, b] {
            let codes = try van.withReplica { try $0.rows("cartons", where: "ticket", is: .text(t.ticket)).map(\.key) }
            #expect(try await Tool.run(["van", "scan", t.ticket] + codes + ["--replica", van.path], in: scratch).status == 0)
        }
        func deliver(_ t: TicketView, _ file: String) async throws -> Tool.Result {
            var args = ["deliver", t.ticket, "--signature", file]
            if t.payment == "cash" { args += ["--cash", t.amountDue.description] }
            return try await Tool.run(["van"] + args + ["--replica", van.path], in: scratch)
        }
        let hello = scratch.path("hello.txt")
        try "hello".write(toFile: hello, atomically: true, encoding: .utf8)
        let text = try await deliver(a, hello)
        #expect(text.status == 1 && text.stderr.contains("not a PNG or JPEG"), "\(text)")
        var cut = SignaturePNG.make(seed: 3)
        cut.removeLast(20)
        try Data(cut).write(to: URL(fileURLWithPath: scratch.path("cut.png")))
        let damaged = try await deliver(a, scratch.path("cut.png"))
        #expect(damaged.status == 1 && damaged.stderr.contains("damaged"), "\(damaged)")
        let picture = try Self.pad(scratch, "shop-a", seed: 4)
        #expect(try await deliver(a, picture).status == 0)
        let reused = try await deliver(b, picture)
        #expect(reused.status == 1 && reused.stderr.contains("already on ticket \(a.ticket)"), "\(reused)")
        let verify = try await Self.van(van, scratch, "receipt", a.ticket, "--verify")
        #expect(verify.status == 0 && verify.stdout.contains("PNG of 160×60"), "\(verify)")
    }

    // MARK: - 8. Statements as banks export them

    @Test func aBanksOwnExportImportsThroughASavedFormat() async throws {
        let scratch = try Scratch("bank-export")
        let depot = try await DepotProcess(scratch)
        let data = depot.data
        let export = ["中国工商银行 对公账户明细", "账号:,6222020200112233", "交易日期,借方发生额,贷方发生额,余额,摘要",
                      "2026/11/29 10:12:03,,\"12,685.00\",\"112,685.00\",ICBC-0001", "2026/11/29,500.00,,\"112,185.00\",手续费",
                      "合计,500.00,\"12,685.00\",,"].joined(separator: "\r\n") + "\r\n"
        let gbkPath = scratch.path("icbc.csv")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        p.arguments = ["-f", "UTF-8", "-t", "GB18030", "-o", gbkPath]
        let input = Pipe()
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(Data(export.utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()

        // Without its format the file is refused, naming the statement, not a manifest.
        let plain = try await Tool.run(["reconcile", "import-bank", gbkPath, "--data", data], in: scratch)
        #expect(plain.status == 1 && plain.stderr.contains("bank statement") && !plain.stderr.contains("manifest"), "\(plain)")
        let unknown = try await Tool.run(["reconcile", "import-bank", gbkPath, "--format", "ICBC", "--data", data], in: scratch)
        #expect(unknown.status != 0 && unknown.stderr.contains("bank-format ICBC"), "\(unknown)")
        let saved = try await Tool.run(["reconcile", "bank-format", "ICBC", "--date", "交易日期", "--amount", "贷方发生额", "--reference", "摘要",
                                        "--data", data], in: scratch)
        #expect(saved.status == 0, "\(saved)")
        #expect(try await Tool.run(["reconcile", "bank-account", "6222000011112222", "--data", data], in: scratch).status == 0)
        let elsewhere = try await Tool.run(["reconcile", "import-bank", gbkPath, "--format", "ICBC", "--data", data], in: scratch)
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("line 2") && elsewhere.stderr.contains("designated account 6222000011112222"),
                "\(elsewhere)")
        #expect(try await Tool.run(["reconcile", "bank-account", "6222020200112233", "--data", data], in: scratch).status == 0)
        let imported = try await Tool.run(["reconcile", "import-bank", gbkPath, "--format", "ICBC", "--data", data], in: scratch)
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("(GB18030): 1 bank line, 1 new") && imported.stdout.contains("1 line with nothing credited")
                    && imported.stdout.contains("1 footer line"), "\(imported.stdout)")
        let again = try await Tool.run(["reconcile", "import-bank", gbkPath, "--format", "ICBC", "--data", data], in: scratch)
        #expect(again.stdout.contains("nothing new"), "\(again)")
    }

    // MARK: - 6. Money owed is remembered

    @Test func anUnpaidRestIsOwedAcrossDaysAndPaidOffLater() async throws {
        let scratch = try Scratch("receivables")
        let depot = try await DepotProcess(scratch)
        try await Self.importSample(depot, date: Self.day1, tickets: 10)
        try await depot.start()
        defer { Task { await depot.stop() } }
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let morning1 = "\(Self.day1)T09:00:00+08:00"
        let cashTickets = try await Self.tickets(van, scratch, now: morning1)
            .filter { $0.payment == "cash" && $0.amountDue > Money(minorUnits: 30_000) }
        try #require(cashTickets.count >= 2, "seed 3 has two cash tickets over 300.00")
        let (a, b) = (cashTickets[0], cashTickets[1])
        for t in [a, b] {
            let codes = try van.withReplica { try $0.rows("cartons", where: "ticket", is: .text(t.ticket)).map(\.key) }
            let scan = try await Tool.run(["van", "scan", t.ticket] + codes + ["--replica", van.path], in: scratch, env: ["TALLY_NOW": morning1])
            #expect(scan.status == 0)
        }
        let hundred = Money(minorUnits: 10_000)
        // A: 100.00 in cash, the rest owed. B: 100.00 cash, 100.00 by WeChat, 100.00 on account, the rest in cash.
        let aRest = a.amountDue - hundred
        let pa = try await Self.van(van, scratch, now: morning1, "deliver", a.ticket, "--signature", try Self.pad(scratch, "a", seed: 61),
                                    "--cash", "100.00", "--partial", "--reason", "店主现金不足，余款下次结清")
        #expect(pa.status == 0 && pa.stdout.contains("\(aRest) owed by the shop"), "\(pa)")
        let noRef = try await Self.van(van, scratch, now: morning1, "deliver", b.ticket, "--signature", try Self.pad(scratch, "b", seed: 62),
                                       "--cash", (b.amountDue - hundred - hundred).description, "--qr", "100.00", "--on-account", "100.00")
        #expect(noRef.status == 1 && noRef.stderr.contains("--qr-ref"), "\(noRef)")
        let pb = try await Self.van(van, scratch, now: morning1, "deliver", b.ticket, "--signature", try Self.pad(scratch, "b", seed: 62),
                                    "--cash", (b.amountDue - hundred - hundred).description, "--qr", "100.00", "--qr-ref", "WX-4200001",
                                    "--on-account", "100.00")
        #expect(pb.status == 0, "\(pb)")
        let cash1 = hundred + b.amountDue - hundred - hundred
        #expect(try await Self.van(van, scratch, now: morning1, "deposit", cash1.description, "--bank-ref", "D1").status == 0)
        #expect(try await van.sync(scratch).status == 0)
        #expect(try await Self.van(van, scratch, now: morning1, "close-day").status == 0)
        let rec1 = try await Self.reconcile(depot, Self.day1)
        let s1 = try #require(Self.settlement(rec1, "van-01"))
        #expect(s1["receivables"] as? [String: String] == ["opened": (aRest + hundred).description, "settled": "0.00"], "\(s1)")
        #expect(!Self.kinds(s1).contains("cash_mismatch"), "owed money is not a cash difference: \(Self.kinds(s1))")
        #expect(Self.kinds(s1).filter { $0 == "receivable_opened" }.count == 2)
        let owed1 = try await Tool.run(["reconcile", "receivables", "--data", depot.data], in: scratch)
        #expect(owed1.stdout.contains(a.ticket) && owed1.stdout.contains(b.ticket) && owed1.stdout.contains("owed in all \(aRest + hundred)"),
                "\(owed1.stdout)")

        // The next day, at a later stop: A's shop pays its rest in cash, B's pays 60.00 by QR.
        try await Self.importSample(depot, date: Self.day2, tickets: 10)
        #expect(try await van.sync(scratch).status == 0)
        let morning2 = "\(Self.day2)T09:00:00+08:00"
        let known = try await Self.van(van, scratch, now: morning2, "balances", "--json")
        #expect(known.stdout.contains(a.ticket) && known.stdout.contains(b.ticket), "\(known)")
        let tooMuch = try await Self.van(van, scratch, now: morning2, "collect", a.ticket, "--cash", (aRest + hundred).description)
        #expect(tooMuch.status == 1 && tooMuch.stderr.contains("more than the \(aRest)"), "\(tooMuch)")
        #expect(try await Self.van(van, scratch, now: morning2, "collect", a.ticket, "--cash", aRest.description).status == 0)
        #expect(try await Self.van(van, scratch, now: morning2, "collect", b.ticket, "--qr", "60.00", "--qr-ref", "WX-4200002").status == 0)
        let summaryOut = try await Self.van(van, scratch, now: morning2, "summary", "--json").stdout
        let summary = try cliJSON.decode(DaySummary.self, from: Data(summaryOut.utf8))
        #expect(summary.cashOnHand == aRest, "the rest collected is cash on hand today")
        #expect(try await Self.van(van, scratch, now: morning2, "deposit", aRest.description, "--bank-ref", "D2").status == 0)
        #expect(try await van.sync(scratch).status == 0)
        let rec2 = try await Self.reconcile(depot, Self.day2)
        let s2 = try #require(Self.settlement(rec2, "van-01"))
        #expect(s2["receivables"] as? [String: String] == ["opened": "0.00", "settled": (aRest + Money(minorUnits: 6_000)).description], "\(s2)")
        #expect((s2["cash"] as? [String: Any])?["variance"] as? String == "0.00")
        let owed2 = try await Tool.run(["reconcile", "receivables", "--data", depot.data, "--json"], in: scratch)
        struct Owed: Decodable { var ticket: String; var balance: String }
        let list = try cliJSON.decode([Owed].self, from: Data(owed2.stdout.utf8))
        #expect(list.map(\.ticket) == [b.ticket] && list.first?.balance == "40.00", "\(owed2.stdout)")
        let asOf1 = try await Tool.run(["reconcile", "receivables", "--data", depot.data, "--date", Self.day1, "--json"], in: scratch)
        #expect(try cliJSON.decode([Owed].self, from: Data(asOf1.stdout.utf8)).count == 2, "as it stood on 11-29")
    }

    // MARK: - The month

    @Test func theMonthDemoChecksItsOwnBooks() async throws {
        let scratch = try Scratch("month")
        let r = try await Tool.run(["demo", "month", "--days", "20", "--keep", scratch.path("month")], in: scratch, timeout: 300)
        #expect(r.status == 0, "\(r.stdout.suffix(2_000)) \(r.stderr)")
        for fact in ["holiday 国庆节: nobody works", "relief van-04 joins route R01", "then taken back", "carried over to tomorrow's float",
                     "pays it in after the close", "sends 2026-09-29's manifest again", "imported the bank's ICBC export (GB18030)",
                     "on account", "owes the rest"] {
            #expect(r.stdout.contains(fact), "the month lacks: \(fact)")
        }
        #expect(r.stdout.contains("every day reconciles (variance 0.00, or exactly the cash declared missing): yes"))
        #expect(r.stdout.contains("every receivable accounted for") && r.stdout.contains("100.00: yes"))
        #expect(r.stdout.contains("no approved day changed: yes") && r.stdout.contains("1 later change listed"))
        // The kept depot answers an accountant's questions afterwards.
        let owed = try await Tool.run(["reconcile", "receivables", "--data", scratch.path("month/depot"), "--json"], in: scratch)
        #expect(owed.status == 0 && owed.stdout.contains("\"balance\" : \"100.00\""), "\(owed)")
    }

    // MARK: - 9. Time and output

    @Test func outputIsLocalOneJSONPerCommandAndExitCodesAsTheREADMESays() async throws {
        let scratch = try Scratch("output")
        let depot = try await Self.depot(scratch, days: [Self.day1])
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        // A usage mistake: one line, exit 1.
        let usage = try await Tool.run(["van", "deliver", "--replica", van.path], in: scratch)
        #expect(usage.status == 1 && usage.stderr.split(separator: "\n").count == 1 && usage.stderr.hasPrefix("tally: Missing expected argument"),
                "\(usage)")
        #expect(try await Tool.run(["no-such-command"], in: scratch).status == 1)
        // The depot's lists in local time, a skew in words.
        let devices = try await Tool.run(["depot", "devices", "--data", depot.data], in: scratch)
        #expect(!devices.stdout.contains("+00:00") && !devices.stdout.contains("Z ") && !devices.stdout.contains(" s\n"), "\(devices.stdout)")
        #expect(devices.stdout.range(of: #"20\d\d-\d\d-\d\d \d\d:\d\d"#, options: .regularExpression) != nil, "\(devices.stdout)")
        let audit = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        #expect(audit.stdout.range(of: #"20\d\d-\d\d-\d\d \d\d:\d\d"#, options: .regularExpression) != nil && !audit.stdout.contains("T0"),
                "\(audit.stdout)")
        #expect(HumanTime.skew(milliseconds: 230_743_000) == "2 d 16 h ahead" && HumanTime.skew(milliseconds: -1_500) == "1 s behind")
        // Offline, `sync --json` still answers on stdout, and exits 75.
        await depot.stop()
        let offline = try await van.sync(scratch)
        struct Failed: Decodable { var ok: Bool; var code: String; var exitStatus: Int }
        #expect(offline.status == 75)
        let f = try cliJSON.decode(Failed.self, from: Data(offline.stdout.utf8))
        #expect(!f.ok && f.code == "unreachable" && f.exitStatus == 75)
        // --json where it was missing.
        for args in [["settle", "tolerance", "--json"], ["reconcile", "receivables", "--json"]] {
            let r = try await Tool.run(args + ["--data", depot.data], in: scratch)
            #expect(r.status == 0 && (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) != nil, "\(args): \(r)")
        }
        let verify = try await Tool.run(["report", "verify", scratch.path("nowhere"), "--json"], in: scratch)
        #expect(verify.status != 0)
    }
}
