/// Many blobs in one request body (`POST /v1/blobs`): for each, its SHA-256 as 64 lowercase
/// hex digits, its length as 4 bytes big-endian, then its bytes. A day's 200 signature images
/// go up in a few requests and are stored in one transaction each, instead of 200 of both.
public enum BlobBatch {
    /// How many bytes of blobs a device puts in one request: a day's images in a few requests,
    /// while the bodies a depot holds for its waiting requests stay small (64 × 1 MB).
    public static let targetBytes = 1024 * 1024

    public static func encode(_ blobs: [(hash: String, bytes: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(blobs.reduce(0) { $0 + 68 + $1.bytes.count })
        for b in blobs {
            out += Array(b.hash.lowercased().utf8)
            let n = UInt32(b.bytes.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
            out += b.bytes
        }
        return out
    }

    /// The blobs of a body, or why it is malformed. Hashes are checked against the bytes by
    /// the store, not here.
    public static func decode(_ body: [UInt8]) throws(WireError) -> [(hash: String, bytes: [UInt8])] {
        var out: [(hash: String, bytes: [UInt8])] = []
        var i = 0
        while i < body.count {
            guard body.count - i >= 68 else { throw WireError.badRequest("a blob batch ends in the middle of a blob's header; send it again") }
            let hex = body[i..<(i + 64)]
            guard hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
                throw WireError.badRequest("a blob batch names a blob by something other than 64 lowercase hex digits")
            }
            let n = body[(i + 64)..<(i + 68)].reduce(0) { $0 << 8 | Int($1) }
            i += 68
            guard n <= WireLimits.maxBlob, body.count - i >= n else {
                throw WireError.badRequest("a blob in the batch is cut short or over \(WireLimits.maxBlob) bytes; send it again")
            }
            out.append((String(decoding: hex, as: UTF8.self), Array(body[i..<(i + n)])))
            i += n
        }
        return out
    }
}
