extension Replica {
    /// Pulls every change `other` holds that this replica lacks and merges it here: the
    /// simplest sync, and a real one for a replica file handed over on a USB stick.
    ///
    /// Works in pages of `batchSize` changes, one transaction each, so memory stays bounded and
    /// an interruption keeps every page already merged; running it again resumes.
    @discardableResult
    public func merge(from other: Replica, batchSize: Int = 10_000) throws(ReplicaError) -> ApplyReport {
        var total = ApplyReport()
        while true {
            let page = try other.changes(since: versionVector(), limit: batchSize)
            if page.isEmpty { break }
            let r = try apply(page)
            total.applied += r.applied
            total.duplicates += r.duplicates
            total.violations += r.violations
            total.conflictsOpened += r.conflictsOpened
            // A page of pure duplicates means the rest lies above a gap we already hold.
            if r.applied == 0 && page.count < batchSize { break }
            if r.applied == 0 {
                // Every change of this page was held already: skip past it by asking for all of
                // it at once (rare: only after a gap was filled out of order).
                let rest = try other.changes(since: versionVector())
                let r2 = try apply(rest)
                total.applied += r2.applied
                total.duplicates += r2.duplicates
                total.violations += r2.violations
                total.conflictsOpened += r2.conflictsOpened
                break
            }
        }
        return total
    }
}
