import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// Approving a day the van never closed, what it syncs afterwards, and the HTML report.
@Suite struct UnclosedApprovalAndReportTests {
    @Test func anUnclosedDayIsApprovedOnlyWithANoteAndLaterEntriesAreQueued() throws {
        let d = try Depot()
        let r = try ApprovalTests.day(d, deposit: .yuan(1130), close: false)
        expectRefusal("needs a note") { try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: nil, unclosed: true) }
        let a = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "手持机损坏，电话核对", unclosed: true)
        #expect(a.note == "手持机损坏，电话核对")
        let before = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(before.status == .approved && !before.exceptions.contains { $0.kind == .lateEvent })

        // The van, still open, records more and syncs: nothing of it is folded into the approved day.
        let v = try #require(d.vans["van-07"])
        try v.returnGoods(Depot.t2, product: Depot.zhonghua, qty: 1, reason: "damaged")
        try d.sync(v)
        let after = try r.reconcile(date: Depot.day).settlement("van-07")
        #expect(after.status == .approved)
        let late = after.exceptions.filter { $0.kind == .lateEvent }
        #expect(late.map(\.ticket) == [Depot.t2], "\(after.exceptions)")
        #expect(after.cash == before.cash)
    }

    @Test func theHTMLReportShowsTheFiguresExceptionsAndEachProofWithItsSignature() throws {
        let d = try Depot()
        let r = try ApprovalTests.day(d, deposit: .yuan(1000))
        let rec = try r.reconcile(date: Depot.day)
        let html = try HTMLReport.render(rec, replica: d.replica, generatedAt: "2026-11-29T10:00:00+08:00")
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        for figure in ["1130.00", "1000.00", "-130.00", "van-07", "short", "cash_mismatch", "张记便利店", "Proofs of delivery 交付凭证 (2)", "T0002"] {
            #expect(html.contains(figure), "the report lacks \(figure)")
        }
        #expect(html.contains("src=\"data:image/png;base64,\(Data(Depot.signature).base64EncodedString())\""))
        #expect(!html.contains("<script"))
        #expect(HTMLReport.esc("<b>&\"'") == "&lt;b&gt;&amp;&quot;&#39;")
    }
}
