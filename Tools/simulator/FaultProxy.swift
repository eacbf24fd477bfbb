import Foundation
import TallyToolSupport
#if canImport(Glibc)
import Glibc
#endif
import TallyReplica

/// What can go wrong with one HTTP exchange between a device and the depot.
enum NetworkFault: String, CaseIterable, Sendable {
    /// The connection drops before the request leaves the device.
    case refuse = "connection refused"
    /// The connection drops half-way through the request body.
    case cutMidRequest = "cut mid-request"
    /// The depot gets the whole request and answers; the answer never arrives.
    case dropAnswer = "answer lost"
    /// The request reaches the depot twice.
    case duplicate = "duplicated request"
    /// A copy of the request is held back and delivered later, after newer ones.
    case replayLater = "replayed late (reordered)"
}

/// A loopback HTTP/1.1 proxy between the devices and the depot that breaks exchanges on
/// purpose, at a rate the simulator sets. Each exchange is forwarded on its own connection to
/// the depot, so a depot killed and restarted behind it is simply unreachable for a while.
///
/// Blocking sockets and a thread per device connection: the simulator has at most a few
/// hundred devices, and this keeps the byte-level faults plain to read.
final class FaultProxy: @unchecked Sendable {  // safe: mutable state is touched under `lock`
    private(set) var port = 0
    let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var rng: SeededGenerator
    private var rate = 0.0
    private var counts: [NetworkFault: Int] = [:]
    private var held: [[UInt8]] = []
    private(set) var exchanges = 0

    init(upstreamPort: Int, seed: UInt64) throws {
        self.upstreamPort = upstreamPort
        rng = SeededGenerator(seed: seed)
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ToolError("cannot open the proxy's socket") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var addr = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(listener, 512) == 0 else { throw ToolError("cannot listen on 127.0.0.1 for the proxy") }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let t = Thread { [unowned self] in self.acceptLoop() }
        t.stackSize = 1 << 20
        t.start()
    }

    /// The share of exchanges (0…1) that get a fault.
    func setFaultRate(_ r: Double) { lock.withLock { rate = r } }

    /// How many faults of each kind were injected.
    func faultCounts() -> [NetworkFault: Int] { lock.withLock { counts } }

    /// Sends the requests held back so far to the depot, in a shuffled order, ignoring the
    /// answers: old pushes arriving after newer ones.
    func replayHeld() {
        var batch = lock.withLock { () -> [[UInt8]] in
            let b = held
            held.removeAll()
            return b
        }
        lock.withLock { batch.shuffle(using: &rng) }
        for request in batch { _ = forward(request) }
    }

    private func decide(_ path: String) -> NetworkFault? {
        lock.withLock {
            exchanges += 1
            guard rate > 0, Double.random(in: 0..<1, using: &rng) < rate else { return nil }
            var kinds: [NetworkFault] = [.refuse, .cutMidRequest, .dropAnswer, .duplicate]
            // Pushes are what a late copy can harm: they get it more often.
            if path.hasPrefix("/v1/push") { kinds += [.replayLater, .replayLater] }
            // Each kind once before any twice, so even a short run injects every kind.
            let unused = kinds.filter { counts[$0] == nil }
            let f = (unused.isEmpty ? kinds : unused).randomElement(using: &rng)!  // safe: not empty
            counts[f, default: 0] += 1
            return f
        }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            Self.setTimeout(fd, seconds: 120)
            let t = Thread { [unowned self] in self.serve(fd) }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// One device connection: exchanges one after another until it closes or a fault ends it.
    private func serve(_ client: Int32) {
        defer { close(client) }
        var reader = SocketReader(fd: client)
        while let request = reader.readMessage() {
            switch decide(request.path) {
            case nil:
                guard let answer = forward(request.bytes), Self.send(client, answer) else { return }
            case .refuse:
                return
            case .cutMidRequest:
                let upstream = connectUpstream()
                if upstream >= 0 {
                    _ = Self.send(upstream, Array(request.bytes.prefix(request.headerLength + request.bodyLength / 2)))
                    close(upstream)
                }
                return
            case .dropAnswer:
                _ = forward(request.bytes)
                return
            case .duplicate:
                _ = forward(request.bytes)
                guard let answer = forward(request.bytes), Self.send(client, answer) else { return }
            case .replayLater:
                lock.withLock { held.append(request.bytes) }
                guard let answer = forward(request.bytes), Self.send(client, answer) else { return }
            }
        }
    }

    /// Sends one request to the depot on a new connection and reads its whole answer; nil when
    /// the depot cannot be reached or drops the connection.
    private func forward(_ request: [UInt8]) -> [UInt8]? {
        let fd = connectUpstream()
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard Self.send(fd, request) else { return nil }
        var reader = SocketReader(fd: fd)
        return reader.readMessage()?.bytes
    }

    private func connectUpstream() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var addr = Self.loopback(port: upstreamPort)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); return -1 }
        Self.setTimeout(fd, seconds: 120)
        return fd
    }

    static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    static func setTimeout(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }  // safe: count > 0
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }
}

