/// Compact binary encoding of the values a change sets, as stored in the change log: for each
/// column, its index in the table's schema (a varint), a type tag, then the value.
/// Binary rather than JSON because merges write one log row per change.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }

    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    mutating func value(_ v: Value) {
        switch v {
        case .null: bytes.append(0)
        case .integer(let x):
            bytes.append(1)
            varint(UInt64(bitPattern: (x << 1) ^ (x >> 63)))  // zigzag
        case .text(let s):
            bytes.append(2)
            var s = s
            s.withUTF8 { buf in
                varint(UInt64(buf.count))
                bytes.append(contentsOf: buf)
            }
        case .blob(let b):
            bytes.append(3)
            varint(UInt64(b.count))
            bytes.append(contentsOf: b)
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func varint() throws(ReplicaError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count, shift < 64 else { throw ReplicaError.storage("a change-log entry is damaged (bad varint)") }
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    mutating func take(_ n: Int) throws(ReplicaError) -> ArraySlice<UInt8> {
        guard n >= 0, offset + n <= bytes.count else { throw ReplicaError.storage("a change-log entry is damaged (truncated)") }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func value() throws(ReplicaError) -> Value {
        let tag = try take(1).first!  // safe: take(1) returned one byte
        switch tag {
        case 0: return .null
        case 1:
            let z = try varint()
            return .integer(Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        case 2:
            let n = Int(try varint())
            return .text(String(decoding: try take(n), as: UTF8.self))
        case 3:
            let n = Int(try varint())
            return .blob(Array(try take(n)))
        default:
            throw ReplicaError.storage("a change-log entry is damaged (unknown value tag \(tag))")
        }
    }
}
