import Foundation
import Testing
import TallyReplica
import TallyRoutes

/// A whole van day through the real `tally` binary and a real depot process: manifest import,
/// join, load-out, offline scans and deliveries with every kind of exception, deposit, the
/// refused close while unsynced, sync, close, and what the depot holds afterwards.
@Suite(.serialized) struct RouteDayTests {
    static let date = "2026-11-28"

    func tally(_ args: [String], _ scratch: Scratch) async throws -> Tool.Result {
        try await Tool.run(args, in: scratch)
    }

    func json<T: Decodable>(_ type: T.Type, _ r: Tool.Result) throws -> T {
        guard r.status == 0 else { throw TestFailure("command failed: \(r)") }
        return try cliJSON.decode(T.self, from: Data(r.stdout.utf8))
    }

    @Test func aWholeDayOfflineThenSyncedAndClosed() async throws {
        let scratch = try Scratch("routeday")
        let depot = try await DepotProcess(scratch)

        // The depot imports the day; importing again changes nothing.
        let sample = try await tally(["depot", "sample-manifest", "--date", Self.date, "--routes", "R01,R02", "--tickets", "8", "--seed", "3"], scratch)
        #expect(sample.status == 0, "\(sample)")
        let manifest = scratch.path("manifest.csv")
        try sample.stdout.write(toFile: manifest, atomically: true, encoding: .utf8)
        let imported = try await tally(["depot", "import-manifest", manifest, "--data", depot.data, "--json"], scratch)
        #expect(try json(ImportSummary.self, imported).tickets == 16)
        let again = try await tally(["depot", "import-manifest", manifest, "--data", depot.data, "--json"], scratch)
        #expect(try json(ImportSummary.self, again).changes == 0)

        try await depot.start(port: 0)
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        #expect(try await van.sync(scratch).status == 0)
        let port = depot.port
        await depot.stop()

        func vanRun(_ args: [String]) async throws -> Tool.Result {
            try await tally(["van"] + args + ["--replica", van.path], scratch)
        }
        func vanRun(_ args: String...) async throws -> Tool.Result { try await vanRun(args) }
        let tickets = try json([TicketView].self, try await vanRun("tickets", "--json"))
        #expect(tickets.count == 8)
        #expect(tickets.map(\.stop) == Array(1...8))
        func cartons(_ ticket: String) throws -> [Row] { try van.withReplica { try $0.rows("cartons", where: "ticket", is: .text(ticket)) } }
        let cash = tickets.filter { $0.payment == "cash" }
        let electronic = tickets.filter { $0.payment == "electronic" }
        try #require(cash.count >= 3 && electronic.count >= 1, "seed 3 gives both payment kinds")

        // Before leaving.
        #expect(try await vanRun("vehicle-check", "--ok").status == 0)
        #expect(try await vanRun("log", "--odometer", "18200", "--note", "出车").status == 0)
        let backwards = try await vanRun("log", "--odometer", "18000")
        #expect(backwards.status == 1 && backwards.stderr.contains("below the last reading"))
        let shortTicket = cash[1]
        let shortProduct = try #require(try cartons(shortTicket.ticket).first?["product_code"].text)
        // A count names every product or says the rest match; a difference is shown, not recorded, until confirmed.
        let shortCount = "\(shortProduct)=\(try loadExpected(van, shortProduct) - 1)"
        let blind = try await vanRun("load-out", "--count", shortCount)
        #expect(blind.status == 1 && blind.stderr.contains("not counted") && blind.stderr.contains("--rest-match"), "\(blind)")
        let unconfirmed = try await vanRun("load-out", "--count", shortCount, "--rest-match")
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("(-1)") && unconfirmed.stderr.contains("--confirm"), "\(unconfirmed)")
        let load = try json(LoadOutRecord.self, try await vanRun("load-out", "--json", "--count", shortCount, "--rest-match", "--confirm"))
        #expect(load.differences.map(\.difference) == [-1])

        // A carton of another shop is caught; nothing is recorded.
        let before = try van.digest()
        let first = tickets[0]
        let wrong = try #require(try cartons(tickets[1].ticket).first?.key)
        let caught = try await vanRun("scan", first.ticket, try cartons(first.ticket)[0].key, wrong)
        #expect(caught.status == 1)
        #expect(caught.stderr.contains("belongs to ticket \(tickets[1].ticket)"))
        #expect(try van.digest() == before)

        // Deliveries: full, short, part payment, electronic; one refusal.
        // Each shop signs its own picture on the pad.
        var pads: [String: String] = [:]
        for (i, t) in tickets.enumerated() {
            pads[t.ticket] = scratch.path("sig-\(t.ticket).png")
            try Data(SignaturePNG.make(seed: UInt64(100 + i))).write(to: URL(fileURLWithPath: pads[t.ticket] ?? ""))
        }
        let refused = tickets.first { $0.ticket != shortTicket.ticket && $0.ticket != cash[0].ticket && $0.ticket != cash[2].ticket && $0.ticket != electronic[0].ticket }
        var collected = Money.zero
        for t in tickets {
            if t.ticket == refused?.ticket {
                let r = try await vanRun("refuse", t.ticket, "--reason", "closed", "--note", "店门紧锁")
                #expect(r.status == 0, "\(r)")
                continue
            }
            var codes = try cartons(t.ticket).map(\.key)
            var extra: [String] = []
            var value = t.amountDue
            if t.ticket == shortTicket.ticket {
                let dropped = try #require(try cartons(t.ticket).last { $0["product_code"].text == shortProduct })
                codes.removeAll { $0 == dropped.key }
                extra += ["--short", "\(shortProduct)=1"]
                value = value - (try unitPrice(van, t.ticket, shortProduct))
            }
            let scan = try await vanRun(["scan", t.ticket] + codes)
            #expect(scan.status == 0, "\(scan)")
            if t.payment == "cash" {
                if t.ticket == cash[2].ticket {
                    let half = Money(minorUnits: value.minorUnits / 2)
                    let noReason = try await vanRun("deliver", t.ticket, "--signature", pads[t.ticket] ?? "", "--cash", half.description)
                    #expect(noReason.status == 1 && noReason.stderr.contains("--partial --reason"))
                    extra += ["--cash", half.description, "--partial", "--reason", "店主现金不足"]
                    collected += half
                } else {
                    extra += ["--cash", value.description]
                    collected += value
                }
            }
            let d = try await tally(["van", "deliver", t.ticket, "--signature", pads[t.ticket] ?? "", "--signer", "老板", "--json",
                                     "--replica", van.path] + extra, scratch)
            let record = try json(DeliveryRecord.self, d)
            #expect(record.handover.value == value)
        }
        let twice = try await vanRun("deliver", cash[0].ticket, "--signature", pads[cash[0].ticket] ?? "", "--cash", cash[0].amountDue.description)
        #expect(twice.status == 1 && twice.stderr.contains("already delivered"))

