extension Replica {
    /// Merges changes from other replicas, in one transaction.
    ///
    /// Idempotent and order-independent: changes already held are skipped, and the merge rules
    /// commute. The whole batch is checked first: a change naming an unknown table or column, a
    /// malformed one, or one stamped too far in the future refuses the whole batch and nothing
    /// changes. A ledger row re-sent with other content is not an error of the batch: it is
    /// recorded as an integrity violation (see `ApplyReport.violations`) and the rest applies,
    /// because the other rows are good and holding them back would only delay them.
    ///
    /// `trustClocks` skips the drift bound, for changes a trusted peer (the depot) already
    /// checked against its own clock: a device whose clock runs slow must still take them.
    ///
    /// `deferUnknown` is for a device pulling from a depot whose schema is newer: instead of
    /// refusing the batch, a change naming a table or column this replica lacks is kept aside
    /// (`ApplyReport.deferred`), with its known columns of a record row merged now, and merged
    /// whole once this replica's schema has grown (`replayDeferred`).
    ///
    /// `hold` names the changes to keep aside for review instead of merging (it returns the
    /// reason): they count as received but change nothing until released (`releaseHeld`).
    @discardableResult
    public func apply(_ changes: some Collection<Change>, trustClocks: Bool = false, deferUnknown: Bool = false,
                      hold: ((Change) -> String?)? = nil) throws(ReplicaError) -> ApplyReport {
        if changes.isEmpty { return ApplyReport() }
        return try withWrite { db, engine in
            var resolved: [ResolvedChange] = []
            resolved.reserveCapacity(changes.count)
            var newest = HLC.zero
            var report = ApplyReport()
            var held: [Int: Set<UInt64>] = [:]
            let now = hold == nil ? "" : HeldChange.time(engine.clock.wall.nowMilliseconds())
            for c in changes {
                newest = max(newest, c.hlc)
                if let reason = hold?(c) {
                    if let site = try engine.hold(db, c, reason: reason, at: now) {
                        report.held += 1
                        held[site, default: []].insert(c.seq)
                    } else {
                        report.duplicates += 1
                    }
                    continue
                }
                if deferUnknown {
                    switch engine.unknownParts(of: c) {
                    case .none:
                        break
                    case .whole:
                        try Self.keepDeferred(db, c, partial: false)
                        report.deferred += 1
                        continue
                    case .partial(let known):
                        try Self.keepDeferred(db, c, partial: true)
                        report.deferred += 1
                        resolved.append(try engine.resolve(known, checkDrift: !trustClocks))
                        continue
                    }
                }
                resolved.append(try engine.resolve(c, checkDrift: !trustClocks))
            }
            try engine.ingest(resolved, report: &report)
            for (site, seqs) in held { try engine.advanceContiguous(site: site, newSeqs: seqs) }
            // Our own changes coming back (say, after restoring this file from a backup) move
            // our sequence on, so new local writes never reuse a number.
            if trustClocks { engine.clock.absorb(newest) } else { try engine.clock.receive(newest) }
            try engine.saveClock()
            if !report.violations.isEmpty {
                logger.warning("ledger integrity violations", metadata: ["count": "\(report.violations.count)"])
            }
            return report
        }
    }
}
