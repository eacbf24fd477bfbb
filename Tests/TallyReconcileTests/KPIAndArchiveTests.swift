import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

@Suite struct KPIAndArchiveTests {
    @Test func kpisCountAccuracyOnTimeRefusalsAndVariance() throws {
        let d = try Depot()
        let v = try d.van("van-07")
        try v.vehicleCheck(fault: nil)
        _ = try v.loadOut(counts: [:])
        // T0001 by 12:00 (promised 12:00): on time. T0002 at 15:00 (promised 14:00): late.
        d.set("2026-11-28T12:00:00+08:00")
        try Depot.deliver(v, Depot.t1, cash: .yuan(1130))
        d.set("2026-11-28T15:00:00+08:00")
        try Depot.deliver(v, Depot.t2)
        try v.deposit(.yuan(1100), bankRef: "B1")
        try d.close(v)
        try d.sync(v)
        let k = try d.reconciler().kpi(from: "2026-11-27", to: "2026-11-29")
        #expect(k.deliveries == 2)
        #expect(k.accuracy == "100.00%")
        #expect(k.onTimeRate == "50.00%")
        #expect(k.drivers.map(\.device) == ["van-07"])
        #expect(k.drivers[0].variance == Money(minorUnits: -3_000))  // 1100.00 deposited of 1130.00
        #expect(k.drivers[0].days == 1)
        #expect(KPIReport.percent(2, of: 3) == "66.67%" && KPIReport.percent(0, of: 0) == "—")
        #expect(throws: ReconcileError.self) { try d.reconciler().kpi(from: "2026-11-29", to: "2026-11-28") }
    }

    @Test func periodsAreIsoWeeksAndCalendarMonths() throws {
        #expect(try Archive.days(of: "2026-W48") == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"])
        #expect(try Archive.days(of: "2026-W01").first == "2025-12-29")
        #expect(try Archive.days(of: "2026-02").count == 28 && Archive.days(of: "2024-02").count == 29)
        #expect(throws: ReconcileError.self) { try Archive.days(of: "2026-13") }
        #expect(throws: ReconcileError.self) { try Archive.days(of: "week 48") }
    }

    @Test func anArchiveVerifiesAndAnyChangeIsFound() throws {
        let d = try Depot()
        _ = try ApprovalTests.day(d, deposit: .yuan(1130))
        let folder = d.dir.appendingPathComponent("archive-w48").path
        let files = try Archive.write(try d.reconciler(), period: "2026-W48", weekly: true, to: folder, generatedAt: "2026-11-30T09:00:00+08:00")
        #expect(files == ["route-summaries.csv", "settlement-2026-11-28.html", "tickets.csv", "SHA256SUMS"])
        #expect(try Archive.verify(folder).isEmpty)
        let tickets = try String(contentsOfFile: folder + "/tickets.csv", encoding: .utf8)
        #expect(tickets.contains("T0001") && tickets.contains("delivered") && tickets.contains("\r\n"))
        #expect(throws: ReconcileError.self) { try Archive.write(try d.reconciler(), period: "2026-W48", weekly: true, to: folder, generatedAt: "") }

        try Data("tampered".utf8).write(to: URL(fileURLWithPath: folder + "/route-summaries.csv"))
        try FileManager.default.removeItem(atPath: folder + "/tickets.csv")
        try Data().write(to: URL(fileURLWithPath: folder + "/extra.txt"))
        let problems = try Archive.verify(folder)
        #expect(problems.contains("route-summaries.csv was changed since the archive was made"))
        #expect(problems.contains("tickets.csv is missing"))
        #expect(problems.contains("extra.txt was added after the archive was made"))
    }
}
