import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// Roles on every endpoint, through the depot's handler: each device does only what its role
/// allows, a refusal says why and is audited where it is an attempt on someone else's data,
/// and no credential (or a revoked one) gets nowhere.
@Suite struct RoleTests {
    struct Empty: Encodable {}

    @Test func everyEndpointAnswersEachRoleAsItShould() throws {
        let h = try ServiceHarness()
        let van = try h.device("van-07", scope: "R07", signed: true)
        let window = try h.device("W1", role: .window, scope: "grants", signed: true)
        let acct = try h.device("accounts", role: .accountant)
        let settle = SettlementRequest(date: "2026-11-28")
        let approve = SettlementRequest(date: "2026-11-28", device: "van-07", note: "x")

        // Settlement: accountants only.
        for path in ["/v1/settlement/reconcile", "/v1/settlement/approve", "/v1/settlement/reopen"] {
            for d in [van, window] {
                let r = h.call("POST", path, d, path.hasSuffix("reconcile") ? settle : approve)
                #expect(r.status == 403 && ServiceHarness.errorCode(r) == "forbidden", "\(d.name) \(path): \(r.status)")
            }
        }
        #expect(h.call("POST", "/v1/settlement/reconcile", acct, settle).status == 200)
        #expect(try h.service.registry.auditLog().filter { $0.action == "refused" && $0.detail.contains("settlement") }.count == 6)

        // Reference data (the calendar): no device writes it.
        for d in [van, window] {
            try d.replica.write { tx in _ = try tx.insert("calendar", key: "2027-01-01", ["kind": .text("holiday")]) }
            let r = h.call("POST", "/v1/push", d, PushRequest(schemaVersion: h.schema.version, site: d.replica.site,
                                                           changes: try d.replica.ownChanges(after: 0, limit: 10)))
            #expect(r.status == 403 && ServiceHarness.errorCode(r) == "out_of_scope", "\(d.name) writing the calendar: \(r.status)")
        }
        // An accountant writes nothing through sync.
        try acct.replica.write { tx in _ = try tx.insert("tickets", key: "R07-T1", ["route": .text("R07")]) }
        let a = h.call("POST", "/v1/push", acct, PushRequest(schemaVersion: h.schema.version, site: acct.replica.site,
                                                          changes: try acct.replica.ownChanges(after: 0, limit: 10)))
        #expect(a.status == 403 && ServiceHarness.errorCode(a) == "out_of_scope")

        // Every device endpoint refuses a request without a credential, and a revoked one.
        let endpoints: [(String, String)] = [("POST", "/v1/join"), ("POST", "/v1/push"), ("POST", "/v1/pull"), ("GET", "/v1/snapshot"),
                                             ("POST", "/v1/blobs/missing"), ("POST", "/v1/alarm"), ("POST", "/v1/settlement/reconcile")]
        for (method, path) in endpoints {
            let r = h.call(method, path, nil, Empty())
            #expect(r.status == 401 && ServiceHarness.errorCode(r) == "missing_credential", "\(method) \(path) without a credential: \(r.status)")
        }
        try h.service.registry.revoke(name: "van-07")
        for (method, path) in endpoints {
            let r = h.call(method, path, van, Empty())
            #expect(r.status == 401 && ServiceHarness.errorCode(r) == "credential_revoked", "\(method) \(path) revoked: \(r.status)")
        }
    }
}
