import Testing
import TallyProtocol
import TallyReplica

/// The streaming compressor and decompressor a snapshot goes through: the same format as
/// `Deflate`, whatever the pieces the bytes arrive in.
@Suite struct DeflateStreamTests {
    /// Text and incompressible bytes mixed, larger than the streams' 256 KB work buffer.
    static func payload(seed: UInt64, size: Int) -> [UInt8] {
        var g = SeededGenerator(seed: seed)
        var out: [UInt8] = []
        out.reserveCapacity(size)
        let text = Array("INSERT 单号 T11290002 卷烟 amount=92500;".utf8)
        while out.count < size {
            if g.next() % 2 == 0 { out += text } else { for _ in 0..<200 { out.append(UInt8(truncatingIfNeeded: g.next())) } }
        }
        return Array(out.prefix(size))
    }

    /// Splits bytes into pieces of random sizes (some empty).
    static func pieces(_ bytes: [UInt8], seed: UInt64, most: Int) -> [[UInt8]] {
        var g = SeededGenerator(seed: seed)
        var out: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            let n = Int(g.next() % UInt64(most + 1))
            out.append(Array(bytes[at..<min(bytes.count, at + n)]))
            at += n
        }
        return out
    }

    static func inflate(_ pieces: [[UInt8]], limit: Int = 1 << 26) throws -> (bytes: [UInt8], finished: Bool) {
        let s = InflateStream(limit: limit)
        var out: [UInt8] = []
        for p in pieces { try p.withUnsafeBytes { raw in try s.inflate(raw) { out += $0 } } }
        return (out, s.finished)
    }

    @Test("streamed compression reads back with Deflate.decompress; Deflate.compress reads back streamed", arguments: [1, 2, 3] as [UInt64])
    func roundTrips(seed: UInt64) throws {
        let data = Self.payload(seed: seed, size: 700_000 + Int(seed) * 12_345)
        let d = DeflateStream(level: 1)
        var packed: [UInt8] = []
        for p in Self.pieces(data, seed: seed, most: 300_000) { packed += d.compress(p) }
        packed += d.compress([], finish: true)
        #expect(try Deflate.decompress(packed, limit: 1 << 26) == data, "seed \(seed)")

        let whole = Deflate.compress(data)
        let back = try Self.inflate(Self.pieces(whole, seed: seed &+ 7, most: 70_000))
        #expect(back.finished && back.bytes == data, "seed \(seed)")
    }

    @Test func emptyStream() throws {
        let packed = DeflateStream().compress([], finish: true)
        let back = try Self.inflate([packed])
        #expect(back.finished && back.bytes.isEmpty)
    }

    @Test func cutShortIsNotFinished() throws {
        let whole = Deflate.compress(Self.payload(seed: 9, size: 300_000))
        let back = try Self.inflate([Array(whole.prefix(whole.count / 2))])
        #expect(!back.finished)
    }

    @Test func damagedOrTrailingBytesAreRefused() {
        var whole = Deflate.compress(Self.payload(seed: 4, size: 100_000))
        #expect(throws: DeflateError.self) { try Self.inflate([whole + [1, 2, 3]]) }
        whole[0] ^= 0xFF
        #expect(throws: DeflateError.damaged) { try Self.inflate([whole]) }
    }

    @Test func bombIsRefused() {
        let zeros = Deflate.compress([UInt8](repeating: 0, count: 5_000_000))
        #expect(throws: DeflateError.tooLarge(limit: 1_000_000)) { try Self.inflate(Self.pieces(zeros, seed: 1, most: 1_000), limit: 1_000_000) }
    }
}
