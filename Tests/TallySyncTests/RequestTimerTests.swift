import Testing
@testable import TallyDepot

/// The rules `RequestGuard` applies, without a socket: times in seconds.
@Suite struct RequestTimerTests {
    let limits = RequestLimits(deadline: 60, minBodyRate: 1000, grace: 10, maxConnectionsPerAddress: 4)

    @Test func aBodyUnderTheFloorIsDroppedAfterTheGrace() {
        var t = RequestTimer(limits: limits, now: 0)
        t.head(at: 1)
        t.body(1)
        #expect(t.verdict(at: 10.9) == nil, "within the grace")
        #expect(t.verdict(at: 11.1) == .slowBody)
        #expect(abs((t.nextCheck ?? 0) - 11.001) < 1e-9)
    }

    @Test func aFastStartEarnsCreditForAStall() {
        var t = RequestTimer(limits: limits, now: 0)
        t.head(at: 0)
        t.body(30_000)
        #expect(t.verdict(at: 39) == nil, "30 KB at once covers 30 s of stall past the grace")
        #expect(t.verdict(at: 40.5) == .slowBody)
    }

    @Test func theDeadlineBoundsEvenAFastEnoughBody() {
        var t = RequestTimer(limits: limits, now: 0)
        t.head(at: 0)
        t.body(1_000_000)
        #expect(t.verdict(at: 59) == nil)
        #expect(t.verdict(at: 60) == .deadline)
        #expect(t.nextCheck == 60)
    }

    @Test func theDepotsOwnWorkIsNotJudged() {
        var t = RequestTimer(limits: limits, now: 0)
        t.head(at: 0)
        t.end(at: 1)
        #expect(t.nextCheck == nil && t.verdict(at: 1_000) == nil, "waiting for the answer")
        t.answered(at: 1_000)
        #expect(t.verdict(at: 1_059) == nil)
        #expect(t.verdict(at: 1_060) == .slowHead, "the next head must come within the deadline")
    }

    @Test func aDrainAfterAnEarlyAnswerIsStillJudged() {
        var t = RequestTimer(limits: limits, now: 0)
        t.head(at: 0)
        t.answered(at: 0.1)
        #expect(t.verdict(at: 10.5) == .slowBody, "a 401 answered before the body does not stop the clock")
    }

    @Test func addressCountsHoldTheLimit() {
        let a = AddressCounts()
        #expect((0..<4).allSatisfy { _ in a.enter("10.0.0.1", limit: 4) })
        #expect(!a.enter("10.0.0.1", limit: 4))
        #expect(a.enter("10.0.0.2", limit: 4))
        a.leave("10.0.0.1")
        #expect(a.count("10.0.0.1") == 3 && a.enter("10.0.0.1", limit: 4))
        #expect(RequestLimits.isExempt("127.0.0.1") && !RequestLimits.isExempt("127.0.0.2"))
    }
}