        // A return after delivery, on a cash ticket: paid back in cash. Never more than delivered.
        let returnProduct = try #require(try cartons(cash[0].ticket).first?["product_code"].text)
        let tooMany = try await vanRun("return", cash[0].ticket, "--product", returnProduct, "--qty", "99", "--reason", "damaged")
        #expect(tooMany.status == 1 && tooMany.stderr.contains("cannot be returned"))
        let ret = try json(VanEvent.self, try await vanRun("return", cash[0].ticket, "--product", returnProduct, "--qty", "1", "--reason", "damaged", "--json"))
        #expect(ret.amount == (try unitPrice(van, cash[0].ticket, returnProduct)))

        // The receipt verifies.
        let receipt = try await vanRun("receipt", shortTicket.ticket, "--verify")
        #expect(receipt.status == 0, "\(receipt)")
        #expect(receipt.stdout.contains("verified"))

        // Cash to the bank: a wrong amount is voided and recorded again.
        let onHand = try json(DaySummary.self, try await vanRun("summary", "--json")).cashOnHand
        #expect(onHand == collected - ret.amount)
        let tooMuch = try await vanRun("deposit", (onHand + Money(minorUnits: 100)).description, "--bank-ref", "X0")
        #expect(tooMuch.status == 1 && tooMuch.stderr.contains("more than the"))
        struct Deposited: Decodable { var event: String; var afterClose: Bool }
        let wrongDeposit = try json(Deposited.self, try await vanRun("deposit", "1.00", "--bank-ref", "B-WRONG", "--json"))
        #expect(!wrongDeposit.afterClose)
        #expect(try await vanRun("void", wrongDeposit.event, "--reason", "typed the wrong amount").status == 0)
        #expect(try await vanRun("deposit", onHand.description, "--bank-ref", "ICBC-0001").status == 0)

        // Closing while unsynced is refused and changes nothing.
        let unsyncedDigest = try van.digest()
        let early = try await vanRun("close-day")
        #expect(early.status == 1)
        #expect(early.stderr.contains("not synced") && early.stderr.contains("tally sync"))
        #expect(try van.digest() == unsyncedDigest)
        let offline = try await van.sync(scratch)
        #expect(offline.status == 75, "\(offline)")
        #expect(offline.stderr.contains("depot unreachable"))

        // Back at the depot: sync, close, the summary reaches the depot.
        try await depot.start(port: port)
        #expect(try await van.sync(scratch).status == 0)
        struct Closed: Decodable { var event: String; var summary: DaySummary; var sentToDepot: Bool }
        let closed = try json(Closed.self, try await vanRun("close-day", "--json"))
        #expect(closed.sentToDepot)
        let s = closed.summary
        #expect(s.delivered == 7 && s.refused == 1 && s.open.isEmpty)
        #expect(s.cartonsShort == 1 && s.returns == 1)
        #expect(s.cashCollected == collected && s.cashDeposited == onHand && s.cashOnHand == .zero)
        #expect(s.partialPayments.map(\.ticket) == [cash[2].ticket])
        #expect(s.unexplained.isEmpty, "\(s.unexplained)")
        let after = try await vanRun("scan", tickets[0].ticket, "anything")
        #expect(after.status == 1 && after.stderr.contains("closed"))
        await depot.stop()

        // The depot holds every entry of the van exactly once, and every signature image.
        let vanEvents = try van.withReplica { try $0.rows("events") }
        let depotEvents = try depot.withReplica { try $0.rows("events", where: "route", is: "R01") }
        #expect(Set(vanEvents.map(\.key)) == Set(depotEvents.map(\.key)))
        #expect(vanEvents.count == depotEvents.count)
        #expect(depotEvents.contains { $0["kind"] == "close_day" })
        for d in depotEvents where d["kind"] == "deliver" {
            #expect(try depot.withReplica { try $0.hasBlob(d["ref"].text ?? "") })
        }
    }

    func loadExpected(_ van: DeviceFile, _ product: String) throws -> Int {
        try van.withReplica { r in
            try r.rows("ticket_lines").filter { $0["route"] == "R01" && $0["product_code"].text == product }
                .reduce(0) { $0 + Int($1["quantity"].integer ?? 0) }
        }
    }

    func unitPrice(_ van: DeviceFile, _ ticket: String, _ product: String) throws -> Money {
        try van.withReplica { r in
            Money(minorUnits: try r.rows("ticket_lines", where: "ticket", is: .text(ticket)).first { $0["product_code"].text == product }?["unit_price"].integer ?? 0)
        }
    }
}
