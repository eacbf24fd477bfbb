import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client of a depot on loopback, from a chosen source address (any 127.0.0.x
/// reaches the depot on 127.0.0.1), for clients that misbehave on purpose: headers with no
/// body, a body a byte at a time, many connections from one address.
public final class RawClient: @unchecked Sendable {  // safe: used from one thread at a time
    public private(set) var fd: Int32

    public init(port: Int, from source: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ToolError("socket: errno \(errno)") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var to = local
        to.sin_port = in_port_t(UInt16(port).bigEndian)
        to.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        let connected = bound == 0
            ? withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } }
            : -1
        guard connected == 0 else {
            let e = errno
            Glibc.close(fd)
            throw ToolError("connect from \(source): errno \(e)")
        }
    }

    /// Sends all of `bytes`; false when the depot closed the connection.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        guard fd >= 0 else { return false }
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// What the depot sent until it closed the connection or `timeout` seconds passed.
    public func read(timeout: Double) -> (bytes: [UInt8], closed: Bool) {
        guard fd >= 0 else { return ([], true) }
        let deadline = Date().addingTimeInterval(timeout)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var wait = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { out += buffer[0..<n]; continue }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return (out, true) }
        }
        return (out, false)
    }

    /// Bytes waiting to be read, without waiting; nil once the depot closed the connection.
    public func poll() -> [UInt8]? {
        guard fd >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if n > 0 { return Array(buffer[0..<n]) }
        if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return nil }
        return []
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }

    /// The status of an HTTP answer's first line, and its body.
    public static func answer(_ bytes: [UInt8]) -> (status: Int, body: String)? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { return nil }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// `GET path` on a new connection from `source`; the answer's status, or nil when the depot
    /// closed the connection without answering.
    public static func get(_ path: String, port: Int, from source: String) throws -> Int? {
        let c = try RawClient(port: port, from: source)
        defer { c.close() }
        c.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return answer(c.read(timeout: 5).bytes)?.status
    }
}

/// Clients that each send the head of a 1 MB push without a credential, then one byte a second,
/// each from its own address (127.0.0.2, .3, ...), and connect again when the depot closes
/// them: the attack that used to hold every place of the depot.
public final class Tricklers: @unchecked Sendable {  // safe: the counters are touched under `lock`
    private let lock = NSLock()
    private var stopped = false
    private var cuts = 0
    private var statuses: [Int: Int] = [:]
    private let done = DispatchSemaphore(value: 0)

    public init(count: Int, port: Int) {
        let head = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        Thread.detachNewThread { [self] in
            var clients: [RawClient?] = Array(repeating: nil, count: count)
            while !lock.withLock({ stopped }) {
                for k in 0..<count {
                    if clients[k] == nil {
                        clients[k] = try? RawClient(port: port, from: "127.0.0.\(2 + k)")
                        clients[k]?.send(head)
                        continue
                    }
                    guard let c = clients[k] else { continue }
                    let answer = c.poll()
                    if let bytes = answer, let status = RawClient.answer(bytes)?.status { lock.withLock { statuses[status, default: 0] += 1 } }
                    if answer == nil || !c.send("x") {
                        c.close()
                        clients[k] = nil
                        lock.withLock { cuts += 1 }
                    }
                }
                Thread.sleep(forTimeInterval: 1)
            }
            for c in clients { c?.close() }
            done.signal()
        }
    }

    /// Connections the depot closed so far.
    public var closedByDepot: Int { lock.withLock { cuts } }
    /// Answers seen, by status.
    public var answers: [Int: Int] { lock.withLock { statuses } }

    public func stop() {
        lock.withLock { stopped = true }
        done.wait()
    }
}
