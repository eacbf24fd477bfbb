import Crypto
import TallyReplica

/// The exact bytes a device signs for one ledger entry (`Protocol/SIGNING.md`), its hash, and
/// the signature checks. Written out by hand so a third party can check an entry without Tally.
///
/// ```
/// TALLY-EVENT-1\n
/// then, for the entry's id and each signed column in `SignedEvent.columns` order:
/// <name>=-\n                     a NULL
/// <name>=i<decimal>\n            an integer
/// <name>=t<byte count>:<UTF-8>\n a text
/// ```
public enum SignedEvent {
    public static let magic = "TALLY-EVENT-1\n"
    /// The columns signed, in order, after `id`: every column of `events` but `sig`.
    public static let columns = ["route", "ticket", "kind", "amount", "device", "at", "ref", "day", "product", "qty", "due", "reason",
                                 "note", "detail", "hash", "window", "chain", "prev"]
    /// `prev` of a device's first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The signed bytes of an entry: its id and column values (missing = NULL).
    public static func bytes(id: String, _ values: [String: Value]) -> [UInt8] {
        build(id: id) { _, c in values[c] ?? .null }
    }

    /// The signed bytes of a stored entry: `bytes(id:columns:)` of its values.
    public static func bytes(of row: Row) -> [UInt8] { bytes(id: row.key, columns: row.values) }

    /// `bytes(id:_:)` of column values as a row or a change lists them (missing = NULL): taken
    /// by position while they follow the signed order (as the table declares its columns), by
    /// name otherwise. No dictionary: the depot does this for every entry of every push.
    public static func bytes(id: String, columns values: [ColumnValue]) -> [UInt8] {
        build(id: id) { i, c in
            i < values.count && values[i].column == c ? values[i].value : (values.first { $0.column == c }?.value ?? .null)
        }
    }

    /// The magic line, the id, then each signed column's value (`value(index, name)`), appended
    /// in place.
    private static func build(id: String, _ value: (Int, String) -> Value) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(384)
        out.append(contentsOf: magic.utf8)
        field("id", .text(id), into: &out)
        for (i, c) in columns.enumerated() { field(c, value(i, c), into: &out) }
        return out
    }

    /// `name=` then `-` (NULL), `i<decimal>` or `t<length>:<UTF-8>`, then a newline.
    private static func field(_ name: String, _ v: Value, into out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: "="))
        switch v {
        case .null:
            out.append(UInt8(ascii: "-"))
        case .integer(let i):
            out.append(UInt8(ascii: "i"))
            out.append(contentsOf: String(i).utf8)
        case .text(let t):
            out.append(UInt8(ascii: "t"))
            out.append(contentsOf: String(t.utf8.count).utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: t.utf8)
        case .blob(let b):  // no signed column holds one
            out.append(UInt8(ascii: "b"))
            out.append(contentsOf: String(b.count).utf8)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: b)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// The entry's hash: SHA-256 of its signed bytes, lowercase hex. The next entry's `prev`.
    public static func hash(_ bytes: [UInt8]) -> String { BlobHash.sha256Hex(bytes) }

    /// Whether `sig` (hex) is the Ed25519 signature of `bytes` by `publicKey` (hex).
    public static func verify(_ bytes: [UInt8], sig: String, publicKey: String) -> Bool {
        guard let k = Hex.bytes(publicKey), let s = Hex.bytes(sig), s.count == 64,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: k) else { return false }
        return key.isValidSignature(s, for: bytes)
    }

    /// Whether a stored entry carries a signature of its own bytes by `publicKey`.
    public static func verify(row: Row, publicKey: String) -> Bool {
        guard let sig = row["sig"].text else { return false }
        return verify(bytes(of: row), sig: sig, publicKey: publicKey)
    }
}
