/// The canonical byte form of rows and values that the state digest and ledger content hashes
/// are computed over; specified in `Protocol/DIGEST.md` so other implementations can match it.
///
/// - string: u32 big-endian byte length, then UTF-8
/// - value: 0x00 (null) | 0x01 + i64 big-endian | 0x02 + string | 0x03 + u32 length + bytes
struct CanonicalBytes {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    mutating func tag(_ t: Character) { bytes.append(t.asciiValue!) }  // safe: only ASCII tags are passed

    mutating func u32(_ v: Int) {
        let v = UInt32(truncatingIfNeeded: v)
        bytes.append(UInt8(truncatingIfNeeded: v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { buf in
            u32(buf.count)
            bytes.append(contentsOf: buf)
        }
    }

    mutating func value(_ v: Value) {
        switch v {
        case .null: bytes.append(0)
        case .integer(let x):
            bytes.append(1)
            let u = UInt64(bitPattern: x)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
        case .text(let s):
            bytes.append(2)
            string(s)
        case .blob(let b):
            bytes.append(3)
            u32(b.count)
            bytes.append(contentsOf: b)
        }
    }

    mutating func raw(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }
}
