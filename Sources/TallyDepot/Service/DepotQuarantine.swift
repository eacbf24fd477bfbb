import Foundation
import TallyReplica

/// The depot staff's review of record changes held aside: written by a device on a copy
/// older than the depot's compacted history (`DepotService.staleWrites`).
///
/// Nothing here is decided by a clock: releasing applies the change as the depot's own new
/// write, so it takes effect over what was written meanwhile and reaches every device in scope;
/// discarding drops it. Each decision is in the audit log with what the change said.
public enum DepotQuarantine {
    /// A held change as the review shows it.
    public struct Item: Sendable, Codable, Equatable {
        /// `site:seq`, the id `release` and `discard` take.
        public var id: String
        public var device: String
        public var table: String
        public var key: String
        /// "delete", or the columns it sets as `column=value`.
        public var change: String
        public var reason: String
        public var heldAt: String
    }

    public static func list(replica: Replica, registry: DeviceRegistry) throws -> [Item] {
        try list(replica: replica, names: try registry.siteHistory())
    }

    /// `names`: every site a device was ever bound to, its current one among them (`siteHistory`).
    static func list(replica: Replica, names: [String: String]) throws -> [Item] {
        try replica.heldChanges().map { h in
            let c = h.change
            return Item(id: "\(c.site.hex):\(c.seq)", device: names[c.site.hex] ?? c.site.hex,
                        table: c.table, key: c.key, change: describe(c), reason: h.reason, heldAt: h.heldAt)
        }
    }

    public enum Decision: String, Sendable, Codable { case release, discard }

    /// Releases or discards the held changes named by `ids` (every one when nil); returns the
    /// items decided. An unknown id is refused before anything changes.
    public static func decide(_ decision: Decision, ids: [String]?, replica: Replica, registry: DeviceRegistry) throws -> [Item] {
        let sites = try registry.siteHistory()
        let items = try list(replica: replica, names: sites)
        let chosen: [Item]
        if let ids {
            let known = Dictionary(items.map { ($0.id, $0) }) { a, _ in a }
            if let missing = ids.first(where: { known[$0] == nil }) {
                throw DepotError.refused("no change \(missing) is held; `tally depot quarantine list` shows the ids")
            }
            chosen = ids.compactMap { known[$0] }
        } else {
            chosen = items
        }
        for item in chosen {
            let parts = item.id.split(separator: ":")
            guard parts.count == 2, let site = SiteID(hex: String(parts[0])), let seq = UInt64(parts[1]) else { continue }
            switch decision {
            case .release:
                // The device's own later writes, under any identity it had, stay.
                let same = Set(sites.filter { $0.value == item.device }.keys.compactMap(SiteID.init(hex:)))
                guard try replica.releaseHeld(site: site, seq: seq, sameWriter: same) != nil else { continue }
                registry.audit(device: item.device, action: AuditAction.released, detail: "\(item.table) \(item.key): \(item.change) (held \(item.heldAt))")
            case .discard:
                guard try replica.discardHeld(site: site, seq: seq) != nil else { continue }
                registry.audit(device: item.device, action: AuditAction.discarded, detail: "\(item.table) \(item.key): \(item.change) (held \(item.heldAt))")
            }
        }
        return chosen
    }

    static func describe(_ c: Change) -> String {
        c.isDelete ? "delete" : c.values.map { "\($0.column)=\($0.value)" }.joined(separator: ", ")
    }
}
