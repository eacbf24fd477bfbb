import TallyProtocol
import TallyReplica

extension DepotService {
    /// The columns whose text names a blob by its SHA-256: a delivery's signature image
    /// (`events.ref`) and a deposit slip's photograph (`events.hash`).
    static let blobColumns: [(table: String, column: String)] = [("events", "ref"), ("events", "hash")]

    /// A device reads an image only when a row it may see names it: a van its route's
    /// signatures and slips, a window its own, an accountant every one. Knowing a hash is not
    /// enough (a signature of another route, seen once on a shared screen). Refused the same
    /// way as an image the depot lacks, so that a refusal tells nothing of other routes, and
    /// audited.
    func checkBlobRead(_ hash: String, device: DeviceRecord) throws {
        if device.role == .accountant { return }
        try replica.ensureIndexes(Self.blobColumns.map { ($0.table, [$0.column]) })
        var keys: [(table: String, key: String)] = []
        for c in Self.blobColumns {
            for row in try replica.rows(c.table, where: c.column, is: .text(hash)) { keys.append((c.table, row.key)) }
        }
        let allowed = try replica.read { rows in
            try keys.contains { k in
                try scope.canRead(Change(table: k.table, key: k.key, cl: 1, values: [], hlc: HLC(rawValue: 0), site: SiteID(high: 0, low: 0), seq: 0),
                                  device: device, rows: rows)
            }
        }
        guard !allowed else { return }
        registry.audit(device: device.name, action: AuditAction.refusedBlobRead,
                       detail: "image \(hash.prefix(16))…, named by no row this device may see")
        throw WireError.notFound("the depot has no image \(hash.prefix(12))… that this device may read; "
            + "a device reads the images of its own route or window only")
    }
}
