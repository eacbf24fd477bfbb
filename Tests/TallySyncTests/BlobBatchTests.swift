import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica

/// `POST /v1/blobs`: many blobs in one request and one transaction; a damaged or cut batch
/// stores nothing.
@Suite struct BlobBatchTests {
    static func blobs(_ n: Int) -> [(hash: String, bytes: [UInt8])] {
        (0..<n).map { k in
            let bytes = (0..<(100 + k * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ k) }
            return (BlobHash.sha256Hex(bytes), bytes)
        }
    }

    func post(_ h: ServiceHarness, _ d: ServiceHarness.Device, _ body: [UInt8]) -> DepotResponse {
        h.service.handle(DepotRequest(method: "POST", path: "/v1/blobs",
                                      headers: ["Authorization": "Bearer \(d.credential)", "Content-Type": "application/vnd.tally.blobs"], body: body))
    }

    @Test func aBatchIsStoredWholeOrNotAtAll() throws {
        let h = try ServiceHarness()
        let d = try h.device("van-07", scope: "R07")
        let good = Self.blobs(5)
        let decoded = try BlobBatch.decode(BlobBatch.encode(good))
        #expect(decoded.map(\.hash) == good.map(\.hash) && decoded.map(\.bytes) == good.map(\.bytes))

        var damaged = good
        damaged[3].bytes[0] ^= 1
        #expect(post(h, d, BlobBatch.encode(damaged)).status == 400)
        let cut = Array(BlobBatch.encode(good).dropLast(10))
        #expect(post(h, d, cut).status == 400)
        #expect(try h.depot.missingBlobs(of: good.map(\.hash)).count == 5, "nothing stored from a bad batch")

        let ok = post(h, d, BlobBatch.encode(good))
        #expect(ok.status == 200, "\(String(decoding: ok.body, as: UTF8.self))")
        #expect(try h.depot.missingBlobs(of: good.map(\.hash)).isEmpty)
        #expect(post(h, d, BlobBatch.encode(good)).status == 200, "sent again: a no-op")
        #expect(h.service.handle(DepotRequest(method: "POST", path: "/v1/blobs", headers: [:], body: BlobBatch.encode(good))).status == 401)
    }
}
