import Foundation
import Testing
import TallyReplica
@testable import TallyReconcile
@testable import TallyRoutes

/// One picture on two shops' deliveries proves neither: each van's handheld only knows its own
/// deliveries, so the depot, which holds them all, raises it at settlement.
struct SignatureReuseTests {
    @Test func onePictureOnTwoShopsDeliveriesIsAnException() throws {
        let d = try Depot()
        let v7 = try d.van("van-07")
        let v8 = try d.van("van-08", route: "R08")
        let stock = SignaturePNG.make(seed: 900)  // the same stored picture on both handhelds
        _ = try v7.scan(Depot.t1, codes: Depot.cartons(Depot.t1))
        _ = try v7.deliver(DeliveryRequest(ticket: Depot.t1, signature: stock, cash: .yuan(1130)))
        _ = try v8.scan(Depot.t3, codes: Depot.cartons(Depot.t3))
        _ = try v8.deliver(DeliveryRequest(ticket: Depot.t3, signature: stock, cash: .yuan(95)))
        // The same van cannot do it twice: its handheld refuses.
        _ = try v7.scan(Depot.t2, codes: Depot.cartons(Depot.t2))
        #expect(throws: VanError.self) { try v7.deliver(DeliveryRequest(ticket: Depot.t2, signature: stock)) }
        do {
            _ = try v7.deliver(DeliveryRequest(ticket: Depot.t2, signature: stock))
        } catch let e as VanError {
            #expect(e.description.contains("already on ticket T0001"), "\(e)")
        }
        try d.sync(v7)
        try d.sync(v8)
        let rec = try d.reconcile([Depot.device("van-07", "R07"), Depot.device("van-08", "R08")])
        let x7 = try #require(rec.settlements.first { $0.device == "van-07" }).exceptions.filter { $0.kind == .signatureReused }
        let x8 = try #require(rec.settlements.first { $0.device == "van-08" }).exceptions.filter { $0.kind == .signatureReused }
        #expect(x7.map(\.ticket) == [Depot.t1] && x8.map(\.ticket) == ["T0003"])
        #expect(mentions(x7.first?.detail ?? "", "also on 1 delivery to another shop", "T0003"), "\(x7)")
    }
}
