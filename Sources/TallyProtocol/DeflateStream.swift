import CZlib

/// zlib compression a piece at a time: a snapshot of hundreds of megabytes goes out as it is
/// read from disk, never whole in memory. The same format as `Deflate.compress`.
public final class DeflateStream {
    // On the heap, never moved: zlib's state points back at its stream.
    private let stream: UnsafeMutablePointer<z_stream>
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)

    /// Level 1 (fast) to 9 (small).
    public init(level: Int32 = 6) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = tally_deflateInit2(stream, level, 15)
        precondition(status == Z_OK, "zlib refused deflateInit2 (\(status)): out of memory")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses the next piece of input; `finish` with the last one. Returns the compressed
    /// bytes ready so far (often none until enough input has come).
    public func compress(_ input: [UInt8], finish: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        input.withUnsafeBufferPointer { inBuf in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.pointee.avail_in = uInt(inBuf.count)
            var status: Int32 = Z_OK
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    status = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    return out.count - Int(stream.pointee.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while stream.pointee.avail_out == 0 || (finish && status != Z_STREAM_END)
            stream.pointee.next_in = nil
        }
        return output
    }
}

/// zlib decompression a piece at a time, for a body written to disk as it arrives.
public final class InflateStream {
    private let stream: UnsafeMutablePointer<z_stream>
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)
    private let limit: Int
    /// Bytes produced so far.
    public private(set) var total = 0
    /// True once the compressed stream has ended.
    public private(set) var finished = false

    /// Refuses output past `limit` bytes (a guard against compressed bombs).
    public init(limit: Int) {
        self.limit = limit
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = tally_inflateInit2(stream, 15)
        precondition(status == Z_OK, "zlib refused inflateInit2 (\(status)): out of memory")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Inflates the next piece of input, handing each piece of output to `sink`. Throws
    /// `DeflateError` for damaged data, data past the end of the stream, or too much output,
    /// and whatever `sink` throws.
    public func inflate(_ input: UnsafeRawBufferPointer, into sink: (ArraySlice<UInt8>) throws -> Void) throws {
        guard !input.isEmpty else { return }
        guard !finished else { throw DeflateError.damaged }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))  // safe: input is not empty
        stream.pointee.avail_in = uInt(input.count)
        defer { stream.pointee.next_in = nil }
        while true {
            var status: Int32 = Z_OK
            let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                status = CZlib.inflate(stream, Z_NO_FLUSH)
                return out.count - Int(stream.pointee.avail_out)
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced == 0) else { throw DeflateError.damaged }
            total += produced
            if total > limit { throw DeflateError.tooLarge(limit: limit) }
            if produced > 0 { try sink(chunk[0..<produced]) }
            if status == Z_STREAM_END {
                finished = true
                if stream.pointee.avail_in > 0 { throw DeflateError.damaged }  // bytes after the end
                return
            }
            // All input taken and the output not full: wait for the next piece.
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            if status == Z_BUF_ERROR { return }
        }
    }
}
