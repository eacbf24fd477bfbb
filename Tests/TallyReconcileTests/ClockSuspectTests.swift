import Testing
import TallyReconcile
import TallyRoutes

/// Issue 18, defect 4: entries made under a clock years off (behind here; ahead in
/// `RecoveryTests`) reach the books flagged, not silently.
@Suite struct ClockSuspectTests {
    @Test func anEntryStampedYearsAwayFromItsDayIsSuspectAndStillCounts() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        d.set("2001-01-01T09:00:00+08:00")
        try v.deposit(.yuan(1130), bankRef: "ICBC-2001")
        d.set("2026-11-28T18:00:00+08:00")
        try d.close(v)
        try d.sync(v)
        let s = try d.reconcile().settlement("van-07")
        let suspect = s.exceptions(.clockSuspect)
        #expect(suspect.count == 1 && suspect.first?.detail.contains("2001-01-01") == true, "\(s.exceptions)")
        #expect(s.cash.deposited == .yuan(1130), "the deposit counts")
    }

    @Test func aVanWorkingPastMidnightIsNotSuspect() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        d.set("2026-11-29T07:30:00+08:00")
        try v.deposit(.yuan(1130), bankRef: "ICBC-0730")
        try d.close(v)
        try d.sync(v)
        #expect(try d.reconcile().settlement("van-07").exceptions(.clockSuspect).isEmpty)
    }
}
