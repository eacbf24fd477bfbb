import Foundation
import Testing
@testable import TallyReplica

/// `Writer.depot`: the rule (`TableSchema.depotOwnedPart`), its place in the schema's JSON, and a
/// device's replica refusing its own writes to what the depot decides while still merging the
/// depot's changes.
@Suite struct OwnershipTests {
    /// Tickets the depot issues (rows and prices) whose status and note a device writes; lines
    /// wholly the depot's; events anyone's.
    static let schema: Schema = {
        do {
            return try Schema(version: 1, tables: [
                TableSchema("tickets", kind: .record, writer: .depot, columns: [
                    ColumnSchema("route", .text, writer: .depot), ColumnSchema("due", .integer, writer: .depot),
                    ColumnSchema("status", .text, .lattice(try PartialOrder(values: ["planned", "delivered"], covers: [("planned", "delivered")]))),
                    ColumnSchema("note", .text),
                ]),
                TableSchema("lines", kind: .record, deletable: true, writer: .depot, columns: [
                    ColumnSchema("ticket", .text, writer: .depot), ColumnSchema("price", .integer, writer: .depot),
                ]),
                TableSchema("events", kind: .ledger, columns: [ColumnSchema("ticket", .text), ColumnSchema("amount", .integer)]),
            ])
        } catch {
            fatalError("\(error)")  // safe: a constant, checked by every run
        }
    }()

    // MARK: The rule

    @Test func theRuleNamesWhatOnlyTheDepotMayDo() throws {
        let tickets = try #require(Self.schema.table(named: "tickets"))
        let events = try #require(Self.schema.table(named: "events"))
        // Creating (0 → 1), re-creating (2 → 3) and deleting (1 → 2) a depot-written row.
        #expect(tickets.depotOwnedPart(setting: ["note"], causalLength: 1, stored: 0) == .row)
        #expect(tickets.depotOwnedPart(setting: ["note"], causalLength: 3, stored: 2) == .row)
        #expect(tickets.depotOwnedPart(setting: [], causalLength: 2, stored: 1) == .row)
        // Updates: a depot column, even among others, and even to the value held; a stale change.
        #expect(tickets.depotOwnedPart(setting: ["note", "due"], causalLength: 1, stored: 1) == .column("due"))
        #expect(tickets.depotOwnedPart(setting: ["route"], causalLength: 1, stored: 3) == .column("route"))
        #expect(tickets.depotOwnedPart(setting: ["status", "note"], causalLength: 1, stored: 1) == nil)
        #expect(tickets.depotOwnedPart(setting: ["note"], causalLength: 1, stored: 3) == nil, "a stale change revives nothing")
        #expect(tickets.depotOwnedPart(setting: ["unknown"], causalLength: 1, stored: 1) == nil, "unknown columns are the engine's to refuse")
        #expect(events.depotOwnedPart(setting: ["ticket", "amount"], causalLength: 1, stored: 0) == nil)
        #expect(tickets.hasDepotOwnedParts && !events.hasDepotOwnedParts)
    }

    // MARK: The schema's JSON

