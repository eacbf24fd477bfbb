import CZlib
import TallyProtocol

/// A customer's signature as evidence: it must be a picture a person can look at, a PNG or a
/// JPEG that decodes, of a size a handheld's signature pad makes. A text file or random bytes
/// prove nothing, so they are refused before anything is recorded.
public enum SignatureImage {
    public enum Format: String, Sendable, Codable { case png, jpeg }

    /// What a good image is.
    public struct Info: Sendable, Equatable {
        public var format: Format
        public var width: Int
        public var height: Int
    }

    /// Why bytes are not a usable signature image.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case notAnImage
        case damaged(Format, String)
        case size(width: Int, height: Int)

        public var description: String {
            switch self {
            case .notAnImage: "it is not a PNG or JPEG picture"
            case .damaged(let f, let what): "the \(f.rawValue.uppercased()) picture is damaged (\(what))"
            case .size(let w, let h):
                "it is \(w)×\(h) pixels; a signature is between \(SignatureImage.minSide) and \(SignatureImage.maxSide) pixels a side"
            }
        }
    }

    public static let minSide = 16
    public static let maxSide = 4096

    /// Checks the bytes decode as a PNG (every chunk's CRC, the whole pixel stream inflated to
    /// exactly its size) or a JPEG (every segment well-formed, a frame, a scan and the end mark).
    public static func check(_ bytes: [UInt8]) -> Result<Info, Problem> {
        let info: Info
        if bytes.starts(with: pngSignature) {
            switch png(bytes) {
            case .success(let i): info = i
            case .failure(let p): return .failure(p)
            }
        } else if bytes.count > 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 {
            switch jpeg(bytes) {
            case .success(let i): info = i
            case .failure(let p): return .failure(p)
            }
        } else {
            return .failure(.notAnImage)
        }
        guard (minSide...maxSide).contains(info.width), (minSide...maxSide).contains(info.height) else {
            return .failure(.size(width: info.width, height: info.height))
        }
        return .success(info)
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func be32(_ b: [UInt8], _ i: Int) -> Int {
        Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3])
    }

    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    static func png(_ b: [UInt8]) -> Result<Info, Problem> {
        var i = pngSignature.count
        var width = 0, height = 0, bitDepth = 0, colour = 0, interlace = 0
        var idat: [UInt8] = []
        var sawEnd = false
        while i + 12 <= b.count {
            let length = be32(b, i)
            guard length >= 0, i + 12 + length <= b.count else { return .failure(.damaged(.png, "a chunk runs past the end")) }
            let type = String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self)
            let body = b[(i + 8)..<(i + 8 + length)]
            guard crc(b[(i + 4)..<(i + 8 + length)]) == UInt32(be32(b, i + 8 + length)) else {
                return .failure(.damaged(.png, "chunk \(type) fails its checksum"))
            }
            switch type {
            case "IHDR" where length == 13:
                let s = body.startIndex
                width = be32(b, s)
                height = be32(b, s + 4)
                bitDepth = Int(b[s + 8])
                colour = Int(b[s + 9])
                interlace = Int(b[s + 12])
            case "IDAT": idat += body
            case "IEND": sawEnd = true
            default: break
            }
            i += 12 + length
            if sawEnd { break }
        }
        guard width > 0, height > 0 else { return .failure(.damaged(.png, "no image header")) }
        guard sawEnd, !idat.isEmpty else { return .failure(.damaged(.png, "cut short")) }
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colour]
        guard let channels, [1, 2, 4, 8, 16].contains(bitDepth) else { return .failure(.damaged(.png, "unknown colour type")) }
        guard (minSide...maxSide).contains(width), (minSide...maxSide).contains(height) else {
            return .success(Info(format: .png, width: width, height: height))  // refused for its size by the caller
        }
        let rowBytes = (width * channels * bitDepth + 7) / 8
        // Interlaced images store seven passes; their size is checked as at most the plain one.
        let expected = height * (1 + rowBytes)
        guard let pixels = try? Deflate.decompress(idat, limit: expected + 7 * height + 64) else {
            return .failure(.damaged(.png, "the pixels do not decompress"))
        }
        if interlace == 0 ? pixels.count != expected : pixels.count < height {
            return .failure(.damaged(.png, "\(pixels.count) bytes of pixels where \(expected) are needed"))
        }
        return .success(Info(format: .png, width: width, height: height))
    }

    static func jpeg(_ b: [UInt8]) -> Result<Info, Problem> {
        var i = 2
        var size: (Int, Int)?
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return .failure(.damaged(.jpeg, "a segment does not start with a marker")) }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD9 { return .failure(.damaged(.jpeg, "it ends before any picture")) }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let length = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard length >= 2, i + 2 + length <= b.count else { return .failure(.damaged(.jpeg, "a segment runs past the end")) }
            if [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF].contains(marker) {
                guard length >= 8 else { return .failure(.damaged(.jpeg, "a frame header is too short")) }
                size = (Int(b[i + 7]) << 8 | Int(b[i + 8]), Int(b[i + 5]) << 8 | Int(b[i + 6]))
            }
            if marker == 0xDA {
                guard let size else { return .failure(.damaged(.jpeg, "a scan before any frame header")) }
                // The entropy-coded data runs to the end mark.
                let tail = b.count >= 2 ? (b[b.count - 2], b[b.count - 1]) : (0, 0)
                guard tail == (0xFF, 0xD9), b.count - (i + 2 + length) > 2 else { return .failure(.damaged(.jpeg, "cut short")) }
                return .success(Info(format: .jpeg, width: size.0, height: size.1))
            }
            i += 2 + length
        }
        return .failure(.damaged(.jpeg, "cut short"))
    }
}
