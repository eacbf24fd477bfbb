import TallyReplica

/// `POST /v1/join`: a device binds its replica's site id to its credential, once.
public struct JoinRequest: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var site: String
    /// The device's Ed25519 public key (hex, 32 bytes): the depot verifies every ledger entry
    /// the device pushes against it (`Protocol/SIGNING.md`). Absent from devices made before keys.
    public var publicKey: String?
    /// Set by a device taking a new identity (`SyncClient.recover`): the site it leaves. The
    /// depot binds the credential to the new site when this is the one bound now and the
    /// signing key is the registered one. Absent from a first join and from older devices.
    public var replaces: String?
    /// Why it takes a new identity (`RecoveryReason`), for the depot's audit log.
    public var reason: String?
    public init(site: SiteID, publicKey: String? = nil, replaces: SiteID? = nil, reason: String? = nil) {
        protocolVersion = ProtocolVersion.current
        self.site = site.hex
        self.publicKey = publicKey
        self.replaces = replaces?.hex
        self.reason = reason
    }
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", site, publicKey, replaces, reason }
}

/// What the depot tells a device about itself when it joins.
public struct JoinResponse: Codable, Sendable, Equatable {
    public var device: String
    public var role: String
    public var route: String?
    public var schema: Schema
    public init(device: String, role: String, route: String?, schema: Schema) {
        self.device = device
        self.role = role
        self.route = route
        self.schema = schema
    }
}

/// `POST /v1/push`: the device's own changes the depot has not acknowledged.
public struct PushRequest: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var schemaVersion: Int
    public var site: String
    public var changes: [Change]
    /// The device's pull cursor: what it has applied. The depot judges by it whether the
    /// device writes on a copy older than its compacted history. Absent from older devices.
    public var cursor: VersionVector?
    public init(schemaVersion: Int, site: SiteID, changes: [Change], cursor: VersionVector? = nil) {
        protocolVersion = ProtocolVersion.current
        self.schemaVersion = schemaVersion
        self.site = site.hex
        self.changes = changes
        self.cursor = cursor
    }
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", schemaVersion = "schema", site, changes, cursor }
}

public struct PushResponse: Codable, Sendable, Equatable {
    /// Changes new to the depot.
    public var applied: Int
    /// Changes it already held (a retried push).
    public var duplicates: Int
    /// The highest sequence number of this device the depot holds without gap: the device
    /// pushes from there next time.
    public var ack: UInt64
    /// Ledger rows the depot refused as re-sent with other content.
    public var violations: [ViolationNotice]
    /// Record changes received but held for the depot staff's review, not merged: the device
    /// wrote them on a copy older than the depot's compacted history. Absent from older depots.
    public var held: Int?
    public init(applied: Int, duplicates: Int, ack: UInt64, held: Int? = nil, violations: [ViolationNotice]) {
        self.applied = applied
        self.duplicates = duplicates
        self.ack = ack
        self.held = held
        self.violations = violations
    }
}

public struct ViolationNotice: Codable, Sendable, Equatable {
    public var table: String
    public var key: String
    public var contentHash: String
    public init(table: String, key: String, contentHash: String) {
        self.table = table
        self.key = key
        self.contentHash = contentHash
    }
}

/// `POST /v1/pull`: the changes after the device's cursor that its scope allows.
public struct PullRequest: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    public var schemaVersion: Int
    /// The cursor the last pull returned (empty on a first pull).
    public var cursor: VersionVector
    public var limit: Int
    /// The depot epoch (`HelloResponse.epoch`) of the depot that gave this cursor; absent when
    /// the device does not know it (a first pull, a device older than the field). A depot that
    /// has that epoch never gave a cursor past its own log: one is refused. Under another
    /// epoch (the depot was restored since), the depot serves from what it holds.
    public var epoch: String?
    public init(schemaVersion: Int, cursor: VersionVector, limit: Int, epoch: String? = nil) {
        protocolVersion = ProtocolVersion.current
        self.schemaVersion = schemaVersion
        self.cursor = cursor
        self.limit = limit
        self.epoch = epoch
    }
    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", schemaVersion = "schema", cursor, limit, epoch }
}

public struct PullResponse: Codable, Sendable, Equatable {
    public var changes: [Change]
    /// Where the next pull starts.
    public var cursor: VersionVector
    /// More changes wait: pull again with the new cursor.
    public var more: Bool
    /// The depot's acknowledgement of this device's own changes.
    public var ack: UInt64
    public init(changes: [Change], cursor: VersionVector, more: Bool, ack: UInt64) {
        self.changes = changes
        self.cursor = cursor
        self.more = more
        self.ack = ack
    }
}

/// `POST /v1/blobs/missing`: which of these blobs the depot lacks.
public struct BlobList: Codable, Sendable, Equatable {
    public var hashes: [String]
    public init(hashes: [String]) { self.hashes = hashes }
}

/// `GET /version`.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var tally: String
    public var protocolVersion: Int
    public var schemaVersion: Int
    public init(tally: String, schemaVersion: Int) {
        self.tally = tally
        protocolVersion = ProtocolVersion.current
        self.schemaVersion = schemaVersion
    }
    enum CodingKeys: String, CodingKey { case tally, protocolVersion = "protocol", schemaVersion = "schema" }
}

/// A device's report that entries in its own file no longer match their signatures (someone
/// edited the file): the depot records it in its audit log for `tally audit verify`. The depot
/// already holds the signed originals the device pushed.
public struct AlarmRequest: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var problem: String
        public var detail: String
        public init(id: String, problem: String, detail: String) {
            self.id = id
            self.problem = problem
            self.detail = detail
        }
    }
    public var entries: [Entry]
    public init(entries: [Entry]) { self.entries = entries }
}

/// How many alarm entries the depot recorded.
public struct AlarmResponse: Codable, Sendable, Equatable {
    public var recorded: Int
    public init(recorded: Int) { self.recorded = recorded }
}

/// `GET /v1/hello`: what a device asks first at each sync, to learn what the depot holds of it
/// before pushing. Older depots answer 404; the device then syncs as before.
public struct HelloResponse: Codable, Sendable, Equatable {
    /// The depot's identity: made at `tally depot init`, made anew by `tally depot restore`. A
    /// device that sees it change offers every blob again (the restored depot may lack some).
    public var epoch: String
    /// This device's own changes the depot holds without gap (as a push answer's `ack`).
    public var ack: UInt64
    /// The depot's clock, milliseconds since 1970 (UTC).
    public var time: UInt64
    /// The site the depot binds this device's credential to (absent before it joined, and from
    /// depots older than it). Not the file's own: the file went back to before a new identity
    /// it took, or the depot was restored from a backup taken before one (`Recovery`).
    public var site: String?
    public init(epoch: String, ack: UInt64, time: UInt64, site: String? = nil) {
        self.epoch = epoch
        self.ack = ack
        self.time = time
        self.site = site
    }
}
