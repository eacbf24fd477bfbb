import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TallyProtocol
import TallyReplica

/// The push half of a sync over a plain blocking socket (HTTP/1.1, keep-alive), one thread per
/// van: a load generator much lighter than URLSession, whose FoundationNetworking machinery
/// (libdispatch sources, eventfd, epoll, context switches) cost the simulated vans more CPU than
/// the depot spent on their changes. `--light-clients` uses it for `ingest`.
enum SocketPush {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Pushed changes, changes left, request bytes; on its own thread, not the caller's.
    static func pushAll(_ replica: Replica, credential: String, port: Int, pageSize: Int) async throws -> (pushed: Int, pending: Int, sent: Int) {
        try await withCheckedThrowingContinuation { cont in
            let t = Thread {
                cont.resume(with: Result { try pushAllBlocking(replica, credential: credential, port: port, pageSize: pageSize) })
            }
            t.stackSize = 1 << 20
            t.start()
        }
    }

    static func pushAllBlocking(_ replica: Replica, credential: String, port: Int, pageSize: Int) throws -> (pushed: Int, pending: Int, sent: Int) {
        var conn = try Connection(port: port)
        defer { close(conn.fd) }
        var pushed = 0, sent = 0
        var ack: UInt64 = 0
        while true {
            let page = try replica.ownChanges(after: ack, limit: pageSize)
            if page.isEmpty { break }
            let body = try WireCodec.encode(PushRequest(schemaVersion: replica.schema.version, site: replica.site, changes: page), compress: true)
            var attempt = 0
            var answer: (status: Int, headers: [String: String], body: [UInt8])
            while true {
                let head = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(credential)\r\n"
                    + "Tally-Clock: \(SystemWallClock().nowMilliseconds())\r\nContent-Type: application/json\r\n"
                    + "Content-Encoding: deflate\r\nAccept-Encoding: deflate\r\nContent-Length: \(body.count)\r\n\r\n"
                answer = try conn.exchange(Array(head.utf8) + body)
                guard answer.status == 503, let after = answer.headers["retry-after"].flatMap(Double.init) else { break }
                let delay = min(30, after * Double(1 << min(attempt, 3))) * Double.random(in: 0.75...1.25)
                attempt += 1
                usleep(UInt32(delay * 1_000_000))
            }
            var bytes = answer.body
            if let first = bytes.first, first != UInt8(ascii: "{") { bytes = try Deflate.decompress(bytes, limit: WireLimits.maxInflated) }
            guard answer.status == 200 else { throw Failure(description: "push answered \(answer.status): \(String(decoding: bytes, as: UTF8.self))") }
            let r = try WireCodec.decode(PushResponse.self, from: bytes, compressed: false)
            guard r.ack > ack else { throw Failure(description: "push: the depot's ack did not move (\(r.ack))") }
            ack = r.ack
            pushed += page.count
            sent += body.count
        }
        return (pushed, try replica.ownChangeCount(after: ack), sent)
    }

    struct Connection {
        let fd: Int32
        var buffer: [UInt8] = []

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { close(fd); throw Failure(description: "connect: errno \(errno)") }
        }

        mutating func exchange(_ request: [UInt8]) throws -> (status: Int, headers: [String: String], body: [UInt8]) {
            var off = 0
            while off < request.count {
                let n = request[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
                off += n
            }
            // Status line and headers.
            let end: Int
            while true {
                if let r = find([13, 10, 13, 10]) { end = r; break }
                try fill()
            }
            let head = String(decoding: buffer[..<end], as: UTF8.self).split(separator: "\r\n")
            buffer.removeFirst(end + 4)
            guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
                throw Failure(description: "bad status line")
            }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            var body: [UInt8] = []
            if let len = headers["content-length"].flatMap(Int.init) {
                while buffer.count < len { try fill() }
                body = Array(buffer[..<len])
                buffer.removeFirst(len)
            } else if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                while true {
                    var lineEnd: Int
                    while true { if let r = find([13, 10]) { lineEnd = r; break }; try fill() }
                    let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                    buffer.removeFirst(lineEnd + 2)
                    while buffer.count < size + 2 { try fill() }
                    body += buffer[..<size]
                    buffer.removeFirst(size + 2)
                    if size == 0 { break }
                }
            }
            return (status, headers, body)
        }

        func find(_ needle: [UInt8]) -> Int? {
            guard buffer.count >= needle.count else { return nil }
            for i in 0...(buffer.count - needle.count) where buffer[i] == needle[0] {
                if Array(buffer[i..<(i + needle.count)]) == needle { return i }
            }
            return nil
        }

        mutating func fill() throws {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: "recv: connection closed (errno \(errno))") }
            buffer += chunk[..<n]
        }
    }
}
