import Foundation
import TallyReplica

/// What a device keeps about its depot, in its own replica file.
struct SyncSettings {
    static let url = "sync.url"
    static let credential = "sync.credential"
    static let device = "sync.device"
    static let role = "sync.role"
    static let scope = "sync.scope"
    /// The depot's acknowledgement of this device's own changes (a sequence number).
    static let ack = "sync.ack"
    /// The pull cursor the depot returned last (a version vector as JSON).
    static let cursor = "sync.cursor"
    /// Blobs up to this mark have been offered to the depot.
    static let blobMark = "sync.blob_mark"
    static let lastSync = "sync.last"
    /// The depot's epoch at the last sync (`HelloResponse.epoch`): a new one means it was
    /// restored from a backup.
    static let depotEpoch = "sync.depot_epoch"
    /// The depot epoch under which `cursor` was given (`PullRequest.epoch`).
    static let cursorEpoch = "sync.cursor_epoch"
    /// The sites this device wrote as before its current one, space-separated hex, oldest
    /// first: a depot that binds one of them was restored from before the change.
    static let previousSites = "sync.previous_sites"
    /// A new identity being taken (`SyncClient.recover`), kept until it is complete:
    /// "<new site hex> <reason>".
    static let recovering = "sync.recovering"
    /// PEM of the CA the depot's certificate must chain to (`tally join --ca`).
    static let depotCA = "sync.depot_ca"
    /// "1" when plain HTTP to a non-loopback depot was allowed at join.
    static let allowPlainHTTP = "sync.allow_plain_http"

    static func trust(_ replica: Replica) throws(ReplicaError) -> DepotTrust {
        DepotTrust(caPEM: try replica.setting(depotCA), allowPlainHTTP: try replica.setting(allowPlainHTTP) == "1")
    }

    /// The settings `trust(_:)` reads back (nil removes one).
    static func values(of trust: DepotTrust) -> [String: String?] {
        [depotCA: trust.caPEM, allowPlainHTTP: trust.allowPlainHTTP ? "1" : nil]
    }

    static func cursor(_ replica: Replica) throws(ReplicaError) -> VersionVector {
        guard let json = try replica.setting(cursor) else { return VersionVector() }
        return (try? JSONDecoder().decode(VersionVector.self, from: Data(json.utf8))) ?? VersionVector()
    }

    static func encode(_ vv: VersionVector) -> String {
        String(decoding: (try? JSONEncoder().encode(vv)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
