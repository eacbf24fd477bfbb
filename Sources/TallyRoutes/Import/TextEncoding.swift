#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a Chinese office's files are written in: UTF-8 (with or without Excel's byte-order
/// mark), or GB18030, the national standard that contains GBK and GB2312, which banks and
/// Excel on a Chinese Windows still export. Converted with the C library's iconv.
public enum TextEncoding: String, Sendable, Codable {
    case utf8 = "UTF-8"
    case gb18030 = "GB18030"

    /// The bytes as UTF-8 (byte-order mark removed) and the encoding they were in; nil when they
    /// are neither valid UTF-8 nor valid GB18030.
    public static func utf8(_ bytes: [UInt8]) -> (bytes: [UInt8], encoding: TextEncoding)? {
        var data = bytes[...]
        let marked = data.starts(with: [0xEF, 0xBB, 0xBF])
        if marked { data = data.dropFirst(3) }
        if String(validating: data, as: UTF8.self) != nil { return (Array(data), .utf8) }
        // A file that says it is UTF-8 is held to it: its bad bytes are reported, not reread.
        guard !marked else { return nil }
        return convert(bytes, from: "GB18030").map { ($0, .gb18030) }
    }

    /// Text written in another encoding (GB18030 for a bank's export); nil when it cannot be.
    public static func encode(_ text: String, as encoding: String) -> [UInt8]? {
        convert(Array(text.utf8), from: "UTF-8", to: encoding)
    }

    static func convert(_ bytes: [UInt8], from encoding: String, to target: String = "UTF-8") -> [UInt8]? {
        let cd = iconv_open(target, encoding)
        guard cd != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(cd) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: bytes.count * 4 + 16)
        var inLeft = input.count, outLeft = output.count
        let status = input.withUnsafeMutableBytes { inRaw in
            output.withUnsafeMutableBytes { outRaw in
                var inPtr = inRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outPtr = outRaw.baseAddress?.assumingMemoryBound(to: CChar.self)
                return iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
            }
        }
        // Refused, or stopped short (an incomplete character at the end): not this encoding.
        guard status != -1, inLeft == 0 else { return nil }
        output.removeLast(outLeft)
        return output
    }
}
