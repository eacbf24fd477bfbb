import Foundation
import Metrics
import TallyReplica

/// What the depot counts for its operator, through swift-metrics (the backend is chosen by
/// whoever runs the depot: `tally depot serve` shows them as Prometheus text at `GET /metrics`).
/// Each name keeps one set of label names, as Prometheus requires.
enum DepotMetrics {
    /// The endpoint a request went to, without ids (blob hashes), so labels stay few.
    static func endpoint(_ method: String, _ path: String) -> String {
        let p = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, p) {
        case (_, "/health"): return "health"
        case (_, "/version"): return "version"
        case (_, "/metrics"): return "metrics"
        case (_, "/v1/join"): return "join"
        case (_, "/v1/push"): return "push"
        case (_, "/v1/pull"): return "pull"
        case (_, "/v1/alarm"): return "alarm"
        case (_, "/v1/snapshot"): return "snapshot"
        case (_, "/v1/blobs/missing"): return "blobs_missing"
        case ("PUT", _) where p.hasPrefix("/v1/blobs/"): return "blob_put"
        case ("GET", _) where p.hasPrefix("/v1/blobs/"): return "blob_get"
        case (_, _) where p.hasPrefix("/v1/settlement/"): return "settlement"
        default: return "other"
        }
    }

    /// One request answered: counted by endpoint and status, its bytes, its time; an error
    /// answer also by its error code.
    static func answered(_ endpoint: String, status: Int, errorCode: String?, bytesIn: Int, bytesOut: Int, nanoseconds: Int64) {
        Counter(label: "tally_requests_total", dimensions: [("endpoint", endpoint), ("status", String(status))]).increment()
        Counter(label: "tally_bytes_total", dimensions: [("direction", "in")]).increment(by: bytesIn)
        Counter(label: "tally_bytes_total", dimensions: [("direction", "out")]).increment(by: bytesOut)
        Metrics.Timer(label: "tally_request_duration_seconds", dimensions: [("endpoint", endpoint)]).recordNanoseconds(nanoseconds)
        if let errorCode {
            Counter(label: "tally_errors_total", dimensions: [("kind", errorCode)]).increment()
        }
    }

    /// Changes taken in by a push: applied, and already held (a push sent again).
    static func pushed(applied: Int, duplicates: Int, violations: Int) {
        Counter(label: "tally_changes_total", dimensions: [("direction", "in")]).increment(by: applied)
        Counter(label: "tally_duplicate_changes_total").increment(by: duplicates)
        Counter(label: "tally_violations_total").increment(by: violations)
    }

    /// Changes sent out by a pull.
    static func pulled(_ n: Int) {
        Counter(label: "tally_changes_total", dimensions: [("direction", "out")]).increment(by: n)
    }

    /// A sync request refused at once because the depot was full (`503 busy`).
    static func shed() {
        Counter(label: "tally_requests_shed_total").increment()
    }

    /// A request refused before it took a place or its body was read: `credential` (401
    /// before anything else), `too_large` (its announced length), or dropped for arriving too
    /// slowly (`slow_head`, `slow_body`, `deadline`: 408).
    static func refused(_ reason: String) {
        Counter(label: "tally_requests_refused_total", dimensions: [("reason", reason)]).increment()
    }

    /// A connection closed at once: its address already had as many open as allowed.
    static func connectionRefused() {
        Counter(label: "tally_connections_refused_total", dimensions: [("reason", "per_address")]).increment()
    }

    /// The gauges read at scrape time: each device's time since its last sync and its clock
    /// skew, and what waits for a person (quarantined entries, changes held for review, open
    /// conflicts).
    static func refresh(replica: Replica, registry: DeviceRegistry, now: Date) throws {
        let devices = try registry.devices().filter { !$0.isRevoked }
        for d in devices {
            let labels = [("device", d.name), ("role", d.role.rawValue)]
            let age = d.lastSyncAt.flatMap(Timestamp.date).map { max(0, now.timeIntervalSince($0)) } ?? -1
            Gauge(label: "tally_device_last_sync_age_seconds", dimensions: labels).record(age)
            Gauge(label: "tally_device_clock_skew_seconds", dimensions: labels).record(Double(d.lastSkewMs ?? 0) / 1000)
        }
        var quarantined = 0, conflicts = 0
        try replica.select("SELECT (SELECT count(*) FROM tally_violations), (SELECT count(*) FROM tally_conflicts)") { r in
            quarantined = Int(r[0].integer ?? 0)
            conflicts = Int(r[1].integer ?? 0)
        }
        Gauge(label: "tally_quarantine_entries").record(quarantined)
        Gauge(label: "tally_held_changes").record(try replica.heldCount())
        Gauge(label: "tally_open_conflicts").record(conflicts)
        Gauge(label: "tally_devices").record(devices.count)
    }
}
