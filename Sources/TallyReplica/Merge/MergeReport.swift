/// What one `apply` did.
public struct ApplyReport: Sendable, Equatable {
    /// Changes new to this replica, now in its log and merged into its state.
    public var applied = 0
    /// Changes it already held: skipped, as sync must be idempotent.
    public var duplicates = 0
    /// Ledger rows that arrived with the same key as a stored row but other content.
    public var violations: [IntegrityViolation] = []
    /// Lattice columns that became conflicts with this batch.
    public var conflictsOpened = 0
    /// Changes naming a table or column this replica's schema does not have yet (a peer on a
    /// newer schema), kept aside whole and merged once the schema grows (`replayDeferred`).
    public var deferred = 0
    /// Changes kept aside for review, not merged (`Replica.apply(hold:)`).
    public var held = 0

    public init() {}
}

/// A ledger row re-sent with different content. Every replica keeps the same version (the
/// earliest by (hlc, site)) as the row and records the others here; nothing is overwritten
/// silently and reconciliation shows each record.
public struct IntegrityViolation: Sendable, Hashable {
    public var table: String
    public var key: String
    /// SHA-256 (hex) of the refused content in canonical form.
    public var contentHash: String
    /// The refused content.
    public var values: [ColumnValue]
    /// Who wrote the refused content, and when.
    public var site: SiteID
    public var hlc: HLC
}

/// A lattice column whose concurrent values are incomparable (say `delivered` and `refused`):
/// kept side by side, identically on every replica, for a person to resolve.
public struct ConflictRecord: Sendable, Hashable, Codable {
    public var table: String
    public var key: String
    public var column: String
    /// The incomparable values, in the order's declaration order.
    public var values: [String]
}
