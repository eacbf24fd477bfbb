import Foundation
import Logging
import TallyProtocol
import TallyReplica
import TallyRoutes

/// Progress of a running sync, for a progress bar.
public struct SyncProgress: Sendable {
    public enum Phase: String, Sendable { case push, pull, blobs }
    public var phase: Phase
    public var done: Int
    public var total: Int?
}

/// What a sync did.
public struct SyncSummary: Sendable, Codable, Equatable {
    public var pushed: Int
    public var pulled: Int
    public var blobsUp: Int
    public var bytesSent: Int
    public var bytesReceived: Int
    public var milliseconds: Int
    /// Own changes the depot still lacks (0 after a complete sync).
    public var pending: Int
    /// Ledger rows the depot refused as re-sent with other content.
    public var violations: Int
    /// Requests the depot answered `503 busy` that were sent again after its `Retry-After`.
    public var busyRetries: Int = 0
    /// Own record changes the depot received but holds for its staff's review (this device
    /// wrote them on a copy older than the depot's compacted history).
    public var held: Int = 0
    /// Set when this sync first set the device up again from the depot (`SyncClient.rebaseline`).
    public var rebaselined: RebaselineSummary? = nil
    /// Set when the depot was found restored from an older backup: it acknowledged less than
    /// this device had pushed, or shows a new epoch. What it lacked was sent again.
    public var depotRestored: Bool? = nil
    /// Set when this sync first gave the device a new identity (`SyncClient.recover`).
    public var recovered: RecoverySummary? = nil
    /// The depot confirmed at the end that it holds every change and blob of this device.
    public var depotHoldsAll: Bool = false
}

/// What joining told the device.
public struct JoinSummary: Sendable, Codable, Equatable {
    public var device: String
    public var role: String
    public var scope: String?
    public var site: String
    public var replica: String
}

/// The device side of sync: push own changes, pull what the scope allows, offer blobs.
///
/// Every step is safe to repeat and resumes where it stopped: the depot's acknowledgement and
/// the pull cursor are kept in the replica after each page, and a page applied twice changes
/// nothing. Local writes may go on while a sync runs (another process, the same file): they are
/// pushed next time.
public struct SyncClient: Sendable {
    public let replica: Replica
    let client: DepotClient
    let logger: Logger
    let pageSize: Int
    let wall: any WallClock

    public init(replica: Replica, clock: any WallClock = SystemWallClock(), logger: Logger, pageSize: Int = 5_000) throws(SyncError) {
        guard let url = try Self.local({ try replica.setting(SyncSettings.url) }).flatMap(URL.init(string:)),
              let credential = try Self.local({ try replica.setting(SyncSettings.credential) })
        else { throw .notJoined(replica.path) }
        self.replica = replica
        self.logger = logger
        self.pageSize = pageSize
        self.wall = clock
        let r = replica
        let trust = try Self.local { try SyncSettings.trust(replica) }
        client = try DepotClient(base: url, credential: credential, clock: clock, trust: trust, pending: {
            let ack = (try? r.setting(SyncSettings.ack)).flatMap { $0 }.flatMap(UInt64.init) ?? 0
            return (try? r.ownChangeCount(after: ack)) ?? 0
        })
    }

    /// Stores the credential the depot issued when it rotated this device's (`tally depot
    /// rotate`); the replica, site and key stay. Refused for a replica that never joined.
    public static func replaceCredential(_ token: String, in replica: Replica) throws(SyncError) {
        guard try local({ try replica.setting(SyncSettings.credential) }) != nil else { throw .notJoined(replica.path) }
        try local { try replica.setSettings([SyncSettings.credential: token]) }
    }

    /// Changes how a joined device trusts its depot: a new CA, plain HTTP allowed, a new URL;
    /// nil keeps what the device has. The URL is checked against the resulting trust first.
    /// The replica and its unsynced changes stay.
    public static func replaceTrust(caPEM: String?, allowPlainHTTP: Bool?, url: URL?, in replica: Replica) throws(SyncError) {
        guard let current = try local({ try replica.setting(SyncSettings.url) }).flatMap(URL.init(string:)) else { throw .notJoined(replica.path) }
        var trust = try local { try SyncSettings.trust(replica) }
        if let caPEM { trust.caPEM = caPEM }
        if let allowPlainHTTP { trust.allowPlainHTTP = allowPlainHTTP }
        let target = url ?? current
        try trust.check(target)
        try local { try replica.setSettings(SyncSettings.values(of: trust).merging([SyncSettings.url: target.absoluteString]) { $1 }) }
    }

