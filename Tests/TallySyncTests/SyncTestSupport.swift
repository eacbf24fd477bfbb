import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TallyProtocol
import TallyReplica
import TallyRoutes

// MARK: - Temporary folders

/// A temporary folder removed when the test ends.
final class Scratch: @unchecked Sendable {  // safe: immutable after init
    let url: URL
    init(_ label: String = "sync") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tally-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

// MARK: - The tally binary

/// Runs the built `tally` binary as a separate process, as a person or a script would.
/// Output goes to files, never pipes, so a chatty process can never block on a full pipe.
enum Tool {
    static let binary: URL = {
        // The test bundle sits in the build folder next to the executables.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("tally")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.build/debug/tally").standardized
    }()

    struct Result: CustomStringConvertible {
        var status: Int32
        var signalled: Bool
        var stdout: String
        var stderr: String
        var seconds: Double
        var description: String { "exit \(status)\(signalled ? " (signal)" : ""), stdout: \(stdout.prefix(600)) stderr: \(stderr.prefix(600))" }
    }

    /// A running `tally` process.
    final class Running: @unchecked Sendable {  // safe: the Process is only touched from the owning test
        let process: Process
        let outPath: String
        let errPath: String
        let started = Date()

        init(_ args: [String], env: [String: String] = [:], input: String? = nil, logDir: String) throws {
            let id = UUID().uuidString.prefix(8)
            outPath = (logDir as NSString).appendingPathComponent("p-\(id).out")
            errPath = (logDir as NSString).appendingPathComponent("p-\(id).err")
            FileManager.default.createFile(atPath: outPath, contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process = Process()
            process.executableURL = Tool.binary
            process.arguments = args
            var e = ProcessInfo.processInfo.environment
            e["TALLY_LOG"] = nil
            for (k, v) in env { e[k] = v }
            process.environment = e
            if let input {
                let inPath = (logDir as NSString).appendingPathComponent("p-\(id).in")
                FileManager.default.createFile(atPath: inPath, contents: Data(input.utf8))
                process.standardInput = FileHandle(forReadingAtPath: inPath)
            } else {
                process.standardInput = FileHandle.nullDevice
            }
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }
        var isRunning: Bool { process.isRunning }
        var stdout: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }

        func signal(_ s: Int32) { if process.isRunning { kill(process.processIdentifier, s) } }

        /// Waits for the process to end (without blocking a thread), killing it after `timeout`.
        @discardableResult
        func wait(timeout: Double = 120) async -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning {
                if Date() > deadline {
                    Issue.record("tally \(process.arguments ?? []) ran over \(timeout) s; killed")
                    kill(process.processIdentifier, SIGKILL)
                    process.waitUntilExit()
                    break
                }
                try? await Task.sleep(for: .milliseconds(15))
            }
            process.waitUntilExit()
            return Result(status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
                          stdout: stdout, stderr: stderr, seconds: Date().timeIntervalSince(started))
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    /// Runs `tally args...` to the end.
    @discardableResult
    static func run(_ args: [String], in scratch: Scratch, env: [String: String] = [:], input: String? = nil,
                    timeout: Double = 120) async throws -> Result {
        try await Running(args, env: env, input: input, logDir: scratch.url.path).wait(timeout: timeout)
    }
}

// MARK: - A depot process

/// `tally depot serve` on 127.0.0.1, started and stopped by the test.
final class DepotProcess: @unchecked Sendable {  // safe: used by one test at a time
    let scratch: Scratch
    let data: String
    private(set) var port = 0
    private(set) var scheme = "http"
    private(set) var server: Tool.Running?

    var url: String { "\(scheme)://127.0.0.1:\(port)" }
    var replicaPath: String { data + "/depot.sqlite" }

    /// `tally depot init` in a fresh folder (`data`, by default `depot` in the scratch folder).
    init(_ scratch: Scratch, data: String? = nil) async throws {
        self.scratch = scratch
        self.data = data ?? scratch.path("depot")
        let r = try await Tool.run(["depot", "init", "--data", self.data], in: scratch)
        guard r.status == 0 else { throw TestFailure("depot init failed: \(r)") }
    }

    /// Starts serving on `port` (0: a free one) and waits for the "listening" line.
    func start(port requested: Int? = nil, extra: [String] = []) async throws {
        let p = try Tool.Running(["depot", "serve", "--data", data, "--port", String(requested ?? port)] + extra, logDir: scratch.url.path)
        server = p
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let out = p.stdout
            for scheme in ["http", "https"] {
                if let range = out.range(of: "depot listening on \(scheme)://127.0.0.1:") {
                    let digits = out[range.upperBound...].prefix { $0.isNumber }
                    if let n = Int(digits), n > 0 { port = n; self.scheme = scheme; return }
                }
            }
            guard p.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let r = await p.wait(timeout: 5)
        throw TestFailure("the depot did not start: \(r)")
    }