/// One HTTP/1.1 message (request or answer) read whole: head and body, as the body's
/// `Content-Length` or its chunks (`Transfer-Encoding: chunked`, a streamed snapshot) say.
struct HTTPMessage {
    var bytes: [UInt8]
    var path: String
    var headerLength: Int
    var bodyLength: Int
}

/// Reads HTTP/1.1 messages off a socket, keeping what it read past one message for the next.
struct SocketReader {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func readMessage() -> HTTPMessage? {
        let end: Int
        while true {
            if let i = Self.headEnd(buffer) { end = i; break }
            guard fill() else { return nil }
        }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let path = lines.first.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" } ?? ""
        var length = 0
        var chunked = false
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let name = parts[0].lowercased(), value = parts[1].trimmingCharacters(in: .whitespaces)
            if name == "content-length" { length = Int(value) ?? 0 }
            if name == "transfer-encoding", value.lowercased().contains("chunked") { chunked = true }
        }
        if chunked {
            guard let bodyEnd = chunkedEnd(from: end) else { return nil }
            length = bodyEnd - end
        }
        while buffer.count < end + length { guard fill() else { return nil } }
        let message = Array(buffer[..<(end + length)])
        buffer.removeFirst(end + length)
        return HTTPMessage(bytes: message, path: path, headerLength: end, bodyLength: length)
    }

    /// Where a chunked body starting at `start` ends (past its last chunk and trailers),
    /// reading as much as that takes; nil if the connection ends first or a size is not hex.
    private mutating func chunkedEnd(from start: Int) -> Int? {
        var at = start
        while true {
            guard let sizeEnd = line(from: at) else { return nil }
            let text = String(decoding: buffer[at..<(sizeEnd - 2)], as: UTF8.self)
            guard let size = Int(text.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "", radix: 16) else { return nil }
            at = sizeEnd
            if size == 0 { break }
            while buffer.count < at + size + 2 { guard fill() else { return nil } }
            at += size + 2
        }
        // Trailers, if any, then the empty line.
        while true {
            guard let next = line(from: at) else { return nil }
            defer { at = next }
            if next - at == 2 { return next }
        }
    }

    /// The index just past the next CRLF at or after `from`, reading until it has arrived.
    private mutating func line(from: Int) -> Int? {
        var i = from
        while true {
            while i + 1 < buffer.count {
                if buffer[i] == 13, buffer[i + 1] == 10 { return i + 2 }
                i += 1
            }
            guard fill() else { return nil }
        }
    }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }  // safe: not empty
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    /// The index just past the blank line ending the head, if it has arrived.
    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        var i = 0
        while i + 3 < b.count {
            if b[i] == 13, b[i + 1] == 10, b[i + 2] == 13, b[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }
}
