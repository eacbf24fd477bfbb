import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// A signed entry missing at the depot shows in the device's settlement as `chain_gap` until
/// it arrives.
@Suite struct ChainGapTests {
    @Test func aMissingEntryIsAChainGapUntilItArrives() throws {
        let d = try Depot()
        let first = try d.van("van-07")
        try DeviceKey.generate().store(in: first.replica)
        let v = try VanBook.joined(first.replica, clock: d.clock)
        try v.vehicleCheck(fault: nil)
        try v.logOdometer(10_000, note: nil)
        try v.logOdometer(10_020, note: nil)
        let own = try v.replica.ownChanges(after: 0, limit: 1_000).filter { $0.table == "events" }
        #expect(own.count == 3)
        // The middle entry has not arrived (a cut sync, or a deleted entry).
        _ = try d.replica.apply([own[0], own[2]])
        let s = try d.reconcile().settlement("van-07")
        #expect(s.exceptions(.chainGap).map(\.detail) == ["1 of van-07's signed entries (numbered up to 3) have not reached the depot; the ones after the gap are held until they arrive: sync the device"])
        _ = try d.replica.apply([own[1]])
        #expect(try d.reconcile().settlement("van-07").exceptions(.chainGap).isEmpty)
    }
}
