import Foundation
import Logging
import TallyProtocol
import TallyReplica
import TallyRoutes

/// What taking a new identity did (`SyncClient.recover`).
public struct RecoverySummary: Sendable, Codable, Equatable {
    public var reason: RecoveryReason
    /// The site the device writes as from now on.
    public var site: String
    /// Own changes the depot did not hold, written again under the new identity.
    public var replayed: Int
    /// Own changes not written again: a status the depot's copy had already moved past.
    public var skipped: Int
    /// Where the previous file was kept, untouched.
    public var previous: String
}

extension SyncClient {
    /// Sets the device up again under a new identity (a new site id) when its file no longer
    /// matches what the depot holds of it, without losing anything it recorded:
    ///
    /// 1. every own change the depot has not acknowledged to this file is read from it;
    /// 2. the depot binds the device's credential to the new site (`JoinRequest.replaces`,
    ///    audited as `device_recovered`); what the old identity pushed stays there;
    /// 3. a snapshot of the device's scope (with everything the depot holds of it) becomes the
    ///    new file, with the old file's settings, key, blobs and (unless it ran ahead) clock;
    /// 4. the changes read in 1 are written again as new local writes: ledger entries the depot
    ///    lacks are sealed anew after the device's chain head at the depot (same id and content,
    ///    a new place in the chain), record changes set their values again (from a file put back
    ///    past a later identity, only where nothing was written after them: `upsertIfNewer`);
    /// 5. the previous file is kept beside (`<file>.before-recovery-<time>`) and the new one
    ///    takes its place in one rename.
    ///
    /// The new site is noted in the old file before the depot is told, so a recovery stopped at
    /// any point goes on with the same site at the next sync. The replica at `path` must not be
    /// open in this process.
    public static func recover(path: String, options: ReplicaOptions, logger: Logger,
                               reason suggested: RecoveryReason) async throws(SyncError) -> RecoverySummary {
        let old = try local { try Replica.open(at: path, options: options) }
        var closed = false
        defer { if !closed { try? old.close() } }
        let (site, reason) = try local { () throws -> (SiteID, RecoveryReason) in
            if let (s, r) = try inProgress(old) { return (s, r) }
            let s = SiteID.random()
            try old.setSettings([SyncSettings.recovering: "\(s.hex) \(suggested.rawValue)"])
            return (s, suggested)
        }
        let client = try SyncClient(replica: old, clock: options.wallClock, logger: logger)
        let key = try local { try DeviceKey.stored(in: old) }
        let device = try local { try old.setting(SyncSettings.device) }
        // The identity the depot binds now: the file's own, or (the file went back past a new
        // identity, or the depot was restored from before one) another of this device's.
        let hello = try await client.client.hello(meter: .init())
        let bound = hello?.site.flatMap(SiteID.init(hex:)) ?? old.site
        // Bound elsewhere, the depot's acknowledgement of this file's site says nothing of what
        // it holds now: every own change is written again unless the depot's copy has it.
        let acknowledged = try local { try client.ack() }
        let from = bound == old.site ? min(acknowledged, hello?.ack ?? acknowledged) : 0
        let replay = try local { try old.ownChanges(after: from, limit: .max) }
        // And every entry this device ever recorded, under any identity (a restored depot may
        // lack entries of an identity the file no longer writes as).
        let entries = try local { try device.map { try old.rows(EventChain.table, where: "device", is: .text($0)) } ?? [] }
        let left = try local { try old.setting(SyncSettings.previousSites) }.map { $0 + " " } ?? ""
        _ = try await client.client.post("/v1/join", JoinRequest(site: site, publicKey: key?.publicKey, replaces: bound, reason: reason.rawValue),
                                         as: JoinResponse.self, meter: .init())
        let partial = path + ".recover"
        let fresh = try await fetchSnapshot(client.client, to: partial, schema: old.schema, site: site, options: options)
        // The file's clock is carried over unless it runs ahead of the depot's (whatever the
        // reason for this recovery: a file gone back may also hold a stamp from a wrong clock).
        let stamped = try local { try old.clockValue() }.milliseconds
        let carryClock = reason != .clockAhead && hello.map { stamped <= $0.time + HybridClock.defaultMaxDrift } ?? true
        let previous = keptName(path, "before-recovery")
        let (replayed, skipped) = try local { () throws -> (Int, Int) in
            defer { try? fresh.close() }
            try old.checkpoint()
            try old.close()
            closed = true
            try fresh.carryLocalState(from: path, exceptSettings: [SyncSettings.cursor, SyncSettings.blobMark, SyncSettings.ack,
                                                                   SyncSettings.recovering, EventChain.headSetting],
                                      otherSite: true, clock: carryClock)
            let head = try device.flatMap { try EventChain.currentHead(of: $0, in: fresh) }
            let counts = try fresh.write { tx in
                // A file put back past a later identity holds changes the depot has long had and
                // seen written over: those must not win again. (Elsewhere the replayed changes are
                // ones the depot lacks: they are written as they were.)
                // Only its changes the depot acknowledged to it are such; later ones are new.
                let keepLater: UInt64? = bound != old.site && reason == .fileWentBack ? acknowledged : nil
                var (written, skipped) = try Self.replay(replay, into: tx, schema: fresh.schema, head: head, key: key, keepLaterUpTo: keepLater)
                written += try Self.recordAgain(entries, into: tx, key: key)
                return (written, skipped)
            }
            try fresh.setSettings([SyncSettings.previousSites: left + old.site.hex])
            try fresh.checkpoint()
            return counts
        }
        try replaceFile(path, with: partial, keepingAs: previous)
        logger.notice("took a new identity", metadata: ["reason": "\(reason.rawValue)", "site": "\(site.hex)", "replayed": "\(replayed)",
                                                       "previous": "\(previous)"])
        return RecoverySummary(reason: reason, site: site.hex, replayed: replayed, skipped: skipped, previous: previous)
    }

