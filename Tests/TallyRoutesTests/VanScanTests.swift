import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

@Suite struct VanScanTests {
    func book() throws -> (VanBook, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-van-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try Replica.create(at: dir.appendingPathComponent("van.sqlite").path, schema: RouteSchema.current, options: .quiet(durability: .off))
        let m = try Manifest.parse(ManifestTests.csv([ManifestTests.header, ManifestTests.t1a, ManifestTests.t1b, ManifestTests.t2]))
        _ = try ManifestImport.run(m, into: r)
        try r.setSettings(["sync.device": "van-07", "sync.scope": "R07"])
        return (try VanBook.joined(r), dir)
    }

    @Test func ticketsInStopOrderWithCartonCounts() throws {
        let (b, dir) = try book()
        defer { try? FileManager.default.removeItem(at: dir) }
        let t = try b.tickets()
        #expect(t.map(\.ticket) == ["T0001", "T0002"])
        #expect(t[0].amountDue == "1130.00")
        #expect(t[0].cartonsExpected == 3 && t[0].cartonsScanned == 0)
    }

    @Test func aCartonOfAnotherShopIsCaughtAndNothingRecorded() throws {
        let (b, dir) = try book()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try b.replica.digest()
        #expect(throws: VanError.self) { try b.scan("T0001", codes: ["C10023-6901028075015-0001", "C10024-6901028075015-0001"]) }
        #expect(throws: VanError.self) { try b.scan("T0001", codes: ["NOPE"]) }
        #expect(throws: VanError.self) { try b.scan("T9999", codes: ["C10023-6901028075015-0001"]) }
        #expect(try b.replica.digest() == before)
    }

    @Test func aRepeatedScanIsNotCountedTwice() throws {
        let (b, dir) = try book()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try b.scan("T0001", codes: ["C10023-6901028075015-0001", "C10023-6901028075015-0001"])
        #expect(first.map(\.result) == [.accepted, .alreadyScanned])
        let again = try b.scan("T0001", codes: ["C10023-6901028075015-0001"])
        #expect(again.map(\.result) == [.alreadyScanned])
        #expect(try b.tickets()[0].cartonsScanned == 1)
        #expect(try b.replica.rows("events").filter { $0["kind"] == "scan" }.count == 1)
    }
}
