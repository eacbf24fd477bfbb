import Foundation
import Testing
import TallyProtocol
import TallyReplica
import TallyRoutes

/// Design invariant 6 through the real `tally` binary and a real depot process: what the order
/// system decides (prices, quantities, products, codes, routes) is the depot's. A van that
/// rewrites its own manifest prices is refused on the handheld; one that forces them into its
/// file is refused at the depot; one that delivers at prices edited with the sqlite3 shell is
/// settled at the depot's import, with the difference shown.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct OwnedByDepotCLITests {
    static let date = "2026-11-28"

    /// A depot that imported one route's day, and its van joined and synced; the depot keeps
    /// running. Returns a cash ticket of the van and its lines as imported.
    static func day(_ scratch: Scratch) async throws -> (DepotProcess, DeviceFile, TicketView, [Row]) {
        let depot = try await DepotProcess(scratch)
        let sample = try await Tool.run(["depot", "sample-manifest", "--date", date, "--routes", "R01", "--tickets", "4", "--seed", "3"], in: scratch)
        let manifest = scratch.path("manifest.csv")
        try sample.stdout.write(toFile: manifest, atomically: true, encoding: .utf8)
        let imported = try await Tool.run(["depot", "import-manifest", manifest, "--data", depot.data], in: scratch)
        try #require(imported.status == 0, "\(imported)")
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-01", route: "R01")
        let tickets = try await Tool.run(["van", "tickets", "--json", "--replica", van.path], in: scratch)
        let views = try cliJSON.decode([TicketView].self, from: Data(tickets.stdout.utf8))
        let ticket = try #require(views.first { $0.payment == "cash" }, "seed 3 has a cash ticket")
        let lines = try van.withReplica { try $0.rows("ticket_lines", where: "ticket", is: .text(ticket.ticket)) }
        try #require(!lines.isEmpty)
        return (depot, van, ticket, lines)
    }

    static func run(_ scratch: Scratch, _ args: String...) async throws -> Tool.Result { try await Tool.run(args, in: scratch) }

    /// The picture the shop of `ticket` signs: one of its own per ticket.
    static func signatureImage(_ ticket: String) -> [UInt8] {
        SignaturePNG.make(seed: ticket.utf8.reduce(7) { $0 &* 31 &+ UInt64($1) })
    }

    /// Scans every carton of the ticket and delivers it, collecting `cash`.
    static func deliver(_ van: DeviceFile, _ ticket: String, cash: Money, _ scratch: Scratch) async throws -> Tool.Result {
        let codes = try van.withReplica { try $0.rows("cartons", where: "ticket", is: .text(ticket)).map(\.key) }
        let scan = try await Tool.run(["van", "scan", ticket] + codes + ["--replica", van.path], in: scratch)
        #expect(scan.status == 0, "\(scan)")
        let signature = scratch.path("sig-\(ticket).png")
        try Data(signatureImage(ticket)).write(to: URL(fileURLWithPath: signature))
        return try await Tool.run(["van", "deliver", ticket, "--signature", signature, "--cash", cash.description, "--replica", van.path],
                                  in: scratch)
    }

    /// What the lines add up to at 0.01 a carton: the price a dishonest van would like.
    static func pennies(_ lines: [Row]) -> Money { Money(minorUnits: lines.reduce(0) { $0 + ($1["quantity"].integer ?? 0) }) }

    @Test func aVanRewritingItsPricesIsRefusedOnTheHandheld() async throws {
        let scratch = try Scratch("owned-cli")
        let (depot, van, ticket, lines) = try await Self.day(scratch)
        let before = try van.digest()
        let seq = try van.localSeq()
        for l in lines {
            let w = try await Self.run(scratch, "replica", "write", van.path, "ticket_lines", l.key, "unit_price=1")
            #expect(w.status == 1, "\(l.key): \(w)")
            #expect(w.stderr.contains("ticket_lines.unit_price comes from the depot (the order system decides it)"), "\(w.stderr)")
            #expect(w.stderr.split(separator: "\n").count == 1, "one line: \(w.stderr)")
        }
        // Every other thing the order system decides, and rows it never issued.
        for args in [["tickets", ticket.ticket, "amount_due=1"], ["tickets", ticket.ticket, "payment=electronic"],
                     ["ticket_lines", lines[0].key, "quantity=1"], ["ticket_lines", lines[0].key, "--delete"],
                     ["cartons", "C-NEW", "route=R01", "ticket=\(ticket.ticket)"], ["tickets", "R01-NEW", "route=R01", "status=planned"],
                     ["customers", ticket.customer, "route=R02"], ["calendar", "2026-12-25", "kind=holiday"]] {
            let w = try await Tool.run(["replica", "write", van.path] + args, in: scratch)
            #expect(w.status == 1 && w.stderr.contains("the order system decides"), "\(args): \(w)")
        }
        #expect(try van.digest() == before, "nothing changed")
        #expect(try van.localSeq() == seq, "nothing recorded")
        // What happens on the road is still the van's to write.
        let note = try await Self.run(scratch, "replica", "write", van.path, "tickets", ticket.ticket, "note=后门")
        #expect(note.status == 0, "\(note)")

        // The day goes on at the prices issued: due and collected in full, no exception about content.
        let delivered = try await Self.deliver(van, ticket.ticket, cash: ticket.amountDue, scratch)
        #expect(delivered.status == 0, "\(delivered)")
        let receipt = try await Self.run(scratch, "van", "receipt", ticket.ticket, "--verify", "--replica", van.path)
        #expect(receipt.status == 0 && receipt.stdout.contains("verified"), "\(receipt)")
        #expect(try await van.sync(scratch).status == 0)
        await depot.stop()
    }

    @Test func pricesForcedIntoTheFileAreRefusedAtTheDepotAndAudited() async throws {
        let scratch = try Scratch("owned-forced")
        let (depot, van, ticket, lines) = try await Self.day(scratch)
        // The driver takes the handheld's refusal off (a changed program, the sqlite3 shell):
        // the engine then records the new prices as changes like any other.
        try sqlite(van.path, "DELETE FROM tally_meta WHERE name = 'role'")
        for l in lines {
            let w = try await Self.run(scratch, "replica", "write", van.path, "ticket_lines", l.key, "unit_price=1")
            #expect(w.status == 0, "\(w)")
        }
        let cheap = Self.pennies(lines)
        let delivered = try await Self.deliver(van, ticket.ticket, cash: cheap, scratch)
        #expect(delivered.status == 0, "the handheld's copy says \(cheap): \(delivered)")
        let depotBefore = try depot.digest()

        let sync = try await van.sync(scratch)
        #expect(sync.status == 1, "\(sync)")
        #expect(sync.stderr.contains("comes from the depot's import (the order system decides it)"), "\(sync.stderr)")
        #expect(sync.stderr.contains("nothing from this push was stored"), "\(sync.stderr)")
        #expect(try depot.digest() == depotBefore, "the depot stored nothing of the push")
        let prices = try depot.withReplica { r in try r.rows("ticket_lines", where: "ticket", is: .text(ticket.ticket)).map { $0["unit_price"] } }
        #expect(prices == lines.map { $0["unit_price"] }, "the depot keeps the imported prices")
        #expect(try depot.rows("events").filter { $0["ticket"].text == ticket.ticket }.isEmpty)
        let audit = try await Self.run(scratch, "depot", "audit", "--data", depot.data, "--json")
        let entries = try JSONSerialization.jsonObject(with: Data(audit.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.contains { $0["action"] as? String == "refused_depot_owned" && $0["device"] as? String == "van-01"
                && ($0["detail"] as? String ?? "").contains("unit_price") }, "\(audit.stdout)")

        // The same change over raw HTTP, as a program forging its log would send it: 403 depot_owned.
        let site = try van.withReplica { $0.site }
        let change = Change(table: "ticket_lines", key: lines[0].key, cl: 1, values: [ColumnValue("unit_price", .integer(1))],
                            hlc: HLC(milliseconds: SystemWallClock().nowMilliseconds(), counter: 0), site: site, seq: try van.ack() + 1)
        let body = try WireCodec.encode(PushRequest(schemaVersion: RouteSchema.current.version, site: site, changes: [change]), compress: true)
        let answer = try await HTTP.post(depot.url, "/v1/push", credential: van.credential, body: body, compressed: true)
        #expect(answer.status == 403 && answer.error?.code == "depot_owned", "\(answer.text)")
        #expect(try depot.digest() == depotBefore)

        // Reconciliation of the day knows nothing of the van's prices: the ticket is open at the import.
        let rec = try await Self.run(scratch, "reconcile", "--data", depot.data, "--date", Self.date, "--format", "json")
        #expect(rec.status == 0, "\(rec)")
        let s = try #require(try Self.settlement(rec, device: "van-01"))
        #expect((s["cash"] as? [String: Any])?["expected"] as? String == "0.00", "\(s)")
        await depot.stop()
    }

    @Test func aDeliveryAtPricesEditedWithTheShellIsSettledAtTheImport() async throws {
        let scratch = try Scratch("owned-shell")
        let (depot, van, ticket, lines) = try await Self.day(scratch)
        // Straight into the table: no change is recorded, so nothing of it is ever pushed.
        try sqlite(van.path, "UPDATE ticket_lines SET unit_price = 1 WHERE ticket = '\(ticket.ticket)'")
        let cheap = Self.pennies(lines)
        let delivered = try await Self.deliver(van, ticket.ticket, cash: cheap, scratch)
        #expect(delivered.status == 0, "the handheld's copy says \(cheap): \(delivered)")

        // The handheld itself can tell its copy differs from the ticket as issued.
        let receipt = try await Self.run(scratch, "van", "receipt", ticket.ticket, "--verify", "--replica", van.path)
        #expect(receipt.status == 1, "\(receipt)")
        #expect(receipt.stdout.contains("FAIL issued: the content differs from the ticket as issued"), "\(receipt.stdout)")
        #expect(receipt.stdout.contains("NOT verified"), "\(receipt.stdout)")

        // The delivery (a fact of the road) reaches the depot; the prices never do.
        #expect(try await van.sync(scratch).status == 0)
        let prices = try depot.withReplica { r in try r.rows("ticket_lines", where: "ticket", is: .text(ticket.ticket)).map { $0["unit_price"] } }
        #expect(prices == lines.map { $0["unit_price"] })
        #expect(try depot.rows("events").contains { $0["ticket"].text == ticket.ticket && $0["kind"].text == "deliver" })

        // Settled at the import: what was due is the ticket's issued amount, the cash short of it,
        // and the content mismatch named with both figures.
        let rec = try await Self.run(scratch, "reconcile", "--data", depot.data, "--date", Self.date, "--format", "json")
        #expect(rec.status == 0, "\(rec)")
        let s = try #require(try Self.settlement(rec, device: "van-01"))
        let cash = try #require(s["cash"] as? [String: Any])
        #expect(cash["expected"] as? String == ticket.amountDue.description, "\(cash)")
        #expect(cash["collected"] as? String == cheap.description, "\(cash)")
        let exceptions = s["exceptions"] as? [[String: Any]] ?? []
        let content = exceptions.filter { $0["kind"] as? String == "content_mismatch" && $0["ticket"] as? String == ticket.ticket }
        #expect(content.count == 1, "\(exceptions)")
        let detail = content.first?["detail"] as? String ?? ""
        #expect(detail.contains("differs from the ticket as issued") && detail.contains(ticket.amountDue.description)
                    && detail.contains(cheap.description),
                "\(detail)")
        #expect(exceptions.contains {
            $0["kind"] as? String == "cash_mismatch" && ($0["detail"] as? String ?? "").contains("collected \(cheap) of \(ticket.amountDue)")
        },
                "\(exceptions)")
        await depot.stop()
    }

    static func settlement(_ r: Tool.Result, device: String) throws -> [String: Any]? {
        let root = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return (root?["settlements"] as? [[String: Any]])?.first { $0["device"] as? String == device }
    }
}