    /// Graceful stop (SIGTERM).
    func stop() async {
        guard let s = server else { return }
        s.signal(SIGTERM)
        let r = await s.wait(timeout: 30)
        #expect(r.status == 0 && !r.signalled, "the depot should stop cleanly on SIGTERM: \(r)")
        server = nil
    }

    /// Hard stop (SIGKILL), as a power cut would.
    func crash() async {
        guard let s = server else { return }
        s.signal(SIGKILL)
        await s.wait(timeout: 30)
        server = nil
    }

    /// Enrolls a device through the CLI; returns its credential.
    func enroll(_ name: String, role: String = "van", route: String? = nil) async throws -> String {
        var args = ["depot", "enroll", name, "--role", role, "--data", data, "--json"]
        if let route { args += role == "window" ? ["--window", route] : ["--route", route] }
        let r = try await Tool.run(args, in: scratch)
        guard r.status == 0,
              let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let credential = obj["credential"] as? String
        else { throw TestFailure("enroll \(name) failed: \(r)") }
        return credential
    }

    /// Opens the depot's replica for reading (the server may be running: WAL allows it).
    func withReplica<T>(_ body: (Replica) throws -> T) throws -> T {
        let r = try Replica.open(at: replicaPath, options: .quiet())
        return try body(r)
    }

    func digest() throws -> String { try withReplica { try $0.digest() } }

    /// Writes into the depot's replica as its import does (what the order system decides is the
    /// depot's to write): tickets, lines, cartons. The server may be running.
    func write(_ body: (WriteTransaction) throws -> Void) throws {
        try withReplica { r in try r.write { tx in try body(tx) } }
    }

    func rows(_ table: String) throws -> [Row] { try withReplica { try $0.rows(table, includeDeleted: true) } }

    deinit { server?.signal(SIGKILL) }
}

// MARK: - Devices

/// A device's replica file, joined to a depot.
struct DeviceFile: Sendable, CustomStringConvertible {
    let name: String
    let route: String
    let path: String
    let credential: String
    var description: String { name }

    /// Enrolls, then `tally join`.
    static func join(_ depot: DepotProcess, _ name: String, route: String) async throws -> DeviceFile {
        let credential = try await depot.enroll(name, route: route)
        let path = depot.scratch.path("\(name).sqlite")
        let r = try await Tool.run(["join", depot.url, "--credential", credential, "--replica", path, "--json"], in: depot.scratch)
        guard r.status == 0 else { throw TestFailure("join \(name) failed: \(r)") }
        return DeviceFile(name: name, route: route, path: path, credential: credential)
    }

    /// Opens the file afresh for each use, as every CLI command does.
    func withReplica<T>(_ body: (Replica) throws -> T) throws -> T {
        let r = try Replica.open(at: path, options: .quiet())
        return try body(r)
    }

    func write(_ body: (WriteTransaction) throws -> Void) throws {
        try withReplica { r in try r.write { tx in try body(tx) } }
    }

    func sync(_ scratch: Scratch, timeout: Double = 120) async throws -> Tool.Result {
        try await Tool.run(["sync", "--replica", path, "--json"], in: scratch, timeout: timeout)
    }

    func syncStarting(_ scratch: Scratch) throws -> Tool.Running {
        try Tool.Running(["sync", "--replica", path, "--json"], logDir: scratch.url.path)
    }

    func digest() throws -> String { try withReplica { try $0.digest() } }
    func ack() throws -> UInt64 { try withReplica { UInt64(try $0.setting("sync.ack") ?? "0") ?? 0 } }
    func localSeq() throws -> UInt64 { try withReplica { $0.localSeq } }
}

// MARK: - Scoped comparison

/// What a replica holds, in a form two replicas can be compared by: every row (tombstones
/// included), open conflicts and ledger violations.
struct ScopedState: Equatable, CustomStringConvertible {
    var rows: [Row]
    var conflicts: [ConflictRecord]
    var violations: [String]

    static let tables = RouteSchema.current.tables.map(\.name)

    /// Everything in `replica`, or only what belongs to `route` when given.
    static func of(_ replica: Replica, route: String? = nil) throws -> ScopedState {
        var rows: [Row] = []
        var routeOf: [String: String] = [:]
        for t in tables {
            for r in try replica.rows(t, includeDeleted: true) {
                let owner = r["route"].text ?? ""
                routeOf["\(t)\u{0}\(r.key)"] = owner
                if route == nil || owner == route { rows.append(r) }
            }
        }
        let inScope = { (t: String, k: String) in route == nil || routeOf["\(t)\u{0}\(k)"] == route }
        return ScopedState(
            rows: rows,
            conflicts: try replica.conflicts().filter { inScope($0.table, $0.key) },
            violations: try replica.violations().filter { inScope($0.table, $0.key) }.map { "\($0.table)/\($0.key)/\($0.contentHash)" }.sorted())
    }

