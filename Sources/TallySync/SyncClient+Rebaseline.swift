import Foundation
import Logging
import TallyProtocol
import TallyReplica

/// What setting a device up again from the depot did.
public struct RebaselineSummary: Sendable, Codable, Equatable {
    /// Where the previous file was kept, untouched.
    public var previous: String
    /// Rows the new copy holds.
    public var rows: Int
}

extension SyncClient {
    /// One sync of the replica at `path`, opened for it and closed after. When the depot has
    /// compacted past this device (and nothing of its own is unacknowledged), the device is set
    /// up again from the depot and synced once more; the summary says so (`rebaselined`).
    public static func sync(path: String, options: ReplicaOptions, logger: Logger,
                            progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws(SyncError) -> SyncSummary {
        func once() async throws(SyncError) -> SyncSummary {
            let r = try local { try Replica.open(at: path, options: options) }
            defer { try? r.close() }
            return try await SyncClient(replica: r, clock: options.wallClock, logger: logger).sync(progress: progress)
        }
        // A new identity that a stopped sync was taking is finished first.
        let unfinished = try local { () throws -> RecoveryReason? in
            let r = try Replica.open(at: path, options: options)
            defer { try? r.close() }
            return try inProgress(r)?.1
        }
        func recoverAndSync(_ reason: RecoveryReason) async throws(SyncError) -> SyncSummary {
            let done = try await recover(path: path, options: options, logger: logger, reason: reason)
            var summary = try await once()
            summary.recovered = done
            return summary
        }
        if let unfinished { return try await recoverAndSync(unfinished) }
        let first: Result<SyncSummary, SyncError>
        do { first = .success(try await once()) } catch { first = .failure(error) }
        switch first {
        case .success(let s):
            return s
        case .failure(.recoveryNeeded(let reason)):
            return try await recoverAndSync(reason)
        case .failure(.rebaselineRequired(pending: 0, let held)):
            let done = try await rebaseline(path: path, options: options, logger: logger)
            var summary = try await once()
            summary.held += held
            summary.rebaselined = done
            return summary
        case .failure(let e):
            throw e
        }
    }

    /// Sets a device up again from the depot's snapshot of its scope, after the depot refused
    /// its pull as older than the history it keeps (`SyncError.rebaselineRequired`).
    ///
    /// Only once every own change has reached the depot: the new copy is the depot's state,
    /// which holds all of them (record changes written on the old copy are held there for the
    /// depot staff's review, not lost). Settings, the signing key, blobs and the clock are
    /// carried over; the previous file is kept beside, renamed, never deleted. The replica at
    /// `path` must not be open in this process.
    public static func rebaseline(path: String, options: ReplicaOptions, logger: Logger) async throws(SyncError) -> RebaselineSummary {
        let old = try local { try Replica.open(at: path, options: options) }
        let client = try SyncClient(replica: old, clock: options.wallClock, logger: logger)
        let pending = try client.pending()
        guard pending == 0 else {
            try? old.close()
            throw .rebaselineRequired(pending: pending, held: 0)
        }
        let partial = path + ".rebaseline"
        let fresh: Replica
        do {
            fresh = try await fetchSnapshot(client.client, to: partial, schema: old.schema, site: old.site, options: options)
        } catch {
            try? old.close()
            throw error
        }
        let previous = keptName(path, "before-rebaseline")
        let rows = try local {
            defer { try? fresh.close() }
            try old.checkpoint()
            try old.close()
            try fresh.carryLocalState(from: path, exceptSettings: [SyncSettings.cursor, SyncSettings.blobMark])
            try fresh.checkpoint()
            return try fresh.status().tables.reduce(0) { $0 + $1.live }
        }
        try replaceFile(path, with: partial, keepingAs: previous)
        logger.notice("set up again from the depot", metadata: ["previous": "\(previous)", "rows": "\(rows)"])
        return RebaselineSummary(previous: previous, rows: rows)
    }

    /// A name beside `path` for the file it replaces: `<path>.<what>-<time>`, with `-2`, `-3`…
    /// after it when a file of that name is already kept (two in one second).
    static func keptName(_ path: String, _ what: String) -> String {
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let base = "\(path).\(what)-\(stamp)"
        var name = base
        var n = 1
        while FileManager.default.fileExists(atPath: name) {
            n += 1
            name = "\(base)-\(n)"
        }
        return name
    }

    /// Puts the replica at `partial` in place of the one at `path`, which is kept as `previous`:
    /// kept under its second name first, then replaced in one rename, so that stopped at any
    /// point `path` holds a whole replica, old or new.
    static func replaceFile(_ path: String, with partial: String, keepingAs previous: String) throws(SyncError) {
        try local {
            if (try? FileManager.default.linkItem(atPath: path, toPath: previous)) == nil {
                try FileManager.default.copyItem(atPath: path, toPath: previous)
                try PrivateFiles.restrict(previous)
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            guard rename(partial, path) == 0 else {
                throw ReplicaError.storage("could not put the new copy in place of \(path) (error \(errno)); the previous file is kept as \(previous)")
            }
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
        }
    }
}
