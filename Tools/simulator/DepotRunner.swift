import Foundation
import TallyToolSupport

/// The real depot as the simulator drives it: `DepotProcess` started, killed with SIGKILL and
/// started again on the same port, its peak memory kept over every run; and `tally` commands
/// run against its data folder.
final class DepotRunner: @unchecked Sendable {  // safe: used from the simulator's main task only
    let tally: String
    let data: String
    let logDir: String
    private var process: DepotProcess?
    private(set) var port = 0
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
            throw ToolError("tally \(args.joined(separator: " ")) failed: \((try? String(contentsOfFile: err, encoding: .utf8)) ?? "")")
        }
        return stdout
    }

    /// Starts serving (a free port the first time, then the same port again).
    func start() async throws {
        let p = try await DepotProcess(tally: tally, data: data, logPrefix: (logDir as NSString).appendingPathComponent("depot"), port: port)
        process = p
        port = p.port
        starts += 1
    }

    /// SIGKILL, as a power cut would; the peak memory of this run is kept first.
    func kill9() {
        sample()
        process?.kill9()
        process = nil
    }

    /// A graceful stop (SIGTERM).
    func stop() async {
        sample()
        await process?.stop()
        process = nil
    }

    var isRunning: Bool { process?.process.isRunning ?? false }

    /// The process's high-water resident memory (VmHWM), kept as the highest over all runs.
    func sample() {
        guard let p = process, p.process.isRunning else { return }
        peakKB = max(peakKB, p.statusKB("VmHWM"))
    }
}