    var description: String { "\(rows.count) rows, \(conflicts.count) conflicts, \(violations.count) violations" }

    /// A readable difference for a failure message.
    func difference(from other: ScopedState) -> String {
        let a = Set(rows), b = Set(other.rows)
        let onlyA = a.subtracting(b).map { "\($0.table)/\($0.key)" }.sorted().prefix(10)
        let onlyB = b.subtracting(a).map { "\($0.table)/\($0.key)" }.sorted().prefix(10)
        return "only here: \(onlyA); only there: \(onlyB); conflicts \(conflicts) vs \(other.conflicts); violations \(violations) vs \(other.violations)"
    }
}

// MARK: - HTTP

/// A raw HTTP exchange with a depot, through URLSession.
struct HTTPAnswer: Sendable {
    var status: Int
    var body: [UInt8]
    var headers: [String: String]

    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `{"error": {"code", "message"}}` body's code and message, if the body is exactly that.
    var error: (code: String, message: String)? {
        guard let obj = json, obj.count == 1, let e = obj["error"] as? [String: Any], e.count == 2,
              let code = e["code"] as? String, let message = e["message"] as? String else { return nil }
        return (code, message)
    }
}

enum HTTP {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 60
        c.timeoutIntervalForResource = 120
        return URLSession(configuration: c)
    }()

    static func send(_ method: String, _ base: String, _ path: String, body: [UInt8]? = nil,
                     headers: [String: String] = [:]) async throws -> HTTPAnswer {
        var req = URLRequest(url: URL(string: base + path)!)  // safe: test-built URLs
        req.httpMethod = method
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        if let body { req.httpBody = Data(body) }
        let (data, response) = try await session.data(for: req)
        guard let http = response as? HTTPURLResponse else { throw TestFailure("not an HTTP answer") }
        var bytes = Array(data)
        // The depot compresses when asked; an HTTP stack may already have inflated it.
        if let first = bytes.first, first != UInt8(ascii: "{"), first != UInt8(ascii: "["),
           let inflated = try? Deflate.decompress(bytes, limit: WireLimits.maxInflated) {
            bytes = inflated
        }
        var h: [String: String] = [:]
        for (k, v) in http.allHeaderFields { h["\(k)".lowercased()] = "\(v)" }
        return HTTPAnswer(status: http.statusCode, body: bytes, headers: h)
    }

    /// A protocol request: JSON, optionally compressed, with the credential and the clock header.
    static func post(_ base: String, _ path: String, credential: String?, body: [UInt8], compressed: Bool,
                     extra: [String: String] = [:]) async throws -> HTTPAnswer {
        var h = ["Content-Type": "application/json", "Accept-Encoding": "deflate",
                 "Tally-Clock": String(SystemWallClock().nowMilliseconds())]
        if let credential { h["Authorization"] = "Bearer \(credential)" }
        if compressed { h["Content-Encoding"] = "deflate" }
        for (k, v) in extra { h[k] = v }
        return try await send("POST", base, path, body: body, headers: h)
    }
}

// MARK: - Small things

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A seeded generator (SplitMix64): a failing run can be repeated with its seed.
typealias SeededRNG = SeededGenerator

/// The seed for a randomised test: `TALLY_SYNC_SEED` if set, else a fresh one; printed.
func testSeed(_ name: String) -> UInt64 {
    let seed = ProcessInfo.processInfo.environment["TALLY_SYNC_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
    print("[\(name)] seed \(seed) (repeat with TALLY_SYNC_SEED=\(seed))")
    return seed
}

/// Writes `count` ledger events of a route in one transaction; returns their keys.
@discardableResult
func writeEvents(_ device: DeviceFile, count: Int, prefix: String) throws -> [String] {
    var keys: [String] = []
    keys.reserveCapacity(count)
    let signer = try device.withReplica { try DeviceKey.stored(in: $0) }
    try device.write { tx in
        for i in 0..<count {
            let key = "\(prefix)-\(i)"
            try EventChain.insert(tx, id: key, [
                "route": .text(device.route), "ticket": .text("\(device.route)-T\(i % 40)"), "kind": .text("scan"),
                "amount": .integer(Int64(i)), "device": .text(device.name), "at": .text("2025-03-01T08:00:00Z"),
            ], key: signer)
            keys.append(key)
        }
    }
    return keys
}

extension Tool.Result {
    /// The `--json` summary of `tally sync`.
    var summary: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }
}

/// Reads what a `tally ... --json` command printed: snake_case keys, as the CLI writes them.
let cliJSON: JSONDecoder = {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
}()
