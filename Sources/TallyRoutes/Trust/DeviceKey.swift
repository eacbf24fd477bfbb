import Crypto
import TallyReplica

/// A device's Ed25519 signing key, made at `tally join` and kept in its replica file; the
/// public half is registered with the depot under the device's credential. Every ledger entry
/// the device writes is signed with it (`EventChain`).
public struct DeviceKey: Sendable {
    let key: Curve25519.Signing.PrivateKey

    /// A new key from the system's secure random source.
    public static func generate() -> DeviceKey { DeviceKey(key: Curve25519.Signing.PrivateKey()) }

    /// The key a replica holds, if it joined with one.
    public static func stored(in replica: Replica) throws -> DeviceKey? {
        guard let hex = try replica.setting(Self.setting), let raw = Hex.bytes(hex),
              let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else { return nil }
        return DeviceKey(key: k)
    }

    /// Keeps the key in the replica (and its public half beside, for offline checks).
    public func store(in replica: Replica) throws {
        try replica.setSettings([Self.setting: Hex.string(key.rawRepresentation), Self.publicSetting: publicKey])
    }

    /// The public key, hex: what the depot registers and what verifies the device's entries.
    public var publicKey: String { Hex.string(key.publicKey.rawRepresentation) }

    /// The Ed25519 signature of `bytes`, hex.
    public func sign(_ bytes: [UInt8]) throws -> String { Hex.string(try key.signature(for: bytes)) }

    static let setting = "sync.signing_key"
    /// The device's own public key, as registered.
    public static let publicSetting = "sync.public_key"
}

/// Each device's entries form one chain: entry n carries `chain` = n and `prev` = the hash of
/// entry n − 1's signed bytes (`SignedEvent.genesis` for the first), and is signed. Removing,
/// reordering or altering an entry after the fact breaks a link or a signature.
public enum EventChain {
    static let head = "chain.head"

    /// The signed ledger table.
    public static let table = "events"

    /// Inserts a ledger entry, sealed first when the device has a key: how every tool that
    /// writes an entry on a device writes it.
    @discardableResult
    public static func insert(_ tx: WriteTransaction, id: String, _ row: [String: Value], key: DeviceKey?) throws -> Bool {
        var row = row
        if let key { try seal(tx, id: id, &row, key: key) }
        return try tx.insert(table, key: id, row)
    }

    /// Numbers, links and signs an entry about to be inserted, in the same transaction that
    /// inserts it (the chain head moves with it, or not at all).
    public static func seal(_ tx: WriteTransaction, id: String, _ row: inout [String: Value], key: DeviceKey) throws {
        var n: Int64 = 1
        var prev = SignedEvent.genesis
        if let h = try tx.setting(head) {
            let parts = h.split(separator: " ")
            if parts.count == 2, let last = Int64(parts[0]) {
                n = last + 1
                prev = String(parts[1])
            }
        }
        row["chain"] = .integer(n)
        row["prev"] = .text(prev)
        let bytes = SignedEvent.bytes(id: id, row)
        row["sig"] = .text(try key.sign(bytes))
        try tx.setSetting(head, "\(n) \(SignedEvent.hash(bytes))")
    }
}
