import Foundation
import TallyProtocol
import TallyReconcile
import TallyReplica

/// Settlement over HTTP, for accountants only: the same figures and approvals as
/// `tally reconcile` and `tally settle` on the depot itself.
extension DepotService {
    /// The settlement book beside the depot's replica (`settlement.sqlite` in the data folder).
    func settlementStore() throws -> SettlementStore {
        let folder = (replica.path as NSString).deletingLastPathComponent
        return try SettlementStore(path: (folder as NSString).appendingPathComponent("settlement.sqlite"), clock: clock)
    }

    /// Answers `/v1/settlement/...`, or nil for another path.
    func settlement(_ r: DepotRequest, path: String) throws -> DepotResponse? {
        guard r.method == "POST", path.hasPrefix("/v1/settlement/") else { return nil }
        let device = try registry.authenticate(r.bearer)
        guard device.role == .accountant else {
            registry.audit(device: device.name, action: "refused", detail: "settlement request \(path) by a \(device.role.rawValue)")
            throw WireError.forbidden("only an accountant's device may settle; \(device.name) is enrolled as a \(device.role.rawValue)")
        }
        let req = try WireCodec.decode(SettlementRequest.self, from: r.body, compressed: r.isCompressed)
        try checkProtocol(req.protocolVersion)
        let devices = try registry.settlementDevices()
        let reconciler = Reconciler(replica: replica, store: try settlementStore(), devices: devices)
        do {
            try reconciler.prepareIndexes()
            switch path {
            case "/v1/settlement/reconcile":
                return try json(try reconciler.reconcile(date: req.date, route: req.route), r)
            case "/v1/settlement/approve":
                guard let van = req.device else { throw WireError.badRequest("name the van to approve in \"device\"") }
                let a = try reconciler.approve(device: van, date: req.date, by: device.name, note: req.note, unclosed: req.unclosed ?? false)
                registry.audit(device: device.name, action: "approve", detail: "\(van) \(req.date) variance \(a.variance)\(a.note.isEmpty ? "" : ": \(a.note)")")
                return try json(a, r)
            case "/v1/settlement/reopen":
                guard let van = req.device else { throw WireError.badRequest("name the van to reopen in \"device\"") }
                try reconciler.reopen(device: van, date: req.date, by: device.name, note: req.note ?? "")
                registry.audit(device: device.name, action: "reopen", detail: "\(van) \(req.date): \(req.note ?? "")")
                return try json(["reopened": van], r)
            default:
                throw WireError.notFound("there is no POST \(path) on this depot; settlement has reconcile, approve and reopen")
            }
        } catch let e as ReconcileError {
            throw WireError.conflict(e.description)
        }
    }
}
