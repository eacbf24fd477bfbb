import CZlib

/// zlib-format compression (RFC 1950, what HTTP calls `Content-Encoding: deflate`) for sync
/// bodies. JSON change batches shrink to about a quarter.
public enum Deflate {
    /// Compresses bytes; level 1 (fast) to 9 (small), 6 by default.
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        guard tally_deflateInit2(&stream, level, 15) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))))
        let written: Int = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = uInt(outBuf.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses zlib-format bytes, refusing output larger than `limit` bytes (a guard
    /// against compressed bombs) and anything damaged or truncated.
    public static func decompress(_ input: [UInt8], limit: Int) throws(DeflateError) -> [UInt8] {
        var stream = z_stream()
        guard tally_inflateInit2(&stream, 15) == Z_OK else { throw .damaged }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        try input.withUnsafeBufferPointer { (inBuf) throws(DeflateError) in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = uInt(inBuf.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else { throw .damaged }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit { throw .tooLarge(limit: limit) }
                if status == Z_OK && produced == 0 && stream.avail_in == 0 { throw .truncated }
            } while status != Z_STREAM_END
        }
        return output
    }
}

public enum DeflateError: Error, Sendable, Equatable, CustomStringConvertible {
    case damaged
    case truncated
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .damaged: "the compressed data is damaged; send it again"
        case .truncated: "the compressed data is cut short; send it again"
        case .tooLarge(let limit): "the data is larger than \(limit) bytes once uncompressed; send it in smaller batches"
        }
    }
}
