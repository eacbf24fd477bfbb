/// What a device may do.
public enum DeviceRole: String, Codable, Sendable, CaseIterable {
    /// A delivery van: reads and writes its own route's rows only.
    case van
    /// A service window: reads and writes its own window's rows only.
    case window
    /// An accountant: reads everything, settles days.
    case accountant
}

/// A device enrolled at the depot.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public var name: String
    /// The public part of the credential, used to find the device.
    public var id: String
    public var role: DeviceRole
    /// A van's route, or a window's kind.
    public var scope: String?
    /// The replica site id the device joined with.
    public var site: String?
    public var enrolledAt: String
    public var revokedAt: String?
    public var lastSyncAt: String?
    /// How far the device's clock was ahead (+) or behind (−) the depot's at its last sync, ms.
    public var lastSkewMs: Int64?
    /// The Ed25519 public key (hex) the device registered at its join; its ledger entries are
    /// verified against it. Nil for a device joined before keys.
    public var publicKey: String?

    public var isRevoked: Bool { revokedAt != nil }
}

/// Audit actions that other commands look for.
public enum AuditAction {
    /// A push refused for an entry that does not match its signature.
    public static let refusedSignature = "refused_signature"
    /// A push refused for writing what the order system decides (`Writer.depot`).
    public static let refusedDepotOwned = "refused_depot_owned"
    /// A device reporting entries of its own file that no longer match their signatures.
    public static let tamperReported = "tamper_reported"
    /// Record changes of a device writing from a copy older than the compacted history, held.
    public static let heldForReview = "held_for_review"
    /// A held change applied by the depot staff.
    public static let released = "quarantine_released"
    /// A held change dropped by the depot staff.
    public static let discarded = "quarantine_discarded"
    /// A push numbering a change like one the depot holds with other content, refused.
    public static let sequenceReused = "sequence_reused"
    /// A device that took a new identity (its file went back, or its clock ran ahead).
    public static let recovered = "device_recovered"
    /// A pull cursor past what the depot ever held, under the depot's own epoch, refused.
    public static let refusedCursor = "refused_cursor"
    /// A device asking for an image (a signature, a slip) no row it may see names.
    public static let refusedBlobRead = "refused_blob_read"
}

/// One line of the depot's audit log: refused writes, enrolments, revocations.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var at: String
    public var device: String
    public var action: String
    public var detail: String
}
