import Foundation
import Testing
import TallyProtocol
import TallyReplica

/// The depot's data folder on a small tmpfs: when its disk is full, every endpoint answers
/// `503 storage` with `Retry-After`, the device says the depot cannot store right now and keeps
/// its changes (exit 75), and once the disk has room one `tally sync` brings everything over.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DiskFullTests {
    @Test func aFullDiskAtTheDepotIsTryLaterAndNothingIsLost() async throws {
        let scratch = try Scratch("diskfull")
        let disk = scratch.path("disk")
        try Tmpfs.mount(disk, megabytes: 3)
        defer { Tmpfs.unmount(disk) }
        let depot = try await DepotProcess(scratch, data: disk + "/depot")
        defer { depot.server?.signal(SIGKILL) }
        try await depot.start(port: 0)
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")

        // 1. Not a byte free: the push cannot be stored.
        let filler = disk + "/filler"
        try Tmpfs.fill(filler)
        let events = try writeEvents(van, count: 3_000, prefix: "EV")
        var sync = try await van.sync(scratch)
        Self.expectTryLater(sync, pending: 3_000)
        #expect(try depot.rows("events").isEmpty, "nothing stored from the refused push")
        #expect(try van.ack() == 0, "the van's changes are still unacknowledged")

        // 2. Room for the changes but not for three 1.9 MB signatures: the push goes, the
        // blobs are told to wait, whether sent in a batch or one by one.
        try FileManager.default.removeItem(atPath: filler)
        var hashes: [String] = []
        for _ in 0..<3 {
            var g = SystemRandomNumberGenerator()
            let bytes = (0..<1_900_000).map { _ in UInt8.random(in: 0...255, using: &g) }
            hashes.append(try van.withReplica { try $0.putBlob(bytes) })
        }
        sync = try await van.sync(scratch)
        Self.expectTryLater(sync, pending: 0)
        let blob = try van.withReplica { try $0.blob(hashes[0]) } ?? []
        let put = try await HTTP.send("PUT", depot.url, "/v1/blobs/\(hashes[0])", body: blob,
                                      headers: ["Authorization": "Bearer \(van.credential)", "Content-Type": "application/octet-stream"])
        #expect(put.status == 503, "a blob the depot cannot store is not the device's bad request: \(put.status) \(put.text)")
        #expect(put.error?.code == WireError.storageCode, "\(put.text)")
        #expect(put.headers["retry-after"].flatMap(Int.init) ?? 0 >= 1, "\(put.headers)")
        let metrics = try await HTTP.send("GET", depot.url, "/metrics")
        #expect(metrics.text.contains("tally_errors_total{kind=\"storage\"}"), "storage failures are counted: \(metrics.text.prefix(2_000))")
        #expect(try van.withReplica { r in try hashes.allSatisfy { try r.hasBlob($0) } }, "the van keeps its signatures")

        // 3. The disk has room again: one sync brings every change and blob over.
        try Tmpfs.resize(disk, megabytes: 64)
        sync = try await van.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        let stored = Set(try depot.rows("events").map(\.key))
        #expect(stored.isSuperset(of: events), "the depot holds every event: \(stored.count) of \(events.count)")
        #expect(try depot.withReplica { try $0.missingBlobs(of: hashes) }.isEmpty, "the depot holds every signature")
        #expect(try van.ack() == van.localSeq())
        await depot.stop()
    }

    /// `tally sync` stopped because the depot cannot store: exit 75, its words, no "refused",
    /// no "unreachable".
    static func expectTryLater(_ sync: Tool.Result, pending: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(sync.status == 75, "\(sync)", sourceLocation: sourceLocation)
        #expect(sync.stderr.contains("cannot store anything right now"), "\(sync.stderr)", sourceLocation: sourceLocation)
        #expect(!sync.stderr.contains("refused") && !sync.stderr.contains("unreachable"), "\(sync.stderr)", sourceLocation: sourceLocation)
        if pending > 0 {
            #expect(sync.stderr.contains("\(pending) changes are kept on this device"), "\(sync.stderr)", sourceLocation: sourceLocation)
        }
    }
}

/// A tmpfs mounted for a test, so a depot's disk can really be full (the tests run as root).
enum Tmpfs {
    /// Mounts a tmpfs of `megabytes` at `path`; throws, saying why, when it cannot (not root).
    static func mount(_ path: String, megabytes: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let r = run(["mount", "-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard r.status == 0 else {
            throw TestFailure("cannot mount a tmpfs at \(path) (exit \(r.status): \(r.output)); this test needs root to give the depot a full disk")
        }
    }

    /// Grows (or shrinks) a mounted tmpfs, keeping its files.
    static func resize(_ path: String, megabytes: Int) throws {
        let r = run(["mount", "-o", "remount,size=\(megabytes)m", path])
        guard r.status == 0 else { throw TestFailure("cannot remount \(path): \(r.output)") }
    }

    /// Detaches the tmpfs even if a process still holds a file there.
    static func unmount(_ path: String) {
        let r = run(["umount", "-l", path])
        if r.status != 0 { Issue.record("umount \(path) failed: \(r.output)") }
    }

    /// Writes `path` until the file system has not a byte left.
    static func fill(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let out = FileHandle(forWritingAtPath: path) else {
            throw TestFailure("cannot create \(path)")
        }
        defer { try? out.close() }
        let chunk = Data(count: 64 * 1024)
        var written = 0
        while (try? out.write(contentsOf: chunk)) != nil { written += chunk.count }
        for size in [4096, 512, 1] {
            while (try? out.write(contentsOf: Data(count: size))) != nil { written += size }
        }
        print("[Tmpfs] filled \(path) with \(written) bytes")
    }

    private static func run(_ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}