    /// How many of its latest entries a device checks against their signatures at each sync.
    static let selfCheckEntries = 2_000

    /// `trust` says how the depot's certificate is verified and is kept for every later sync.
    public static func join(url: URL, credential: String, replicaPath: String, options: ReplicaOptions,
                            trust: DepotTrust = DepotTrust()) async throws(SyncError) -> JoinSummary {
        if FileManager.default.fileExists(atPath: replicaPath) {
            throw .local(.alreadyExists(path: replicaPath))
        }
        let site = SiteID.random()
        let client = try DepotClient(base: url, credential: credential, clock: options.wallClock, trust: trust, pending: { 0 })
        // The device's signing key: made here, never sent; its public half is registered.
        let key = DeviceKey.generate()
        let answer = try await client.post("/v1/join", JoinRequest(site: site, publicKey: key.publicKey), as: JoinResponse.self, meter: .init())
        // Start from the depot's snapshot of this device's scope: a million rows arrive as one
        // file instead of a million changes. The file carries its pull cursor.
        // Built and bound under a temporary name, then moved into place: a join killed half-way
        // leaves no file that is neither joined nor removable.
        // The depot's clock: local writes far past it are refused (`Replica.setClockCeiling`).
        let depotTime = try await client.hello(meter: .init())?.time
        let partial = replicaPath + ".part"
        let replica = try await fetchSnapshot(client, to: partial, schema: answer.schema, site: site, options: options)
        try local {
            try replica.setClockCeiling(confirmedMilliseconds: depotTime)
            try replica.setSettings([SyncSettings.url: url.absoluteString, SyncSettings.credential: credential,
                                     SyncSettings.device: answer.device, SyncSettings.role: answer.role,
                                     SyncSettings.scope: answer.route].merging(SyncSettings.values(of: trust)) { $1 })
            try key.store(in: replica)
            try replica.checkpoint()
            try replica.close()
            try FileManager.default.moveItem(atPath: partial, toPath: replicaPath)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        }
        return JoinSummary(device: answer.device, role: answer.role, scope: answer.route, site: site.hex, replica: replicaPath)
    }

    /// The depot's snapshot of this device's scope, written to `path` and opened.
    static func fetchSnapshot(_ client: DepotClient, to path: String, schema: Schema, site: SiteID,
                              options: ReplicaOptions) async throws(SyncError) -> Replica {
        try await client.download("/v1/snapshot", to: path, meter: .init())
        let head = FileHandle(forReadingAtPath: path).flatMap { h in defer { try? h.close() }; return try? h.read(upToCount: 16) }
        guard let head, head.starts(with: Array("SQLite format 3".utf8)) else {
            throw .protocolViolation("the depot's snapshot is not a replica file")
        }
        return try local {
            let replica = try Replica.open(at: path, schema: schema, options: options)
            guard replica.site == site else {
                throw ReplicaError.notAReplica(path: path, reason: "the depot's snapshot is for another device")
            }
            return replica
        }
    }

    /// Own changes the depot has not acknowledged.
    public func pending() throws(SyncError) -> Int {
        try Self.local { try replica.ownChangeCount(after: ack()) }
    }

    /// Blobs (signature images, slips) stored since the last offer to the depot.
    public func pendingBlobs() throws(SyncError) -> Int {
        try Self.local {
            let mark = try replica.setting(SyncSettings.blobMark).flatMap(Int64.init) ?? 0
            return try replica.blobs(after: mark, limit: Int.max).count
        }
    }

    func ack() throws(ReplicaError) -> UInt64 {
        try replica.setting(SyncSettings.ack).flatMap(UInt64.init) ?? 0
    }

