import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real depot: `tally depot serve --data DIR --port 0` in its own process, so that its memory
/// and CPU figures are the depot's alone, read from `/proc/PID/…`. Shared by the benchmarks and
/// the simulator (which kills it and starts another on the same port).
public final class DepotProcess: @unchecked Sendable {  // safe: driven by one task at a time
    public let data: String
    public let logPrefix: String
    public let process = Process()
    public private(set) var port = 0

    public var url: URL { URL(string: "http://127.0.0.1:\(port)")! }  // safe: a literal with a number
    public var pid: Int32 { process.processIdentifier }
    public var stdoutPath: String { logPrefix + ".out" }
    public var stderrPath: String { logPrefix + ".log" }

    /// Starts the depot and waits for its "listening" line. `wrapper` runs it under another
    /// program (valgrind, perf) for profiling.
    public init(tally: String, data: String, logPrefix: String, port requested: Int = 0, wrapper: [String] = []) async throws {
        self.data = data
        self.logPrefix = logPrefix
        for p in [logPrefix + ".out", logPrefix + ".log"] {
            // Appends: a restarted depot keeps the earlier log.
            if !FileManager.default.fileExists(atPath: p) { _ = FileManager.default.createFile(atPath: p, contents: nil) }
        }
        let args = ["depot", "serve", "--data", data, "--port", String(requested)]
        if wrapper.isEmpty {
            process.executableURL = URL(fileURLWithPath: tally)
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = wrapper + [tally] + args
        }
        let out = FileHandle(forWritingAtPath: logPrefix + ".out"), err = FileHandle(forWritingAtPath: logPrefix + ".log")
        out?.seekToEndOfFile()
        err?.seekToEndOfFile()
        let startOffset = out?.offsetInFile ?? 0
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        Running.add(process.processIdentifier)
        let deadline = Date().addingTimeInterval(wrapper.isEmpty ? 60 : 600)
        while Date() < deadline {
            let all = (try? Data(contentsOf: URL(fileURLWithPath: stdoutPath))) ?? Data()
            let out = String(decoding: all.dropFirst(Int(startOffset)), as: UTF8.self)
            if let range = out.range(of: "depot listening on http://127.0.0.1:") {
                let digits = out[range.upperBound...].prefix { $0.isNumber }
                if let n = Int(digits), n > 0 { port = n; return }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        if process.isRunning { process.terminate() }
        throw ToolError("the depot did not start: \(log.suffix(2_000))")
    }

    /// Fields of `/proc/PID/status` in kB (VmHWM: peak resident memory; VmRSS: current).
    public func statusKB(_ field: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }

    public var peakMemoryMB: Double { Double(statusKB("VmHWM")) / 1024 }
    public var residentMB: Double { Double(statusKB("VmRSS")) / 1024 }

    /// User + system CPU seconds the depot has used so far.
    public var cpuSeconds: Double { ProcStat.cpuSeconds(pid: pid) }

    /// The depot's log (stderr), for its own timings.
    public var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// `perf record` attached to the depot until it stops (`--perf DIR`).
    private var profiler: Process?

    public func attachPerf(output: String) throws {
        let p = Process()
        // Children of this process inherit its blocked signals (SIGINT, SIGTERM): unblock them
        // before exec, or perf never hears that it should stop and write its file. DWARF call
        // graphs: Swift release code does not keep frame pointers everywhere.
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])",
                       "perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-p", String(pid), "-o", output]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Running.add(p.processIdentifier)
        profiler = p
    }

    /// SIGKILL, as a power cut would, waiting for the process to end.
    public func kill9() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        process.waitUntilExit()
        Running.remove(pid)
    }

    /// Graceful stop (SIGTERM), waiting for the process to exit.
    public func stop() async {
        if let p = profiler, p.isRunning {
            kill(p.processIdentifier, SIGTERM)  // not SIGINT: ignored when the bench runs in the background
            let deadline = Date().addingTimeInterval(30)
            while p.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
            Running.remove(p.processIdentifier)
        }
        defer { Running.remove(pid) }
        guard process.isRunning else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(pid, SIGKILL) }
    }

    deinit { if process.isRunning { kill(pid, SIGKILL) } }
}

public enum ProcStat {
    /// utime + stime of a process, in seconds (fields 14 and 15 of `/proc/PID/stat`).
    public static func cpuSeconds(pid: Int32) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return 0 }
        let fields = s[s.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3): utime is field 14, stime field 15.
        guard fields.count > 12, let u = Double(fields[11]), let k = Double(fields[12]) else { return 0 }
        return (u + k) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    public static var selfCPUSeconds: Double { cpuSeconds(pid: getpid()) }

    public static var selfPeakMemoryMB: Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Double(Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0) / 1024
        }
        return 0
    }
}

/// Processes this bench started (depots, profilers), stopped on the way out after an error.
public enum Running {
    private static let pids = Mutex<Set<Int32>>([])
    public static func add(_ pid: Int32) { pids.withLock { _ = $0.insert(pid) } }
    public static func remove(_ pid: Int32) { pids.withLock { _ = $0.remove(pid) } }
    /// Profilers first (SIGTERM, so they write their files), then depots.
    public static func stopAll() {
        for pid in pids.withLock({ $0 }) { kill(pid, SIGTERM) }
        usleep(2_000_000)
        for pid in pids.withLock({ $0 }) where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }
}

public struct ToolError: Error, CustomStringConvertible {
    public let description: String
    public init(_ s: String) { description = s }
}