    @Test func theAttributeIsLeftOutForAnyoneAndAbsentMeansAnyone() throws {
        let json = String(decoding: try JSONEncoder().encode(Self.schema), as: UTF8.self)
        #expect(json.contains("\"writer\":\"depot\""))
        #expect(!json.contains("\"writer\":\"anyone\""), "the default is not written: older devices read the same JSON as before")
        #expect(try JSONDecoder().decode(Schema.self, from: Data(json.utf8)) == Self.schema)

        // An older depot's schema (no attribute at all) decodes as anyone's.
        let old = #"{"version":1,"tables":[{"name":"t","key":"id","kind":"record","deletable":false,"#
            + #""columns":[{"name":"a","type":"text","merge":"register"}]}]}"#
        let decoded = try JSONDecoder().decode(Schema.self, from: Data(old.utf8))
        #expect(decoded.tables[0].writer == .anyone && decoded.tables[0].columns[0].writer == .anyone)
        let unknown = old.replacingOccurrences(of: #""merge":"register""#, with: #""merge":"register","writer":"window""#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Schema.self, from: Data(unknown.utf8)) }

        // Declaring ownership later is not a change of the data: the stored schema is upgraded.
        var without = Self.schema
        for t in without.tables.indices {
            without.tables[t].writer = .anyone
            for c in without.tables[t].columns.indices { without.tables[t].columns[c].writer = .anyone }
        }
        #expect(Self.schema.extends(without) && without.extends(Self.schema))
        var renamed = without
        renamed.tables[0].columns[1].name = "amount"
        #expect(!Self.schema.extends(renamed))
    }

    // MARK: A device's replica

    /// A depot holding ticket T1 with one line, and a device made from its snapshot.
    static func depotAndDevice(_ folder: TempFolder) throws -> (Replica, Replica) {
        let options = ReplicaOptions.quiet()
        let depot = try Replica.create(at: folder.path("depot.sqlite"), schema: schema, options: options)
        try depot.write { tx in
            try tx.insert("tickets", key: "T1", ["route": "R1", "due": .integer(100_000), "status": "planned"])
            try tx.insert("lines", key: "T1/1", ["ticket": "T1", "price": .integer(100_000)])
        }
        #expect(try !depot.isDevice)
        let site = SiteID.random()
        _ = try depot.exportSnapshot(to: folder.path("van.sqlite"), for: site, rows: { _ in .all }, options: options)
        return (depot, try Replica.open(at: folder.path("van.sqlite"), options: options))
    }

    @Test func aDeviceRefusesItsOwnWritesToWhatTheDepotDecidesAndChangesNothing() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let (depot, van) = try Self.depotAndDevice(folder)
        #expect(try van.isDevice, "a snapshot is a device's")
        let digest = try van.digest()
        let attempts: [(String, (WriteTransaction) throws -> Void, ReplicaError)] = [
            ("a price", { try $0.update("lines", key: "T1/1", ["price": .integer(1)]) },
             .ownedByDepot(table: "lines", key: "T1/1", part: .column("price"))),
            ("a due among a note", { try $0.update("tickets", key: "T1", ["note": "x", "due": .integer(1)]) },
             .ownedByDepot(table: "tickets", key: "T1", part: .column("due"))),
            ("a new ticket", { try $0.insert("tickets", key: "T2", ["note": "x"]) }, .ownedByDepot(table: "tickets", key: "T2", part: .row)),
            ("an upsert", { try $0.upsert("lines", key: "T1/2", ["ticket": "T1"]) }, .ownedByDepot(table: "lines", key: "T1/2", part: .row)),
            ("a delete", { try $0.delete("lines", key: "T1/1") }, .ownedByDepot(table: "lines", key: "T1/1", part: .row)),
            // A good write first in the same transaction: it goes too.
            ("after a good write", { tx in
                try tx.update("tickets", key: "T1", ["note": "前门"])
                try tx.update("lines", key: "T1/1", ["price": .integer(1)])
            }, .ownedByDepot(table: "lines", key: "T1/1", part: .column("price"))),
        ]
        for (what, body, want) in attempts {
            #expect(throws: want, "\(what)") { try van.write(body) }
        }
        #expect(try van.digest() == digest, "nothing was written")
        #expect(try van.ownChanges(after: 0, limit: 10).isEmpty, "nothing was recorded")
        #expect(ReplicaError.ownedByDepot(table: "lines", key: "T1/1", part: .column("price")).description.contains("the order system decides it"))

        // What the device does own: a status, a note, its ledger.
        try van.write { tx in
            try tx.update("tickets", key: "T1", ["status": "delivered", "note": "后门"])
            try tx.insert("events", key: "E1", ["ticket": "T1", "amount": .integer(100_000)])
        }
        #expect(try van.ownChanges(after: 0, limit: 10).count == 2)

        // The depot's corrections still merge on the device.
        try depot.write { tx in try tx.update("lines", key: "T1/1", ["price": .integer(90_000)]) }
        try van.apply(try depot.ownChanges(after: 2, limit: 10), trustClocks: true)
        #expect(try van.row("lines", key: "T1/1")?["price"] == .integer(90_000))
    }

    @Test func aFileWithoutTheMarkWritesEverythingUntilMarked() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let r = try Replica.create(at: folder.path("plain.sqlite"), schema: Self.schema, options: .quiet())
        try r.write { tx in try tx.insert("tickets", key: "T1", ["route": "R1", "due": .integer(5)]) }
        try r.markAsDevice()
        try r.markAsDevice()
        #expect(try r.isDevice)
        #expect(throws: ReplicaError.ownedByDepot(table: "tickets", key: "T1", part: .column("due"))) {
            try r.write { tx in try tx.update("tickets", key: "T1", ["due": .integer(6)]) }
        }
        // Another opening of the file holds the same rule.
        try r.close()
        let again = try Replica.open(at: folder.path("plain.sqlite"), options: .quiet())
        #expect(throws: ReplicaError.self) { try again.write { tx in try tx.update("tickets", key: "T1", ["due": .integer(6)]) } }
    }
}