    /// Pushes, pulls and offers blobs.
    public func sync(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws(SyncError) -> SyncSummary {
        let started = DispatchTime.now()
        let meter = DepotClient.Meter()
        var summary = SyncSummary(pushed: 0, pulled: 0, blobsUp: 0, bytesSent: 0, bytesReceived: 0, milliseconds: 0, pending: 0, violations: 0)
        let schemaVersion = replica.schema.version
        // Changes kept for a newer schema merge once this device has been updated to it.
        _ = try Self.local { try replica.replayDeferred() }

        // What the depot holds of this device, before anything is pushed.
        var ack = try Self.local { try self.ack() }
        let hello = try await client.hello(meter: meter)
        if let hello {
            ack = try takeStock(hello, ack: ack, summary: &summary)
        }

        // Push: own changes above the depot's acknowledgement, page by page.
        // What this device has applied, so the depot can tell a copy older than its history:
        // sent with every page (a page delayed on the way is judged by its own).
        let applied = try Self.local { try SyncSettings.cursor(replica) }
        let toPush = try pending()
        var stalls = 0
        while true {
            let page = try Self.local { try replica.ownChanges(after: ack, limit: pageSize) }
            if page.isEmpty { break }
            progress(SyncProgress(phase: .push, done: summary.pushed, total: toPush))
            let answer: PushResponse
            do {
                let request = PushRequest(schemaVersion: schemaVersion, site: replica.site, changes: page, cursor: applied)
                answer = try await client.post("/v1/push", request, as: PushResponse.self, meter: meter)
            } catch .refused(let e) where e.code == WireError.sequenceReusedCode {
                throw .recoveryNeeded(.fileWentBack)
            }
            summary.violations += answer.violations.count
            summary.held += answer.held ?? 0
            if answer.ack <= ack {
                // The depot holds less of ours than we thought (restored from an older backup):
                // push again from what it acknowledges, but never loop without progress.
                stalls += 1
                guard stalls < 3 else {
                    throw .protocolViolation("the depot does not acknowledge this device's changes (ack \(answer.ack)); tell the depot staff")
                }
            } else {
                stalls = 0
            }
            summary.pushed += page.count
            ack = answer.ack
            let a = ack
            try Self.local { try replica.setSettings([SyncSettings.ack: String(a)]) }
        }

        // Pull: what the scope allows, after the cursor.
        var cursor = try Self.local { try SyncSettings.cursor(replica) }
        // The epoch the cursor was given under, claimed only when it is the depot's now.
        var claim = try Self.local { try replica.setting(SyncSettings.cursorEpoch) }.flatMap { $0 == hello?.epoch ? $0 : nil }
        while true {
            progress(SyncProgress(phase: .pull, done: summary.pulled, total: nil))
            let answer: PullResponse
            do {
                answer = try await client.post("/v1/pull", PullRequest(schemaVersion: schemaVersion, cursor: cursor, limit: pageSize, epoch: claim),
                                               as: PullResponse.self, meter: meter)
            } catch .refused(let e) where e.code == WireError.rebaselineCode {
                throw .rebaselineRequired(pending: try pending(), held: summary.held)
            } catch .refused(let e) where e.code == WireError.impossibleCursorCode && claim != nil {
                // The file's cursor is past what this depot holds (the file was edited, or the
                // depot's files were put back by hand): pull from what the depot holds.
                logger.warning("the depot refused this device's pull cursor; pulling from what it holds", metadata: ["reason": "\(e.message)"])
                claim = nil
                continue
            }
            let changes = answer.changes
            let applied = try Self.local { try replica.apply(changes, trustClocks: true, deferUnknown: true) }
            if applied.deferred > 0 {
                logger.notice("changes kept until Tally is updated on this device", metadata: ["count": "\(applied.deferred)"])
            }
            summary.pulled += changes.count
            cursor = answer.cursor
            claim = hello?.epoch
            let c = SyncSettings.encode(cursor)
            let given = claim
            try Self.local { try replica.setSettings([SyncSettings.cursor: c, SyncSettings.cursorEpoch: given]) }
            // A depot restored from an older backup acknowledges less than we pushed: push again.
            if answer.ack < ack {
                logger.warning("the depot has lost changes of this device; pushing them again", metadata: ["depot_ack": "\(answer.ack)", "ours": "\(ack)"])
                let a = answer.ack
                try Self.local { try replica.setSettings([SyncSettings.ack: String(a)]) }
            }
            if !answer.more { break }
        }

        // Blobs: offer every blob stored since the last mark; upload the ones the depot lacks.
        var batches = true
        var mark = try Self.local { try replica.setting(SyncSettings.blobMark).flatMap(Int64.init) ?? 0 }
        while true {
            let batch = try Self.local { try replica.blobs(after: mark, limit: 500) }
            if batch.isEmpty { break }
            let missing = try await client.post("/v1/blobs/missing", BlobList(hashes: batch.map(\.hash)), as: BlobList.self, meter: meter)
            // In batches of a few MB, one request and one depot transaction each; one PUT per
            // blob to a depot older than batches.
            var group: [(hash: String, bytes: [UInt8])] = []
            var groupBytes = 0
            for (k, hash) in missing.hashes.enumerated() {
                guard let bytes = try Self.local({ try replica.blob(hash) }) else { continue }
                group.append((hash, bytes))
                groupBytes += bytes.count
                guard groupBytes >= BlobBatch.targetBytes || k == missing.hashes.count - 1 else { continue }
                progress(SyncProgress(phase: .blobs, done: summary.blobsUp, total: missing.hashes.count))
                try await upload(group, batches: &batches, meter: meter)
                summary.blobsUp += group.count
                group = []
                groupBytes = 0
            }
            mark = batch.last!.mark  // safe: batch is not empty
            let m = mark
            try Self.local { try replica.setSettings([SyncSettings.blobMark: String(m)]) }
        }

        // The device's own latest entries against their signatures: an edit made to the file
        // (the sqlite3 shell) never reaches the depot, which holds the signed originals, but it
        // is reported and the sync says so.
        if let me = try Self.local({ try replica.setting(SyncSettings.device) }),
           let key = try Self.local({ try replica.setting(DeviceKey.publicSetting) }) {
            let audit = try Self.local { try ChainAudit.run(replica, keys: [me: key], device: me, lastEntries: Self.selfCheckEntries, vouching: true) }
            let altered = audit.findings.filter { $0.problem != .chainGap && $0.problem != .noKey }
            if !altered.isEmpty {
                _ = try await client.post("/v1/alarm", AlarmRequest(entries: altered.map { .init(id: $0.entry ?? "?", problem: $0.problem.rawValue, detail: $0.detail) }),
                                          as: AlarmResponse.self, meter: meter)
                throw .altered(altered.map(\.detail))
            }
        }

        summary.pending = try pending()
        let blobsLeft = try pendingBlobs()
        summary.depotHoldsAll = summary.pending == 0 && blobsLeft == 0
        summary.busyRetries = meter.busy
        summary.bytesSent = meter.sent
        summary.bytesReceived = meter.received
        summary.milliseconds = Int((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)
        let last = ISO8601DateFormatter().string(from: Date())
        try Self.local { try replica.setSettings([SyncSettings.lastSync: last]) }
        return summary
    }

    /// Uploads blobs in one request, or one by one to a depot that has no batch endpoint.
    func upload(_ blobs: [(hash: String, bytes: [UInt8])], batches: inout Bool, meter: DepotClient.Meter) async throws(SyncError) {
        if batches {
            do {
                try await client.postBytes("/v1/blobs", bytes: BlobBatch.encode(blobs), contentType: "application/vnd.tally.blobs", meter: meter)
                return
            } catch {
                guard case .refused(let e) = error, e.status == 404 else { throw error }
                batches = false
            }
        }
        for b in blobs { try await client.put("/v1/blobs/\(b.hash)", bytes: b.bytes, meter: meter) }
    }

    /// Fetches blobs from the depot that this replica lacks (an accountant's device fetching
    /// signature images for a report).
    public func fetchBlobs(_ hashes: [String]) async throws(SyncError) -> Int {
        let meter = DepotClient.Meter()
        var fetched = 0
        for hash in try Self.local({ try replica.missingBlobs(of: hashes) }) {
            let bytes = try await client.get("/v1/blobs/\(hash)", meter: meter)
            try Self.local { try replica.putBlob(bytes, expecting: hash) }
            fetched += 1
        }
        return fetched
    }

    static func local<T>(_ body: () throws -> T) throws(SyncError) -> T {
        do { return try body() } catch let e as ReplicaError { throw .local(e) } catch { throw .local(.storage("\(error)")) }
    }
}
