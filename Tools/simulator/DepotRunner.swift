import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real depot, `tally depot serve`, as a child process the simulator starts, kills with
/// SIGKILL and starts again on the same port; it watches the process's peak memory.
final class DepotRunner: @unchecked Sendable {  // safe: used from the simulator's main task only
    let tally: String
    let data: String
    let logDir: String
    private(set) var port = 0
    private var process: Process?
    private(set) var peakKB = 0
    private(set) var starts = 0

    init(tally: String, data: String, logDir: String) {
        self.tally = tally
        self.data = data
        self.logDir = logDir
    }

    /// Runs a `tally` command to the end; its stdout, or a thrown error with its stderr.
    @discardableResult
    func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tally)
        p.arguments = args
        let out = (logDir as NSString).appendingPathComponent("cmd.out")
        let err = (logDir as NSString).appendingPathComponent("cmd.err")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: err)
        try p.run()
        p.waitUntilExit()
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else {
            throw SimError("tally \(args.joined(separator: " ")) failed: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
        return stdout
    }

    /// Starts serving (port 0 the first time: a free one; then the same port again).
    func start() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tally)
        p.arguments = ["depot", "serve", "--data", data, "--port", String(port), "--max-in-flight", "64"]
        let out = (logDir as NSString).appendingPathComponent("depot-\(starts).out")
        FileManager.default.createFile(atPath: out, contents: nil)
        p.standardOutput = FileHandle(forWritingAtPath: out)
        p.standardError = FileHandle(forWritingAtPath: (logDir as NSString).appendingPathComponent("depot-\(starts).err"))
            ?? FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        env["TALLY_LOG"] = "warning"
        p.environment = env
        try p.run()
        process = p
        starts += 1
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let r = text.range(of: "depot listening on http://127.0.0.1:") {
                port = Int(text[r.upperBound...].prefix { $0.isNumber }) ?? 0
                if port > 0 { return }
            }
            guard p.isRunning else { break }
            usleep(20_000)
        }
        throw SimError("the depot did not start; see \(out)")
    }

    /// SIGKILL, as a power cut would; the peak memory of this run is kept first.
    func kill9() {
        guard let p = process, p.isRunning else { return }
        sample()
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    /// A graceful stop (SIGTERM).
    func stop() {
        guard let p = process, p.isRunning else { return }
        sample()
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        process = nil
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Reads the process's high-water resident memory (VmHWM) from /proc.
    func sample() {
        guard let p = process, p.isRunning,
              let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return }
        let kb = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        peakKB = max(peakKB, kb)
    }

    deinit { if let p = process, p.isRunning { kill(p.processIdentifier, SIGKILL) } }
}
