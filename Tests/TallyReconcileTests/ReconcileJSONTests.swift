import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// The JSON contract of `tally reconcile --format json` (docs/RECONCILE.md): key names, amounts
/// as decimal strings, raw status and exception kinds, null keys left out.
@Suite struct ReconcileJSONTests {
    static func object(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func keysAmountsAndKindsAreTheContract() throws {
        let d = try Depot()
        // van-07: T0001 part-paid 1000.00 of 1130.00, T0002 delivered, 870.00 deposited.
        let v = try d.van("van-07")
        try Depot.workR07(v, cashT1: .yuan(1000), partial: "店主现金不足")
        try v.deposit(.yuan(870), bankRef: "ICBC-0001")
        try d.close(v)
        try d.sync(v)
        // van-08: nothing at all.
        try d.van("van-08", route: "R08")
        try d.importBank(["2026-11-28,6222,870.00,ICBC-0001", "2026-11-28,6222,12345.00,BIG-1"])

        let rec = try d.reconcile([Depot.device("van-07", "R07"), Depot.device("van-08", "R08", lastSyncAt: nil, skew: nil)])
        let json = try Self.object(rec)
        #expect(Set(json.keys) == ["date", "currency", "settlements", "totals", "unmatched_bank_lines"])
        #expect(json["date"] as? String == "2026-11-28")
        #expect(json["currency"] as? String == "CNY")

        // Totals: expected 1130.00 + 0.00; collected 1000.00; deposited 870.00; variance 870.00 − 1000.00 = −130.00.
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["expected"] as? String == "1130.00")
        #expect(totals["collected"] as? String == "1000.00")
        #expect(totals["deposited"] as? String == "870.00")
        #expect(totals["variance"] as? String == "-130.00")

        let lines = try #require(json["unmatched_bank_lines"] as? [[String: Any]])
        #expect(lines.count == 1)
        #expect(lines.first?["amount"] as? String == "12345.00")
        #expect(lines.first?["reference"] as? String == "BIG-1")
        #expect(lines.first?["date"] as? String == "2026-11-28")

        let settlements = try #require(json["settlements"] as? [[String: Any]])
        #expect(settlements.count == 2)
        let s7 = try #require(settlements.first { $0["device"] as? String == "van-07" })
        #expect(Set(s7.keys) == ["device", "route", "status", "tickets", "cash", "load", "exceptions", "receivables"])  // no approval: left out
        #expect(s7["receivables"] as? [String: String] == ["opened": "130.00", "settled": "0.00"])
        #expect(s7["status"] as? String == "short")
        #expect(s7["route"] as? String == "R07")
        let cash = try #require(s7["cash"] as? [String: Any])
        #expect(cash["expected"] as? String == "1130.00" && cash["collected"] as? String == "1000.00")
        #expect(cash["deposited"] as? String == "870.00" && cash["variance"] as? String == "-130.00")
        let tickets = try #require(s7["tickets"] as? [String: Any])
        #expect(tickets["planned"] as? Int == 2 && tickets["delivered"] as? Int == 2 && tickets["refused"] as? Int == 0 && tickets["open"] as? Int == 0)
        let load = try #require(s7["load"] as? [String: Any])
        #expect(load["manifest"] as? Int == 4 && load["loaded"] as? Int == 4 && load["short"] as? Int == 0)
        let x = try #require(s7["exceptions"] as? [[String: Any]])
        #expect(x.compactMap { $0["kind"] as? String } == ["receivable_opened", "cash_mismatch", "cash_missing"])
        let partial = try #require(x.first { $0["ticket"] != nil })
        #expect(partial["ticket"] as? String == "T0001" && partial["event"] as? String == "van-07/deliver/T0001")
        #expect(mentions(partial["detail"] as? String ?? "", "owes 130.00 on T0001", "店主现金不足"))
        let variance = try #require(x.first { $0["ticket"] == nil && $0["event"] == nil })
        #expect(Set(variance.keys) == ["kind", "detail"])  // ticket and event absent when they do not apply

        let s8 = try #require(settlements.first { $0["device"] as? String == "van-08" })
        #expect(s8["status"] as? String == "pending")
        let load8 = try #require(s8["load"] as? [String: Any])
        #expect(load8["loaded"] == nil)  // no load-out: the key is left out
        #expect(Set((s8["exceptions"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }) == ["unsynced_device", "load_variance"])

        // And back: the JSON reads as the same reconciliation (bank lines read back carry line 0).
        #expect(try JSONDecoder().decode(Reconciliation.self, from: JSONEncoder().encode(rec)) == rec)
    }

    @Test func anApprovalIsPartOfTheSettlement() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try Depot.workR07(v)
        try v.deposit(.yuan(1130), bankRef: "ICBC-0001")
        try d.close(v)
        try d.sync(v)
        d.set("2026-11-29T10:00:00+08:00")
        let r = try d.reconciler()
        _ = try r.approve(device: "van-07", date: Depot.day, by: "王会计", note: "ok")
        let json = try Self.object(try r.reconcile(date: Depot.day))
        let s = try #require((json["settlements"] as? [[String: Any]])?.first)
        #expect(s["status"] as? String == "approved")
        let a = try #require(s["approval"] as? [String: Any])
        #expect(Set(a.keys) == ["device", "day", "by", "at", "note", "variance", "entries"])
        #expect(a["variance"] as? String == "0.00")
        #expect(a["entries"] as? Int == 12)
        #expect(a["at"] as? String == "2026-11-29T10:00:00+08:00")
    }

    @Test func everyStatusAndKindHasItsRawString() {
        #expect([Settlement.Status.pending, .balanced, .over, .short, .approved].map(\.rawValue) == ["pending", "balanced", "over", "short", "approved"])
        #expect(ExceptionKind.allCases.map(\.rawValue) == [
            "missing_signature", "carton_mismatch", "short_delivery", "cash_mismatch", "return_exceeds_delivery", "conflict",
            "late_event", "unsynced_device", "deposit_unmatched", "load_variance", "clock_skew", "chain_gap", "clock_suspect", "device_recovered",
            "content_mismatch", "late_change", "signature_reused", "cash_missing", "after_close", "refusal_taken_back", "receivable_opened",
            "receivable_settled",
        ])
    }
}
