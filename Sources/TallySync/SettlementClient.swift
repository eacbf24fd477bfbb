import Foundation
import TallyProtocol
import TallyReconcile
import TallyReplica

/// An accountant's device settling days at the depot over HTTP: no replica needed, only the
/// depot's URL and the accountant's credential. The depot checks the role.
public struct SettlementClient: Sendable {
    let client: DepotClient

    public init(url: URL, credential: String, trust: DepotTrust = DepotTrust(), clock: any WallClock = SystemWallClock()) throws(SyncError) {
        client = try DepotClient(base: url, credential: credential, clock: clock, trust: trust, pending: { 0 })
    }

    public func reconcile(date: String, route: String? = nil) async throws(SyncError) -> Reconciliation {
        try await client.post("/v1/settlement/reconcile", SettlementRequest(date: date, route: route), as: Reconciliation.self, meter: .init())
    }

    public func approve(device: String, date: String, note: String?, unclosed: Bool) async throws(SyncError) -> Approval {
        try await client.post("/v1/settlement/approve", SettlementRequest(date: date, device: device, note: note, unclosed: unclosed),
                              as: Approval.self, meter: .init())
    }

    public func reopen(device: String, date: String, note: String) async throws(SyncError) {
        struct Reopened: Decodable { var reopened: String }
        _ = try await client.post("/v1/settlement/reopen", SettlementRequest(date: date, device: device, note: note), as: Reopened.self, meter: .init())
    }
}
