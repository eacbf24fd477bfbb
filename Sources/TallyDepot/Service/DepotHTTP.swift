/// A request as the depot's service sees it, independent of the HTTP server that carried it,
/// so the whole protocol can be tested without sockets.
public struct DepotRequest: Sendable {
    public var method: String
    public var path: String
    /// Header names in lowercase.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { $1 })
        self.body = body
    }

    var bearer: String? {
        guard let h = headers["authorization"] else { return nil }
        let parts = h.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }

    var isCompressed: Bool { headers["content-encoding"]?.lowercased() == "deflate" }
    var acceptsDeflate: Bool { headers["accept-encoding"]?.lowercased().contains("deflate") ?? false }
}

public struct DepotResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    /// A body read from this file as it is sent, instead of `body`.
    public var file: FileBody?

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], file: FileBody? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.file = file
    }
}

/// A response body streamed from a file and the file removed once sent (or not): a snapshot
/// can be hundreds of megabytes, which the depot never holds in memory.
public struct FileBody: Sendable {
    public var path: String
    /// Its size on disk.
    public var size: Int
    /// Compressed on the way (`Content-Encoding: deflate`, zlib level 1).
    public var deflate: Bool

    public init(path: String, size: Int, deflate: Bool) {
        self.path = path
        self.size = size
        self.deflate = deflate
    }

    /// Bytes read from the file at a time.
    public static let pieceBytes = 1 << 20
}

/// Header names of the protocol.
public enum TallyHeader {
    /// The device's wall clock in milliseconds when it sent the request: the depot measures
    /// clock skew from it.
    public static let clock = "tally-clock"
}
