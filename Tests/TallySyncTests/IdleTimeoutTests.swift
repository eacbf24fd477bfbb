import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A client that stalls in the middle of a request body is cut off after the idle timeout, so
/// it cannot hold one of the depot's sync places for long (`tally depot serve --idle-timeout`).
@Suite struct IdleTimeoutTests {
    @Test func aStalledBodyIsCutOffAndItsPlaceFreed() async throws {
        let scratch = try Scratch("idle")
        let depot = try await DepotProcess(scratch)
        try await depot.start(extra: ["--idle-timeout", "1", "--max-in-flight", "1"])
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        _ = try writeEvents(van, count: 3, prefix: "EV")

        // Headers and one byte of a 1,000-byte body, then nothing: the depot's only place is held.
        let holder = try SlotHolder(port: depot.port, credential: van.credential)
        defer { holder.release() }
        try await Task.sleep(for: .milliseconds(2_500))
        // By now the depot has closed the connection: reading gives end of file.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(holder.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        var n = 0
        repeat { n = recv(holder.fd, &buffer, buffer.count, 0) } while n > 0
        #expect(n == 0, "the stalled connection was closed by the depot (recv \(n), errno \(errno))")

        // The place is free again: the van syncs without being told the depot is busy.
        let sync = try await van.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        #expect(sync.summary?["busy_retries"] as? Int ?? 0 == 0, "\(sync.stdout)")
        #expect(try depot.rows("events").count == 3)
        await depot.stop()
    }
}
