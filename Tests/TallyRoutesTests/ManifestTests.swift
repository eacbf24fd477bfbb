import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

@Suite struct ManifestTests {
    static let header = Manifest.columns.joined(separator: ",")
    static let t1a = #"2026-11-28,R07,T0001,1,C10023,张记便利店,幸福路12号,13800000000,cash,2026-11-28T12:00:00+08:00,3,6901028075015,中华(硬),2,450.00,C10023-6901028075015-0001;C10023-6901028075015-0002"#
    static let t1b = #"2026-11-28,R07,T0001,1,C10023,张记便利店,幸福路12号,13800000000,cash,2026-11-28T12:00:00+08:00,1,6901028075022,"玉溪,软",1,230.00,C10023-6901028075022-0001"#
    static let t2 = #"2026-11-28,R07,T0002,2,C10024,李家超市,人民路8号,13800000001,electronic,2026-11-28T14:00:00+08:00,1,6901028075015,中华(硬),1,450.00,C10024-6901028075015-0001"#

    static func csv(_ lines: [String], bom: Bool = false) -> [UInt8] {
        (bom ? [0xEF, 0xBB, 0xBF] : []) + Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    @Test func parsesTicketsLinesAndAmounts() throws {
        let m = try Manifest.parse(Self.csv([Self.header, Self.t1a, Self.t1b, Self.t2], bom: true))
        #expect(m.tickets.count == 2)
        let t = m.tickets[0]
        #expect(t.customerName == "张记便利店")
        #expect(t.lines.count == 2)
        #expect(t.lines[1].productName == "玉溪,软")
        #expect(t.amountDue == Money(minorUnits: 113_000))
        #expect(t.cartonCount == 3)
        #expect(m.tickets[1].payment == .electronic)
    }

    static func problems(_ lines: [String]) -> [ManifestError.Problem] {
        do {
            _ = try Manifest.parse(csv(lines))
            return []
        } catch {
            return error.problems
        }
    }

    @Test func refusesBadRowsWithTheirLineNumbers() {
        let negative = Self.t2.replacingOccurrences(of: ",1,450.00,", with: ",-1,450.00,")
        let payment = Self.t2.replacingOccurrences(of: "electronic", with: "card")
        let dupCarton = Self.t2.replacingOccurrences(of: "C10024-6901028075015-0001", with: "C10024-6901028075015-0001").replacingOccurrences(of: "T0002", with: "T0003")
        let p = Self.problems([Self.header, Self.t1a, negative, payment, Self.t2, dupCarton])
        #expect(p.contains { $0.line == 3 && $0.reason.contains("quantity") })
        #expect(p.contains { $0.line == 4 && $0.reason.contains("neither cash nor electronic") })
        #expect(p.contains { $0.line == 6 && $0.reason.contains("already on ticket T0002") })
    }

    @Test func refusesMissingColumnAndBadEncoding() {
        let noPrice = Manifest.columns.filter { $0 != "unit_price" }.joined(separator: ",")
        #expect(Self.problems([noPrice, Self.t2]).first?.reason.contains("unit_price") == true)
        var bytes = Self.csv([Self.header, Self.t2])
        bytes.append(contentsOf: [0xC3, 0x28, 0x0A])
        do {
            _ = try Manifest.parse(bytes)
            Issue.record("bad UTF-8 was accepted")
        } catch {
            #expect(error.problems.first?.line == 3)
            #expect(error.problems.first?.reason.contains("UTF-8") == true)
        }
    }

    @Test func importIsAllOrNothingAndIdempotent() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Replica.create(at: dir.appendingPathComponent("depot.sqlite").path, schema: RouteSchema.current, options: .quiet(durability: .off))
        let m = try Manifest.parse(Self.csv([Self.header, Self.t1a, Self.t1b, Self.t2]))
        let first = try ManifestImport.run(m, into: r)
        #expect(first.written == 2)
        let digest = try r.digest()
        let again = try ManifestImport.run(m, into: r)
        #expect(again.written == 0 && again.changes == 0)
        #expect(try r.digest() == digest)
        #expect(try r.row("tickets", key: "T0001")?["amount_due"] == .integer(113_000))

        // A corrected ticket nobody touched is replaced, a dropped line and its carton removed.
        let corrected = try Manifest.parse(Self.csv([Self.header, Self.t1a, Self.t2]))
        let c = try ManifestImport.run(corrected, into: r)
        #expect(c.written == 1)
        #expect(try r.row("ticket_lines", key: "T0001/2")?.isLive == false)
        #expect(try r.row("cartons", key: "C10023-6901028075022-0001")?.isLive == false)
        #expect(try r.row("tickets", key: "T0001")?["amount_due"] == .integer(90_000))

        // Once a device worked on it, a different version is refused and nothing changes.
        try r.write { tx in try tx.insert("events", key: "E1", ["route": "R07", "ticket": "T0001", "kind": "scan"]) }
        let worked = try r.digest()
        #expect(throws: ManifestError.self) { try ManifestImport.run(m, into: r) }
        #expect(try r.digest() == worked)
    }
}
