import Testing
import TallyRoutes
@testable import TallyReconcile

/// What counts as a change to an approved day: a figure, or an exception that appeared or went
/// away; never the device's clock at a later sync.
struct FrozenDayTests {
    static func day(planned: Int = 3, collected: Int64 = 100_000, _ exceptions: [SettlementException]) -> Settlement {
        Settlement(device: "van-07", route: "R07", window: nil, status: .balanced,
                   tickets: .init(planned: planned, delivered: 2, refused: 0, open: planned - 2),
                   cash: .init(expected: Money(minorUnits: 100_000), collected: Money(minorUnits: collected), deposited: Money(minorUnits: 100_000),
                               variance: Money(minorUnits: 100_000 - collected)),
                   load: .init(manifest: 9, loaded: 9, delivered: 6, returned: 0, short: 0, back: nil), approval: nil, exceptions: exceptions)
    }

    @Test func onlyWhatChangesTheDayIsListed() {
        let short = SettlementException(.shortDelivery, ticket: "T1", event: "e1", "1 short")
        let frozen = FrozenDay(Self.day([short]))
        #expect(frozen.changes(now: Self.day([short])).isEmpty)
        // A later sync's clock is not a change to the day.
        #expect(frozen.changes(now: Self.day([short, .init(.clockSkew, "van-07's clock was 3 d 10 h behind")])).isEmpty)
        // A new exception, one gone, and a figure that moved each are.
        let mismatch = SettlementException(.cartonMismatch, ticket: "T2", event: "s9", "carton C… belongs to T3")
        let changes = frozen.changes(now: Self.day(planned: 4, collected: 90_000, [mismatch]))
        #expect(changes.allSatisfy { $0.kind == .lateChange })
        #expect(changes.contains { $0.detail.hasPrefix("tickets planned would now read 4; 3 as approved") })
        #expect(changes.contains { $0.detail.hasPrefix("cash collected would now read 900.00") })
        #expect(changes.contains { $0.ticket == "T2" && $0.detail.hasPrefix("new since the approval, carton_mismatch") })
        #expect(changes.contains { $0.ticket == "T1" && $0.detail.hasPrefix("no longer found since the approval, short_delivery") })
    }
}
