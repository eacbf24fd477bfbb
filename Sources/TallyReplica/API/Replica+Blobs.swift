import Crypto
import Foundation
import GRDB

/// Content-addressed blobs (signature images, photos): stored once under their SHA-256, synced
/// apart from changes, referenced from rows by hash.
extension Replica {
    /// Stores bytes and returns their SHA-256 in hex. Storing the same bytes again is a no-op.
    @discardableResult
    public func putBlob(_ bytes: [UInt8]) throws(ReplicaError) -> String {
        let hash = Array(SHA256.hash(data: bytes))
        try withWrite { db, _ in try Self.insertBlob(db, hash: hash, bytes) }
        return BlobHash.hex(hash)
    }

    /// Stores bytes received for a hash, after checking that they hash to it.
    public func putBlob(_ bytes: [UInt8], expecting hash: String) throws(ReplicaError) {
        try putBlobs([(hash, bytes)])
    }

    /// Stores many blobs received for their hashes in one transaction (one commit for a
    /// device's day of signature images, not one each), after checking every one: a damaged
    /// blob refuses them all and nothing is stored.
    public func putBlobs(_ blobs: [(hash: String, bytes: [UInt8])]) throws(ReplicaError) {
        var checked: [(hash: [UInt8], bytes: [UInt8])] = []
        for b in blobs {
            let actual = Array(SHA256.hash(data: b.bytes))
            guard BlobHash.hex(actual) == b.hash.lowercased() else {
                throw ReplicaError.invalidChange("blob \(b.hash.prefix(12))… arrived damaged (its bytes hash to \(BlobHash.hex(actual).prefix(12))…); send or fetch it again")
            }
            checked.append((actual, b.bytes))
        }
        try withWrite { db, _ in
            for b in checked { try Self.insertBlob(db, hash: b.hash, b.bytes) }
        }
    }

    private static func insertBlob(_ db: Database, hash: [UInt8], _ bytes: [UInt8]) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO tally_blobs(hash, size, data) VALUES (?, ?, ?)")
            .execute(arguments: [Data(hash), bytes.count, Data(bytes)])
    }

    public func blob(_ hash: String) throws(ReplicaError) -> [UInt8]? {
        guard let h = BlobHash.bytes(hash) else { return nil }
        return try withRead { db, _ in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT data FROM tally_blobs WHERE hash = ?"), arguments: [Data(h)]).map { Array($0) }
        }
    }

    public func hasBlob(_ hash: String) throws(ReplicaError) -> Bool {
        guard let h = BlobHash.bytes(hash) else { return false }
        return try withRead { db, _ in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM tally_blobs WHERE hash = ?)"), arguments: [Data(h)]) ?? false
        }
    }

    /// The hashes of the list that this replica does not hold, in the list's order, once each.
    public func missingBlobs(of hashes: [String]) throws(ReplicaError) -> [String] {
        try withRead { db, _ in
            var seen = Set<String>()
            var out: [String] = []
            let s = try RawStatement(db, "SELECT 1 FROM tally_blobs WHERE hash = ?")
            for h in hashes {
                let lower = h.lowercased()
                guard seen.insert(lower).inserted else { continue }
                guard let bytes = BlobHash.bytes(lower) else { out.append(lower); continue }
                s.reset()
                s.bind(1, bytes: bytes)
                if try !s.step() { out.append(lower) }
                s.reset()
            }
            return out
        }
    }
}

/// Hex forms of SHA-256 hashes.
public enum BlobHash {
    /// SHA-256 of bytes.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// SHA-256 of bytes in lowercase hex: how rows name blobs.
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(sha256(bytes)) }

    public static func hex(_ bytes: [UInt8]) -> String { Hex.string(bytes) }

    /// The 32 bytes of a SHA-256 written in hex; nil for anything else.
    public static func bytes(_ hex: String) -> [UInt8]? {
        hex.utf8.count == 64 ? Hex.bytes(hex) : nil
    }
}

extension Replica {
    /// Blobs stored after a mark, in storing order, with the mark to resume from: how a device
    /// finds the blobs it has not yet offered to the depot.
    public func blobs(after mark: Int64, limit: Int) throws(ReplicaError) -> [(mark: Int64, hash: String, size: Int)] {
        try withRead { db, _ in
            try Row_.fetchAll(db, sql: "SELECT rowid, hash, size FROM tally_blobs WHERE rowid > ? ORDER BY rowid LIMIT ?", arguments: [mark, limit]).map {
                (mark: $0[0], hash: BlobHash.hex(Array($0[1] as Data)), size: $0[2])
            }
        }
    }
}

/// Lowercase hex of bytes, and back (either case accepted).
public enum Hex {
    public static func string(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (i, b) in bytes.enumerated() {
                out[2 * i] = digits[Int(b >> 4)]
                out[2 * i + 1] = digits[Int(b & 0x0F)]
            }
            return bytes.count * 2
        }
    }

    public static func string(_ data: some Sequence<UInt8>) -> String { string(Array(data)) }

    /// The bytes of a hex string; nil when its length is odd or a character is not a hex digit.
    public static func bytes(_ hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out = [UInt8](repeating: 0, count: u.count / 2)
        for i in 0..<out.count {
            guard let hi = nibble(u[2 * i]), let lo = nibble(u[2 * i + 1]) else { return nil }
            out[i] = hi << 4 | lo
        }
        return out
    }
}
