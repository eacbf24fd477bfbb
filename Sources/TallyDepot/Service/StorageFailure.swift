import Foundation
import GRDB
import TallyProtocol
import TallyReplica

/// A failure of the depot's own disk or database: full, read-only, failing, locked by another
/// program, damaged. Never the device's fault, so never answered as its bad request or as an
/// unexplained 500: every endpoint answers it `503 storage` with `Retry-After`, and the device
/// keeps its changes for a later sync.
///
/// Recognised by type and code (SQLite result codes, POSIX errno, Foundation file errors),
/// never by the words of a message.
enum StorageFailure {
    /// Seconds a device is asked to wait: a full disk needs a person, not a quick retry.
    static let retryAfter = 60

    /// What failed, in words, when `error` is a failure of the depot's storage; nil otherwise.
    static func reason(_ error: any Error) -> String? {
        switch error {
        case let e as ReplicaError:
            if case .storage(let why) = e { return why }
            return nil
        case let e as DatabaseError:
            return reason(sqlite: e)
        default:
            return reason(file: error as NSError)
        }
    }

    /// `error` as the device is told: a storage failure as `503 storage`, anything else as an
    /// internal error under `context` (what the depot was doing).
    static func wire(_ error: any Error, _ context: String) -> WireError {
        if let e = error as? WireError { return e }
        if let why = reason(error) { return wire(reason: why) }
        return .internalError("\(context): \(error); try again, and tell the depot staff if it persists")
    }

    /// The answer for a storage failure, in words for the device.
    static func wire(reason why: String) -> WireError {
        .storage("the depot cannot store anything right now: \(why). Nothing from this request was kept there; "
            + "the device keeps its changes and syncs later")
    }

    /// SQLite result codes that mean the file or the disk, not the statement.
    private static func reason(sqlite e: DatabaseError) -> String? {
        switch e.resultCode {
        case .SQLITE_FULL: "the depot's disk is full"
        case .SQLITE_IOERR, .SQLITE_NOLFS: "the depot's disk failed to read or write (\(e.message ?? "I/O error"))"
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: "the depot's data cannot be written (\(e.message ?? "read-only"))"
        case .SQLITE_BUSY, .SQLITE_LOCKED: "the depot's data is locked by another program"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: "the depot's data file is damaged"
        case .SQLITE_NOMEM: "the depot is out of memory"
        default: nil
        }
    }

    /// errno values and Foundation file errors that mean the disk (a snapshot being built,
    /// a scratch folder), looking through underlying errors.
    private static func reason(file e: NSError) -> String? {
        if e.domain == NSPOSIXErrorDomain {
            switch Int32(e.code) {
            case ENOSPC, EDQUOT, EFBIG: return "the depot's disk is full"
            case EROFS: return "the depot's disk is read-only"
            case EIO: return "the depot's disk failed to read or write"
            default: break
            }
        }
        if e.domain == NSCocoaErrorDomain {
            switch CocoaError.Code(rawValue: e.code) {
            case .fileWriteOutOfSpace: return "the depot's disk is full"
            case .fileWriteVolumeReadOnly: return "the depot's disk is read-only"
            default: break
            }
        }
        if let under = e.userInfo[NSUnderlyingErrorKey] as? NSError { return reason(file: under) }
        return nil
    }
}