    /// The new identity a recovery stopped half-way was taking, if any.
    static func inProgress(_ replica: Replica) throws -> (SiteID, RecoveryReason)? {
        guard let text = try replica.setting(SyncSettings.recovering) else { return nil }
        let parts = text.split(separator: " ").map(String.init)
        guard parts.count == 2, let site = SiteID(hex: parts[0]), let reason = RecoveryReason(rawValue: parts[1]) else { return nil }
        return (site, reason)
    }

    /// Seals again, after the device's chain head, the entries of `rows` the depot's copy lacks
    /// (same id and content, a new place in the chain); returns how many.
    static func recordAgain(_ rows: [Row], into tx: WriteTransaction, key: DeviceKey?) throws -> Int {
        var written = 0
        for row in rows where row.isLive {
            if try tx.row(row.table, key: row.key)?.isLive == true { continue }
            var values: [String: Value] = [:]
            for v in row.values where !EventChain.sealColumns.contains(v.column) && v.value != .null { values[v.column] = v.value }
            try EventChain.insert(tx, id: row.key, values, key: key)
            written += 1
        }
        return written
    }

    /// Writes `changes` again as this replica's own, in their order; returns how many were
    /// written and how many passed over (nothing left to say).
    static func replay(_ changes: [Change], into tx: WriteTransaction, schema: Schema, head: String?, key: DeviceKey?,
                       keepLaterUpTo: UInt64? = nil) throws -> (Int, Int) {
        if let head { try EventChain.resume(tx, after: head) }
        let ledgers = Set(schema.tables.filter { $0.kind == .ledger }.map(\.name))
        var written = 0
        var skipped = 0
        for c in changes {
            var values: [String: Value] = [:]
            for v in c.values { values[v.column] = v.value }
            if ledgers.contains(c.table), try tx.row(c.table, key: c.key)?.isLive == true {
                continue  // the depot holds this entry: it came with the snapshot
            }
            if c.table == EventChain.table {
                for name in EventChain.sealColumns { values.removeValue(forKey: name) }
                try EventChain.insert(tx, id: c.key, values, key: key)
                written += 1
            } else if ledgers.contains(c.table) {
                try tx.insert(c.table, key: c.key, values)
                written += 1
            } else if c.isDelete {
                if try tx.row(c.table, key: c.key)?.isLive == true { try tx.delete(c.table, key: c.key); written += 1 } else { skipped += 1 }
            } else {
                let write = { () throws(ReplicaError) -> Bool in
                    c.seq <= (keepLaterUpTo ?? 0) ? try tx.upsertIfNewer(c.table, key: c.key, values, written: c.hlc)
                        : try tx.upsertIfChanged(c.table, key: c.key, values)
                }
                switch Result(catching: write) {
                case .success(let changed): if changed { written += 1 } else { skipped += 1 }
                case .failure(.refused): skipped += 1  // a status the depot's copy moved past: nothing to say again
                case .failure(.ownedByDepot): skipped += 1  // the depot would refuse it anyway: it decides that column
                case .failure(let e): throw e
                }
            }
        }
        return (written, skipped)
    }
}
