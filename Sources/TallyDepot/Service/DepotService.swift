import Foundation
import Logging
import TallyProtocol
import TallyReplica
import TallyRoutes

/// The depot's protocol: authentication, scope, push, pull and blobs over the depot's replica.
/// Transport-free: the HTTP server hands it `DepotRequest`s.
public final class DepotService: Sendable {
    public let replica: Replica
    public let registry: DeviceRegistry
    let scope: any ScopePolicy
    let clock: any WallClock
    let logger: Logger
    let version: String
    /// Where snapshots are built before they are sent.
    let scratch: String

    public init(replica: Replica, registry: DeviceRegistry, scope: any ScopePolicy, clock: any WallClock, logger: Logger,
                version: String, scratch: String = NSTemporaryDirectory()) {
        self.scratch = scratch
        self.replica = replica
        self.registry = registry
        self.scope = scope
        self.clock = clock
        self.logger = logger
        self.version = version
    }

    public func handle(_ request: DepotRequest) -> DepotResponse {
        let started = DispatchTime.now().uptimeNanoseconds
        var errorCode: String?
        let response: DepotResponse
        do {
            response = try route(request)
        } catch let e as WireError {
            if e.status >= 500 { logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(e.message)"]) }
            errorCode = e.code
            response = Self.error(e)
        } catch {
            // A failure of the depot's own disk is `503 storage`, whichever endpoint met it.
            logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            let e = StorageFailure.wire(error, "the depot failed")
            errorCode = e.code
            response = Self.error(e)
        }
        DepotMetrics.answered(DepotMetrics.endpoint(request.method, request.path), status: response.status, errorCode: errorCode,
                              bytesIn: request.body.count, bytesOut: response.file?.size ?? response.body.count,
                              nanoseconds: Int64(DispatchTime.now().uptimeNanoseconds - started))
        return response
    }

    func route(_ r: DepotRequest) throws -> DepotResponse {
        let path = r.path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? r.path
        switch (r.method, path) {
        case ("GET", "/health"):
            return try json(["status": "ok"], r)
        case ("GET", "/version"):
            return try json(VersionInfo(tally: version, schemaVersion: replica.schema.version), r)
        case ("GET", "/v1/hello"):
            return try hello(r)
        case ("POST", "/v1/join"):
            return try join(r)
        case ("POST", "/v1/push"):
            return try push(r)
        case ("POST", "/v1/alarm"):
            return try alarm(r)
        case ("POST", "/v1/pull"):
            return try pull(r)
        case ("GET", "/v1/snapshot"):
            return try snapshot(r)
        case ("POST", "/v1/blobs/missing"):
            _ = try registry.authenticate(r.bearer)
            let list = try WireCodec.decode(BlobList.self, from: r.body, compressed: r.isCompressed)
            return try json(BlobList(hashes: try replica.missingBlobs(of: list.hashes)), r)
        case ("POST", "/v1/blobs"):
            // Many blobs, one request and one transaction (`BlobBatch`).
            let device = try registry.authenticate(r.bearer)
            let blobs = try BlobBatch.decode(r.body)
            do { try replica.putBlobs(blobs) } catch { throw Self.blobRefusal(error) }
            logger.debug("blobs stored", metadata: ["device": "\(device.name)", "count": "\(blobs.count)"])
            return try json(["stored": blobs.count], r)
        case ("PUT", _) where path.hasPrefix("/v1/blobs/"):
            let device = try registry.authenticate(r.bearer)
            let hash = String(path.dropFirst("/v1/blobs/".count)).lowercased()
            guard BlobHash.bytes(hash) != nil else { throw WireError.badRequest("'\(hash)' is not a SHA-256 blob name (64 hex digits)") }
            guard r.body.count <= WireLimits.maxBlob else { throw WireError.tooLarge("blobs are at most \(WireLimits.maxBlob) bytes") }
            do { try replica.putBlob(r.body, expecting: hash) } catch { throw Self.blobRefusal(error) }
            logger.debug("blob stored", metadata: ["device": "\(device.name)", "hash": "\(hash.prefix(12))"])
            return try json(["stored": hash], r)
        case ("GET", _) where path.hasPrefix("/v1/blobs/"):
            let device = try registry.authenticate(r.bearer)
            let hash = String(path.dropFirst("/v1/blobs/".count)).lowercased()
            try checkBlobRead(hash, device: device)
            guard let bytes = try replica.blob(hash) else { throw WireError.notFound("the depot has no blob \(hash.prefix(12))…; the device that made it has not synced it yet") }
            return DepotResponse(status: 200, headers: ["content-type": "application/octet-stream"], body: bytes)
        default:
            if let answer = try settlement(r, path: path) { return answer }
            throw WireError.notFound("there is no \(r.method) \(path) on this depot; check the depot URL")
        }
    }

    // MARK: - Endpoints

    func join(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        let req = try WireCodec.decode(JoinRequest.self, from: r.body, compressed: r.isCompressed)
        try checkProtocol(req.protocolVersion)
        guard let site = SiteID(hex: req.site) else { throw WireError.badRequest("site must be 32 hex digits") }
        // A credential bound to a replica that never pushed anything (its join died half-way) may
        // join again with a new replica; one whose replica holds data may not.
        let old = device.site.flatMap(SiteID.init(hex:))
        let oldIsEmpty = try old.map { try replica.contiguousSeq(of: $0) == 0 } ?? true
        if let k = req.publicKey, Hex.bytes(k)?.count != 32 { throw WireError.badRequest("publicKey must be 64 hex digits (an Ed25519 public key)") }
        let recovering = try recoveryRebind(device, old: old, to: site, req)
        try registry.bind(device: device.name, site: site.hex, allowRebind: oldIsEmpty || recovering, publicKey: req.publicKey)
        if recovering, let old {
            let why = switch req.reason {
            case "clock_ahead": "its entries were stamped with a clock far ahead"
            case "depot_restored": "the depot was restored from a backup taken before the device's last new identity"
            default: "its file had gone back to an older copy"
            }
            registry.audit(device: device.name, action: AuditAction.recovered,
                           detail: "\(why); it writes as \(site.hex.prefix(8))… from now on, and the depot keeps the "
                               + "\(try replica.contiguousSeq(of: old)) changes of its old identity \(old.hex.prefix(8))…")
        }
        logger.notice("device joined", metadata: ["device": "\(device.name)", "site": "\(site.hex)"])
        return try json(JoinResponse(device: device.name, role: device.role.rawValue, route: device.scope, schema: replica.schema), r)
    }

    func push(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        let req = try WireCodec.decodePush(from: r.body, compressed: r.isCompressed)
        try checkProtocol(req.protocolVersion)
        try checkSchema(req.schemaVersion)
        guard let site = SiteID(hex: req.site) else { throw WireError.badRequest("site must be 32 hex digits") }
        guard device.site == site.hex else {
            throw WireError.forbidden("this credential belongs to another replica; run `tally join` with this replica, or ask the depot for a new credential")
        }
        guard req.changes.count <= WireLimits.maxChanges else {
            throw WireError.tooLarge("a push carries at most \(WireLimits.maxChanges) changes; this one has \(req.changes.count)")
        }
        if let other = req.changes.first(where: { $0.site != site }) {
            throw WireError.forbidden("a device pushes only its own changes; \(other.table) '\(other.key)' was written by another site")
        }
        // Signatures first: an altered entry is named as such, whatever its scope.
        if let (c, why) = SignatureCheck.refusal(in: req.changes, device: device) {
            registry.audit(device: device.name, action: AuditAction.refusedSignature, detail: "\(c.table) \(c.key) seq \(c.seq): \(why)")
            logger.warning("entry with a bad signature refused", metadata: ["device": "\(device.name)", "key": "\(c.key)"])
            throw WireError.badSignature("\(why); nothing from this push was stored. The attempt is in the depot's audit log.")
        }
        let refusal: (Change, ScopeRefusal)? = try replica.read { rows in
            // A row created earlier in this push is not stored yet, and a later change to it
            // (a status move) does not repeat its route: check each change against the row as
            // the push has written it so far (one site, in sequence order), not only the
            // stored one.
            var written: [String: [ColumnValue]] = [:]
            for c in req.changes {
                let id = c.table + "\u{0}" + c.key
                var checked = c
                if let earlier = written[id] {
                    for v in earlier where c.value(v.column) == nil { checked.values.append(v) }
                }
                if let why = try scope.refusal(checked, device: device, rows: rows) { return (c, why) }
                if !c.values.isEmpty { written[id] = checked.values }
            }
            return nil
        }
        if let (c, why) = refusal {
            registry.audit(device: device.name, action: why.auditAction, detail: "\(c.table) \(c.key) seq \(c.seq): \(why)")
            logger.warning("write refused", metadata: ["device": "\(device.name)", "table": "\(c.table)", "key": "\(c.key)",
                                                      "why": "\(why.auditAction)"])
            throw why.wireError
        }
        // A change numbered like one already held but with other content: the device's file went
        // back to an older copy and wrote on. Never a duplicate: refused whole, so the device
        // takes a new identity and sends it again (`SyncClient.recover`).
        if let c = try replica.firstReused(in: req.changes) {
            registry.audit(device: device.name, action: AuditAction.sequenceReused,
                           detail: "\(c.table) \(c.key) numbered \(c.seq), a number the depot holds with other content")
            logger.warning("a device reused a sequence number", metadata: ["device": "\(device.name)", "seq": "\(c.seq)"])
            throw WireError.sequenceReused("this device numbered change \(c.seq) like one the depot already holds with other content "
                + "(its file went back to an older copy); nothing from this push was stored: `tally sync` sets the device up again and sends it")
        }
        let hold = try staleWrites(of: device, site: site, cursor: req.cursor)
        let report: ApplyReport
        do {
            report = try replica.apply(req.changes, hold: hold)
        } catch {
            throw Self.wire(error)
        }
        if report.held > 0 {
            registry.audit(device: device.name, action: AuditAction.heldForReview,
                           detail: "\(report.held) record changes written on a copy older than the depot's compacted history; see `tally depot quarantine list`")
            logger.warning("stale writes held for review", metadata: ["device": "\(device.name)", "held": "\(report.held)"])
        }
        for v in report.violations {
            registry.audit(device: device.name, action: "integrity_violation", detail: "\(v.table) \(v.key) re-sent with other content (\(v.contentHash.prefix(12)))")
        }
        registry.recordSync(device: device.name, skewMs: skew(r), cursor: req.cursor)
        DepotMetrics.pushed(applied: report.applied, duplicates: report.duplicates, violations: report.violations.count)
        let ack = try replica.contiguousSeq(of: site)
        logger.info("push", metadata: ["device": "\(device.name)", "applied": "\(report.applied)", "duplicates": "\(report.duplicates)", "ack": "\(ack)"])
        return try json(PushResponse(applied: report.applied, duplicates: report.duplicates, ack: ack, held: report.held > 0 ? report.held : nil,
                                     violations: report.violations.map { ViolationNotice(table: $0.table, key: $0.key, contentHash: $0.contentHash) }), r)
    }

    /// Which of a device's pushed changes to hold for review, if it writes from a copy of the
    /// data older than the compacted history (it was away while the depot compacted past it).
    /// Its ledger entries are facts (a delivery made, cash taken) that depend on nothing it
    /// missed: they merge, and its day reconciles. So do changes that only move lattice columns
    /// (a ticket's status) forward: a join cannot undo anything. Its other record changes were
    /// decided against a picture weeks old: merged by their clocks they could undo later
    /// corrections, so a person decides (`tally depot quarantine`).
    /// The cursor judged is the highest the device ever showed: `cursor` (what this request
    /// says it has applied; absent from older devices) merged with every earlier one
    /// (`DeviceRegistry.highestCursor`). A request delayed on the way, or replayed, carries an
    /// old cursor, but the device that sent it has since applied more.
    func staleWrites(of device: DeviceRecord, site: SiteID, cursor: VersionVector?) throws -> ((Change) -> String?)? {
        guard let horizon = try DepotCompaction.horizon(of: replica) else { return nil }
        let shown = try registry.highestCursor(of: device.name) ?? VersionVector()
        let best = cursor.map { shown.merged(with: $0) } ?? shown
        guard DepotCompaction.gap(in: best, below: horizon, own: site) != nil else { return nil }
        let schema = replica.schema
        let reason = "written on \(device.name)'s copy older than the depot's compacted history (its last sync before: \(device.lastSyncAt ?? "never"))"
        return { c in
            guard let t = schema.table(named: c.table), t.kind != .ledger else { return nil }
            let onlyLattices = !c.isDelete && c.values.allSatisfy { v in t.columnIndex(v.column).map { t.columns[$0].order != nil } ?? false }
            return onlyLattices ? nil : reason
        }
    }

    /// A device reports entries of its own file that no longer match their signatures.
    func alarm(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        let req = try WireCodec.decode(AlarmRequest.self, from: r.body, compressed: r.isCompressed)
        let entries = req.entries.prefix(1000)
        registry.audit(device: device.name, action: AuditAction.tamperReported, details: entries.map { "events \($0.id): \($0.problem): \($0.detail)" })
        logger.warning("a device reports altered entries in its file", metadata: ["device": "\(device.name)", "entries": "\(entries.count)"])
        return try json(AlarmResponse(recorded: entries.count), r)
    }

    func pull(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        let req = try WireCodec.decode(PullRequest.self, from: r.body, compressed: r.isCompressed)
        try checkProtocol(req.protocolVersion)
        try checkSchema(req.schemaVersion)
        let limit = max(1, min(req.limit, WireLimits.maxChanges))
        let own = device.site.flatMap(SiteID.init(hex:))
        let cursor = try possibleCursor(req, device: device)
        // History below the compaction horizon is gone: a cursor below it would skip changes.
        if let horizon = try DepotCompaction.horizon(of: replica),
           let (site, seq) = DepotCompaction.gap(in: cursor, below: horizon, own: own) {
            registry.audit(device: device.name, action: "refused_stale_cursor", detail: "cursor \(req.cursor[site]) for site \(site.hex.prefix(8)) is below the compaction horizon \(seq)")
            throw WireError.rebaselineRequired("this device's copy is older than the history the depot keeps (compacted); "
                + "everything it recorded is at the depot or on it; `tally sync` sets it up again from the depot")
        }

        // Through the log's owner index: the device's own scope and the rows without an owner,
        // not every change; its own changes are passed over unread.
        let page = try replica.changePage(after: cursor, limit: limit, owners: scope.pageOwners(device: device), skipping: own) { change, rows in
            try change.site != own && scope.canRead(change, device: device, rows: rows)
        }
        let ack = try own.map { try replica.contiguousSeq(of: $0) } ?? 0
        registry.recordSync(device: device.name, skewMs: skew(r), cursor: cursor)
        DepotMetrics.pulled(page.changes.count)
        logger.info("pull", metadata: ["device": "\(device.name)", "changes": "\(page.changes.count)", "more": "\(page.more)"])
        return try json(PullResponse(changes: page.changes, cursor: page.cursor, more: page.more, ack: ack), r)
    }

    /// The pull's cursor as the depot may take it: never past what its log holds of a site.
    /// The registry keeps it (compaction and the stale-write rule read it), so an impossible
    /// one would make the depot believe a device holds what nobody sent it.
    /// - Under the epoch the device names, the depot gave every cursor it holds and never one
    ///   past its log: a cursor past it is refused (`409 impossible_cursor`) and audited.
    /// - Under another epoch or none (the depot was restored since, or the device does not
    ///   know), the cursor is lowered to what the depot holds: the device is served from there
    ///   and is given the lowered cursor; changes it already holds come again and change nothing.
    func possibleCursor(_ req: PullRequest, device: DeviceRecord) throws -> VersionVector {
        let heads = try replica.versionVector()
        let possible = req.cursor.meet(heads)
        guard possible != req.cursor else { return req.cursor }
        guard let past = req.cursor.sorted.first(where: { $0.seq > heads[$0.site] }) else { return possible }
        if let claimed = req.epoch, claimed == (try epoch()) {
            let detail = "pull cursor \(past.seq) for site \(past.site.hex.prefix(8))… is past the \(heads[past.site]) changes the depot holds"
            registry.audit(device: device.name, action: AuditAction.refusedCursor, detail: detail)
            logger.warning("impossible pull cursor refused", metadata: ["device": "\(device.name)", "site": "\(past.site.hex.prefix(8))"])
            throw WireError.impossibleCursor("this device's pull cursor says it holds changes the depot never gave (\(detail)); "
                + "nothing was stored. `tally sync` pulls again from what the depot holds. The attempt is in the depot's audit log.")
        }
        return possible
    }

    /// A new replica file holding the device's scope, for a first sync in seconds. The file
    /// carries the pull cursor it reflects as the setting `sync.cursor`.
    func snapshot(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        guard let site = device.site.flatMap(SiteID.init(hex:)) else {
            throw WireError.conflict("join the depot first (POST /v1/join), then ask for a snapshot")
        }
        try PrivateFiles.folder(scratch)
        let path = (scratch as NSString).appendingPathComponent("\(Self.snapshotPrefix)\(device.id)-\(UUID().uuidString).sqlite")
        // The file itself goes with the response, which removes it once sent.
        var sent = false
        defer {
            for suffix in sent ? ["-wal", "-shm"] : ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let options = ReplicaOptions(wallClock: clock, durability: .off, logger: logger)
        let started = DispatchTime.now()
        let cursor = try replica.exportSnapshot(to: path, for: site, rows: { scope.snapshotRows($0, device: device) }, options: options)
        do {
            let snap = try Replica.open(at: path, options: options)
            try snap.setSettings(["sync.cursor": String(decoding: try JSONEncoder().encode(cursor), as: UTF8.self)])
            try snap.checkpoint()
            try snap.close()
        }
        let size = ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.intValue ?? 0
        // The device starts from this state: it holds everything below the snapshot's cursor.
        registry.recordSync(device: device.name, skewMs: skew(r), cursor: cursor)
        logger.info("snapshot", metadata: ["device": "\(device.name)", "bytes": "\(size)",
                                           "ms": "\((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000)"])
        sent = true
        var headers = ["content-type": "application/vnd.sqlite3"]
        if r.acceptsDeflate { headers["content-encoding"] = "deflate" }
        return DepotResponse(status: 200, headers: headers, file: FileBody(path: path, size: size, deflate: r.acceptsDeflate))
    }

    /// Snapshot files in `scratch` start with this.
    static let snapshotPrefix = "snapshot-"

    /// Removes snapshots left in `scratch` by responses never sent (the depot stopped first).
    /// Run at start, before any device can be sent one.
    public func removeLeftSnapshots() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? []
        for name in names where name.hasPrefix(Self.snapshotPrefix) {
            try? FileManager.default.removeItem(atPath: (scratch as NSString).appendingPathComponent(name))
        }
    }

    // MARK: - Helpers

    func checkProtocol(_ v: Int) throws {
        guard v == ProtocolVersion.current else {
            throw v > ProtocolVersion.current
                ? WireError.unsupportedProtocol("this device speaks protocol \(v), newer than the depot's \(ProtocolVersion.current): update the depot")
                : WireError.upgradeRequired("this device speaks protocol \(v); the depot needs \(ProtocolVersion.current): update Tally on the device (its unsynced records stay safe on it)")
        }
    }

    func checkSchema(_ v: Int) throws {
        guard v <= replica.schema.version else {
            throw WireError.unsupportedProtocol("this device has schema \(v), newer than the depot's \(replica.schema.version): update the depot")
        }
    }

    func skew(_ r: DepotRequest) -> Int64? {
        guard let s = r.headers[TallyHeader.clock], let deviceMs = Int64(s) else { return nil }
        return deviceMs - Int64(clock.nowMilliseconds())
    }

    func json<T: Encodable>(_ value: T, _ r: DepotRequest) throws -> DepotResponse {
        let compress = r.acceptsDeflate
        var headers = ["content-type": "application/json"]
        if compress { headers["content-encoding"] = "deflate" }
        return DepotResponse(status: 200, headers: headers, body: try WireCodec.encode(value, compress: compress))
    }

    static func error(_ e: WireError) -> DepotResponse {
        var headers = ["content-type": "application/json"]
        if e.code == WireError.storageCode { headers["retry-after"] = String(StorageFailure.retryAfter) }
        return DepotResponse(status: e.status, headers: headers, body: WireCodec.errorBody(e))
    }

    /// Why blobs were not stored: damaged on the way is the device's to send again (400), a
    /// failing disk is the depot's (`503 storage`).
    static func blobRefusal(_ error: ReplicaError) -> WireError {
        if case .invalidChange(let why) = error { return .badRequest(why) }
        return StorageFailure.wire(error, "the depot could not store the blobs")
    }

    static func wire(_ error: any Error) -> WireError {
        guard let e = error as? ReplicaError else { return StorageFailure.wire(error, "the depot could not apply the changes") }
        switch e {
        case .clockDrift(let d): return .clockDrift(d.description)
        case .schemaMismatch(let s), .invalidChange(let s): return .invalidChange("\(s); nothing from this push was stored")
        case .refused(let s): return .invalidChange(s)
        case .storage(let s): return StorageFailure.wire(reason: s)
        default: return .internalError(e.description)
        }
    }
}
