import Testing
@testable import TallyProtocol

@Suite struct DeflateTests {
    let sample: [UInt8] = Array(String(repeating: #"{"table":"events","key":"E-0001","values":{"kind":"cash","amount":45000}}"#, count: 200).utf8)

    @Test func roundTrip() throws {
        let packed = Deflate.compress(sample)
        #expect(packed.count < sample.count / 10)
        #expect(try Deflate.decompress(packed, limit: 1 << 20) == sample)
    }

    @Test func emptyInput() throws {
        #expect(try Deflate.decompress(Deflate.compress([]), limit: 10) == [])
    }

    @Test func truncatedIsRefused() {
        let packed = Deflate.compress(sample)
        #expect(throws: DeflateError.self) { try Deflate.decompress(Array(packed.prefix(packed.count / 2)), limit: 1 << 20) }
    }

    @Test func corruptedIsRefused() {
        var packed = Deflate.compress(sample)
        packed[0] ^= 0xFF
        #expect(throws: DeflateError.damaged) { try Deflate.decompress(packed, limit: 1 << 20) }
    }

    @Test func bombIsRefused() {
        let zeros = Deflate.compress([UInt8](repeating: 0, count: 5_000_000))
        #expect(throws: DeflateError.tooLarge(limit: 1_000_000)) { try Deflate.decompress(zeros, limit: 1_000_000) }
    }
}
