import Foundation
import Testing

/// `GET /metrics` on a real depot: what the operator's Prometheus reads after a van's sync.
@Suite struct MetricsTests {
    /// The value of one sample line (`name{labels} value`), or nil.
    static func sample(_ page: String, _ series: String) -> Double? {
        for line in page.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func syncsChangesErrorsLagAndQuarantineAreCounted() async throws {
        let scratch = try Scratch("metrics")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        _ = try writeEvents(van, count: 5, prefix: "EV-m")
        let pushed = try van.localSeq()
        #expect(try await van.sync(scratch).status == 0)
        let refused = try await HTTP.post(depot.url, "/v1/pull", credential: "nonsense", body: Array("{}".utf8), compressed: false)
        #expect(refused.status == 401)

        let answer = try await HTTP.send("GET", depot.url, "/metrics")
        #expect(answer.status == 200)
        #expect(answer.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let page = answer.text
        #expect(Self.sample(page, #"tally_changes_total{direction="in"}"#) == Double(pushed), "every change the van pushed: \(page)")
        #expect(Self.sample(page, #"tally_requests_total{endpoint="push",status="200"}"#) ?? 0 >= 1)
        #expect(Self.sample(page, #"tally_errors_total{kind="bad_credential"}"#) == 1)
        #expect((Self.sample(page, #"tally_bytes_total{direction="in"}"#) ?? 0) > 0)
        let lag = try #require(Self.sample(page, #"tally_device_last_sync_age_seconds{device="van-a",role="van"}"#))
        #expect(lag >= 0 && lag < 600, "seconds since the van's last sync")
        #expect(Self.sample(page, "tally_quarantine_entries") == 0)
        #expect(Self.sample(page, "tally_held_changes") == 0)
        #expect(Self.sample(page, "tally_devices") == 1)
        await depot.stop()
    }
}
