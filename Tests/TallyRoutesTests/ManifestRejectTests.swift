import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Malformed manifests: each is refused whole, every problem with the line it is on, and nothing
/// of it reaches the depot's replica.
@Suite struct ManifestRejectTests {
    typealias M = ManifestTests

    /// A depot replica that already holds the standard manifest, so "nothing imported" means the
    /// existing rows are untouched as well as no new ones added.
    final class Depot {
        let dir: URL
        let replica: Replica

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-manifest-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            replica = try Replica.create(at: dir.appendingPathComponent("depot.sqlite").path, schema: RouteSchema.current,
                                         options: .quiet(wallClock: ManualWallClock(milliseconds: 1_795_000_000_000), durability: .off))
            _ = try ManifestImport.run(try Manifest.parse(M.csv([M.header, M.t1a, M.t1b, M.t2])), into: replica)
        }

        deinit { try? FileManager.default.removeItem(at: dir) }

        /// Parses and imports the bytes as `tally depot import` does; expects a refusal that
        /// changes nothing, and returns its problems.
        func refused(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ManifestError.Problem] {
            let before = try replica.digest()
            let rows = try replica.rows("tickets").count + replica.rows("ticket_lines").count + replica.rows("cartons").count
            var problems: [ManifestError.Problem] = []
            do {
                _ = try ManifestImport.run(try Manifest.parse(bytes), into: replica)
                Issue.record("the manifest was imported", sourceLocation: sourceLocation)
            } catch let e as ManifestError {
                problems = e.problems
                #expect(!problems.isEmpty, sourceLocation: sourceLocation)
                #expect(e.description.contains("nothing was changed"), sourceLocation: sourceLocation)
            } catch {
                Issue.record("expected a ManifestError, got \(error)", sourceLocation: sourceLocation)
            }
            #expect(try replica.digest() == before, "a refused manifest changed the replica", sourceLocation: sourceLocation)
            #expect(try replica.rows("tickets").count + replica.rows("ticket_lines").count + replica.rows("cartons").count == rows,
                    sourceLocation: sourceLocation)
            #expect(try replica.row("tickets", key: "T0003") == nil, sourceLocation: sourceLocation)
            return problems
        }

        func refused(_ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> [ManifestError.Problem] {
            try refused(M.csv(lines), sourceLocation: sourceLocation)
        }
    }

    /// A third ticket for the same shop as T0002, with its own carton.
    static let t3 = M.t2.replacingOccurrences(of: "T0002", with: "T0003").replacingOccurrences(of: ",2,C10024,", with: ",3,C10024,")
        .replacingOccurrences(of: "C10024-6901028075015-0001", with: "C10024-6901028075015-0002")

    /// Expects exactly one problem, on `line`, whose reason contains every fragment.
    func expectOne(_ problems: [ManifestError.Problem], line: Int, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(problems.count == 1, "\(problems)", sourceLocation: sourceLocation)
        #expect(problems.first?.line == line, "\(problems)", sourceLocation: sourceLocation)
        for f in fragments {
            #expect(problems.first?.reason.contains(f) == true, "'\(f)' not in \(problems)", sourceLocation: sourceLocation)
        }
    }

    @Test func theThirdTicketIsAcceptedOnItsOwn() throws {
        // The fixture row used below is itself valid: each refusal is due to the one change made.
        let m = try Manifest.parse(M.csv([M.header, M.t1a, M.t1b, M.t2, Self.t3]))
        #expect(m.tickets.map(\.ticket) == ["T0001", "T0002", "T0003"])
    }

    // MARK: - Encoding

    @Test func badUTF8IsRefusedWithItsLine() throws {
        let d = try Depot()
        // "李家超市" on line 4 turned into Latin-1 bytes, as a file saved as "CSV" rather than "CSV UTF-8".
        var bytes = M.csv([M.header, M.t1a, M.t1b])
        bytes += Array("2026-11-28,R07,T0002,2,C10024,".utf8) + [0xC0, 0xEE, 0xBC, 0xD2] + Array(M.t2.dropFirst(34).utf8) + [0x0D, 0x0A]
        #expect(M.t2.prefix(34) == "2026-11-28,R07,T0002,2,C10024,李家超市")
        expectOne(try d.refused(bytes), line: 4, "not UTF-8", "CSV UTF-8")
    }

    @Test func badUTF8AfterAByteOrderMarkAndOnTheLastLineWithoutLineEnd() throws {
        let d = try Depot()
        var bytes = M.csv([M.header, M.t2], bom: true)
        bytes += Array("2026-11-28,R07,T0003,3,C10024,".utf8) + [0xFF]
        expectOne(try d.refused(bytes), line: 3, "UTF-8")
        // A truncated multi-byte character on line 2.
        var cut = [0xEF, 0xBB, 0xBF] + Array((M.header + "\n").utf8)
        cut += Array("2026-11-28,R07,T0002,2,C10024,".utf8) + [0xE6, 0x9D] + Array(",x\n".utf8)
        expectOne(try d.refused(cut), line: 2, "UTF-8")
    }

    // MARK: - Header

    @Test func aMissingColumnIsRefusedOnTheHeaderLine() throws {
        let d = try Depot()
        let noQuantity = Manifest.columns.filter { $0 != "quantity" }.joined(separator: ",")
        let rows = [M.t2].map { row in
            var f = row.components(separatedBy: ",")
            f.remove(at: Manifest.columns.firstIndex(of: "quantity")!)  // safe: a constant column
            return f.joined(separator: ",")
        }
        expectOne(try d.refused([noQuantity] + rows), line: 1, "lacks the column quantity", Manifest.columns.joined(separator: ","))
        let twoMissing = Manifest.columns.filter { $0 != "payment" && $0 != "carton_codes" }.joined(separator: ",")
        expectOne(try d.refused([twoMissing, M.t2]), line: 1, "lacks the columns payment, carton_codes")
        expectOne(try d.refused([String]()), line: 1, "the file is empty")
        expectOne(try d.refused([M.header]), line: 1, "a header but no tickets")
    }

    @Test func theHeaderIsMatchedByNameWhateverItsCaseOrOrder() throws {
        var columns = Manifest.columns.map { $0.uppercased() }
        columns.swapAt(0, 1)
        let rows = [M.t2].map { row in
            var f = row.components(separatedBy: ",")
            f.swapAt(0, 1)
            return f.joined(separator: ",")
        }
        let m = try Manifest.parse(M.csv([columns.joined(separator: " , ")] + rows))
        #expect(m.tickets.first?.route == "R07" && m.tickets.first?.date == "2026-11-28")
    }

    // MARK: - Rows

    @Test(arguments: ["-1", "0", "1.5", "one", ""])
    func aQuantityThatIsNotPositiveWholeIsRefused(quantity: String) throws {
        let d = try Depot()
        let bad = M.t2.replacingOccurrences(of: ",1,450.00,", with: ",\(quantity),450.00,")
        let p = try d.refused([M.header, M.t1a, M.t1b, bad])
        expectOne(p, line: 4, "quantity")
    }

    @Test func aNegativeQuantityNamesTheQuantity() throws {
        let d = try Depot()
        let bad = M.t2.replacingOccurrences(of: ",1,450.00,", with: ",-1,450.00,")
        expectOne(try d.refused([M.header, M.t1a, bad, M.t1b]), line: 3, "quantity -1 must be at least 1")
    }

    @Test func aCartonOnTwoTicketsIsRefusedOnTheSecond() throws {
        let d = try Depot()
        let dup = Self.t3.replacingOccurrences(of: "C10024-6901028075015-0002", with: "C10024-6901028075015-0001")
        expectOne(try d.refused([M.header, M.t1a, M.t2, M.t1b, dup]), line: 5,
                  "carton C10024-6901028075015-0001 is already on ticket T0002 (line 3)", "a carton belongs to one ticket")
    }

    @Test func aCartonListedTwiceOnOneTicketIsRefused() throws {
        let d = try Depot()
        let twice = M.t1a.replacingOccurrences(of: "C10023-6901028075015-0002", with: "C10023-6901028075015-0001")
        expectOne(try d.refused([M.header, twice, M.t1b]), line: 2, "carton C10023-6901028075015-0001 is listed twice (also on line 2)")
    }

    @Test func anUnknownPaymentKindIsRefused() throws {
        let d = try Depot()
        let card = M.t2.replacingOccurrences(of: ",electronic,", with: ",card,")
        expectOne(try d.refused([M.header, M.t1a, M.t1b, card]), line: 4, "payment 'card' is neither cash nor electronic")
        let empty = M.t2.replacingOccurrences(of: ",electronic,", with: ",,")
        expectOne(try d.refused([M.header, empty]), line: 2, "neither cash nor electronic")
    }

    @Test func aQuantityNotMatchingTheCartonCodesIsRefused() throws {
        let d = try Depot()
        let more = M.t1a.replacingOccurrences(of: ",2,450.00,", with: ",3,450.00,")
        expectOne(try d.refused([M.header, more, M.t1b, M.t2]), line: 2, "2 carton codes for a quantity of 3", "one code per carton")
        let fewer = M.t1a.replacingOccurrences(of: ",2,450.00,", with: ",1,450.00,")
        expectOne(try d.refused([M.header, M.t2, fewer]), line: 3, "2 carton codes for a quantity of 1")
        let none = M.t2.replacingOccurrences(of: ",C10024-6901028075015-0001", with: ",")
        expectOne(try d.refused([M.header, none]), line: 2, "0 carton codes for a quantity of 1")
    }

    @Test(arguments: [("45O.00", "is not an amount"), ("450.005", "more than two decimals"), ("-450.00", "is negative"),
                      ("", "is not an amount"), ("¥450", "is not an amount"), ("4.5e2", "is not an amount")])
    func aBadUnitPriceIsRefused(price: String, reason: String) throws {
        let d = try Depot()
        let bad = M.t2.replacingOccurrences(of: ",450.00,", with: ",\(price),")
        expectOne(try d.refused([M.header, M.t1a, M.t1b, bad]), line: 4, "unit_price", reason)
    }

    @Test func aPriceWithAGroupingCommaShiftsTheFieldsAndIsRefused() throws {
        let d = try Depot()
        let comma = M.t2.replacingOccurrences(of: ",450.00,", with: ",1,450.00,")
        expectOne(try d.refused([M.header, comma]), line: 2, "17 fields where the header has 16")
    }

    @Test func everyBadLineIsReportedNotJustTheFirst() throws {
        let d = try Depot()
        let negative = M.t2.replacingOccurrences(of: ",1,450.00,", with: ",-1,450.00,")
        let price = M.t1b.replacingOccurrences(of: ",230.00,", with: ",23O.00,")
        let card = Self.t3.replacingOccurrences(of: ",electronic,", with: ",card,")
        let p = try d.refused([M.header, M.t1a, price, negative, card])
        #expect(p.map(\.line) == [3, 4, 5], "\(p)")
    }

    @Test func lineNumbersCountLineBreaksInsideQuotedFields() throws {
        let d = try Depot()
        // The product name of line 2 spans two physical lines: the next record starts on line 4.
        let twoLines = M.t1b.replacingOccurrences(of: #""玉溪,软""#, with: "\"玉溪\n(软)\"")
        let card = M.t2.replacingOccurrences(of: ",electronic,", with: ",card,")
        expectOne(try d.refused([M.header, twoLines, card]), line: 4, "neither cash nor electronic")
    }

    /// Known gap (Sources/TallyRoutes/Manifest/ManifestParser.swift): a price that parses but
    /// overflows once multiplied by the quantity, or a ticket whose lines sum past Int64, is
    /// accepted by the parser; `ManifestLine.amount` / `ManifestTicket.amountDue` then trap with an
    /// arithmetic overflow in `ManifestImport.run`, crashing `tally depot import-manifest`.
    /// This test only parses (importing would crash the test process).
    @Test func anAmountTooLargeForTheLedgerIsRefused() throws {
        let line = M.t1a.replacingOccurrences(of: ",2,450.00,", with: ",2,50000000000000000.00,")
        #expect(throws: ManifestError.self, "2 × 50000000000000000.00 overflows the ticket amount") {
            _ = try Manifest.parse(M.csv([M.header, line]))
        }
        let first = M.t1a.replacingOccurrences(of: ",2,450.00,", with: ",2,40000000000000000.00,")
        let second = M.t1b.replacingOccurrences(of: ",1,230.00,", with: ",1,90000000000000000.00,")
        #expect(throws: ManifestError.self, "each line fits, the ticket total does not") {
            _ = try Manifest.parse(M.csv([M.header, first, second]))
        }
    }

    // MARK: - Import

    @Test func aTicketWorkedOnIsRefusedAtItsLineAndNothingOfTheFileIsImported() throws {
        let d = try Depot()
        try d.replica.write { tx in try tx.insert("events", key: "van-07/scan/x", ["route": "R07", "ticket": "T0002", "kind": "scan"]) }
        let changed = M.t2.replacingOccurrences(of: ",450.00,", with: ",460.00,")
        // T0003 is new and valid, but the file is refused whole: it is not imported either.
        expectOne(try d.refused([M.header, M.t1a, M.t1b, Self.t3, changed]), line: 5,
                  "ticket T0002 has already been worked on by a device and cannot be replaced")
    }

    /// Known gap (Sources/TallyRoutes/Import/ManifestImport.swift, `differs`): only the ticket's
    /// own fields (amount, cartons count, payment...) are compared for a ticket already worked on,
    /// so a corrected manifest that changes a line's product or a carton code while keeping the
    /// amount and the count is neither refused nor applied: it is reported `unchanged`.
    @Test func aWorkedTicketWhoseLinesChangedIsRefused() throws {
        let d = try Depot()
        try d.replica.write { tx in try tx.insert("events", key: "van-07/scan/x", ["route": "R07", "ticket": "T0002", "kind": "scan"]) }
        let before = try d.replica.digest()
        let otherProduct = M.t2.replacingOccurrences(of: "6901028075015,中华(硬)", with: "6901028075091,中华(软)")
        #expect(otherProduct != M.t2)
        var problems: [ManifestError.Problem] = []
        do {
            let s = try ManifestImport.run(try Manifest.parse(M.csv([M.header, M.t1a, M.t1b, otherProduct])), into: d.replica)
            Issue.record("a worked-on ticket with another product was accepted: \(s)")
        } catch let e as ManifestError {
            problems = e.problems
        }
        expectOne(problems, line: 4, "ticket T0002 has already been worked on")
        let otherCarton = M.t2.replacingOccurrences(of: "C10024-6901028075015-0001", with: "C10024-6901028075015-0009")
        do {
            let s = try ManifestImport.run(try Manifest.parse(M.csv([M.header, M.t1a, M.t1b, otherCarton])), into: d.replica)
            Issue.record("a worked-on ticket with another carton code was accepted: \(s)")
        } catch let e as ManifestError {
            expectOne(e.problems, line: 4, "ticket T0002 has already been worked on")
        }
        #expect(try d.replica.digest() == before)
    }
}
