import TallyProtocol
import TallyReplica

/// Why a sync stopped. Being offline is normal and says so calmly; a refused credential is
/// told apart, since only the depot staff can fix it.
public enum SyncError: Error, Sendable, CustomStringConvertible {
    /// The depot could not be reached; `pending` own changes stay on the device.
    case unreachable(url: String, pending: Int, reason: String)
    /// The depot cannot store anything right now (its disk is full or failing): nothing of
    /// the request was kept there, and it is no fault of the device. `pending` own changes stay
    /// on the device for a later sync.
    case depotCannotStore(url: String, pending: Int, reason: String)
    /// The depot refused the credential (unknown or revoked).
    case credentialRefused(WireError)
    /// The depot refused the request for another reason (scope, version, bad data).
    case refused(WireError)
    /// The replica is not joined to a depot.
    case notJoined(String)
    /// The depot answered something that is not this protocol.
    case protocolViolation(String)
    /// The local replica failed.
    case local(ReplicaError)
    /// Entries in this device's file no longer match their signatures: someone edited the
    /// file. The depot holds the signed originals and was told.
    case altered([String])
    /// The connection was not set up as trust requires (plain HTTP off this machine, an
    /// unreadable CA file): nothing was sent.
    case untrustedSetup(String)
    /// The depot's certificate did not verify: not signed by the CA this device trusts, for
    /// another name, or expired. Nothing was sent; someone may be in the middle.
    case certificate(url: String, reason: String)
    /// The depot compacted history this device had not seen (it was away long, or its file is
    /// an old copy): it must be set up again from the depot's snapshot (`SyncClient.rebaseline`).
    /// `pending` own changes have not reached the depot yet; `held` were held there for review.
    case rebaselineRequired(pending: Int, held: Int)
    /// This device's file no longer matches what the depot holds of it (it went back to an older
    /// copy), or its clock ran far ahead: it takes a new identity (`SyncClient.recover`).
    case recoveryNeeded(RecoveryReason)
    /// This device's clock is far from the depot's right now: nothing was sent.
    case clockWrong(deviceMilliseconds: UInt64, depotMilliseconds: UInt64)

    public var description: String {
        switch self {
        case .unreachable(let url, let pending, _):
            pending == 0
                ? "depot unreachable at \(url); nothing is waiting on this device; try again when the depot can be reached"
                : "depot unreachable at \(url); \(pending) change\(pending == 1 ? " is" : "s are") kept on this device and will sync later"
        case .depotCannotStore(let url, let pending, let reason):
            "the depot at \(url) cannot store anything right now, so "
                + (pending == 0 ? "nothing was sent" : "\(pending) change\(pending == 1 ? " is" : "s are") kept on this device")
                + " and will sync later; tell the depot staff if it lasts (the depot said: \(reason))"
        case .credentialRefused(let e): e.message
        case .refused(let e): "the depot refused: \(e.message)"
        case .notJoined(let path): "\(path) is not joined to a depot; run `tally join URL --credential TOKEN --replica \(path)` first"
        case .protocolViolation(let s): "the depot's answer was not understood (\(s)); check the URL points at a Tally depot"
        case .local(let e): e.description
        case .untrustedSetup(let s): s
        case .rebaselineRequired(let pending, _) where pending > 0:
            "this device's copy is older than the history the depot keeps, and \(pending) of its changes have not reached the depot; "
                + "nothing was changed on the device: tell the depot staff (its audit log says why the changes were refused)"
        case .rebaselineRequired:
            "this device's copy is older than the history the depot keeps; run `tally sync` again to set it up from the depot "
                + "(everything it recorded is at the depot)"
        case .recoveryNeeded(let reason):
            "\(reason.explanation); run `tally sync` again to set the device up again from the depot (nothing it recorded is lost)"
        case .clockWrong(let device, let depot):
            "this device's clock is \(SyncError.span(device, depot)) \(device > depot ? "ahead of" : "behind") the depot's; nothing was sent: "
                + "set the device's date and time right, then run `tally sync` again (what it recorded stays on it)"
        case .certificate(let url, let reason):
            "the depot at \(url) showed a certificate this device does not trust (\(reason)); nothing was sent. "
                + "If the depot made its own certificate, join with --ca FILE (its ca.pem from the depot staff); otherwise someone may be between this device and the depot"
        case .altered(let details):
            "this device's file was edited after entries were signed, and the depot was told: \(details.joined(separator: "; ")). The depot keeps the signed originals; hand the device to the depot staff"
        }
    }
}

extension SyncError {
    /// "3 h 12 min", "2 days": how far apart two clocks are, in words a driver reads.
    static func span(_ a: UInt64, _ b: UInt64) -> String {
        let s = (a > b ? a - b : b - a) / 1000
        if s >= 2 * 86_400 { return "\(s / 86_400) days" }
        if s >= 3_600 { return "\(s / 3_600) h \((s % 3_600) / 60) min" }
        if s >= 60 { return "\(s / 60) min" }
        return "\(s) s"
    }
}

/// Why a device takes a new identity (`SyncClient.recover`).
public enum RecoveryReason: String, Sendable, Codable, Equatable {
    /// The depot holds changes of this device that its file lacks, or holds other content under
    /// numbers the file reuses: the file went back to an older copy (restored, a lost `-wal`).
    case fileWentBack = "file_went_back"
    /// Its own changes are stamped far ahead of the depot's clock (the clock was wrong when
    /// they were made, and is right now).
    case clockAhead = "clock_ahead"
    /// The depot binds the device to an identity it left (restored from a backup taken
    /// before the device's last new identity): what the backup lacks is recorded again.
    case depotRestored = "depot_restored"

    public var explanation: String {
        switch self {
        case .fileWentBack: "this device's file is older than what the depot holds of it (restored from a copy, or part of it lost)"
        case .clockAhead: "entries on this device were stamped with a clock far ahead of the depot's"
        case .depotRestored: "the depot was restored from a backup taken before this device was last set up again"
        }
    }
}
