// Crash safety: a writer killed with SIGKILL at a random moment loses no committed write and
// leaves a file that opens cleanly.
//
// The child program (Tools/crash-writer, built as `tally-crash-writer`) commits one to three
// ledger rows per `replica.write` and prints their ids only after the commit has returned. Each
// run starts it on the same file, kills it after a random 20–400 ms, and then checks the file
// with a plain SQLite connection (integrity, rows, log) and with the engine (it opens; the
// version vector and the change log agree with the rows).
//
// Environment: TALLY_CRASH_RUNS (runs per durability level, default 25), TALLY_CRASH_SEED (to
// replay a failing run; the seed is printed), TALLY_CRASH_WRITER (path of the child program,
// when it is not next to the test bundle).

import Foundation
import GRDB
import Synchronization
import TallyReplica
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Crash safety", .serialized)
struct CrashTests {
    static let defaultRuns = 25

    @Test("a writer killed at random keeps every committed write", arguments: [Durability.full, .normal])
    func killedWriterLosesNothing(durability: Durability) throws {
        let writer = try #require(CrashWriter.locate(), CrashWriter.notFoundMessage)
        let runs = ProcessInfo.processInfo.environment["TALLY_CRASH_RUNS"].flatMap(Int.init) ?? Self.defaultRuns
        let seed = ProcessInfo.processInfo.environment["TALLY_CRASH_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64(UInt32.max))
        var rng = SplitMix64(seed: seed &+ (durability == .full ? 0 : 1))
        print("CrashTests[\(durability)]: seed \(seed) (TALLY_CRASH_SEED=\(seed) replays it), \(runs) runs, writer \(writer)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("van.tally").path
        let started = Date()

        var printed = Set<String>()  // every id any run announced as committed
        var rowCount = 0
        var unannounced = 0  // rows committed by a write killed before it could print them
        var emptyRuns = 0  // runs killed before their first commit
        var lost = Set<String>()  // announced ids found missing
        var problems = 0
        func check(_ ok: Bool, _ message: @autoclosure () -> String, _ context: String) {
            guard !ok else { return }
            problems += 1
            Issue.record("\(message()) [\(context)]")
        }

        for run in 0..<runs {
            let delay = Int.random(in: 20...400, using: &rng)
            // The first run must get past creating the file before it is killed.
            let outcome = try CrashWriter.run(writer, path: path, durability: durability,
                                              killAfterMilliseconds: delay, waitForFirstLine: run == 0)
            let context = "run \(run + 1)/\(runs), \(durability), killed after \(delay) ms, seed \(seed), file \(path)"
            guard outcome.killedBySIGKILL else {
                Issue.record("the writer was not killed but ended by itself (\(outcome.statusDescription)): \(outcome.stderr) [\(context)]")
                return
            }
            let lines = outcome.completeLines
            check(Set(lines).count == lines.count, "the writer printed an id twice", context)
            if lines.isEmpty { emptyRuns += 1 }

            // A plain SQLite connection: the file is sound, every announced id is there once.
            let stored: PlainCheck
            do { stored = try PlainCheck(path: path) } catch {
                Issue.record("a plain SQLite connection cannot read the file: \(error) [\(context)]")
                return
            }
            check(stored.integrity == ["ok"], "PRAGMA integrity_check says \(stored.integrity.prefix(5))", context)
            printed.formUnion(lines)
            let missing = printed.subtracting(stored.ids).subtracting(lost)
            lost.formUnion(missing)  // reported once, not again at every later run
            check(missing.isEmpty, "\(missing.count) committed ids are missing, e.g. \(missing.sorted().prefix(3))", context)
            check(stored.ids.count == stored.rowCount, "duplicate ids in the ledger table", context)
            check(stored.duplicateLogKeys.isEmpty, "ids logged twice: \(stored.duplicateLogKeys.prefix(3))", context)
            check(stored.logCount == stored.rowCount, "the change log holds \(stored.logCount) changes for \(stored.rowCount) rows", context)
            let newRows = stored.rowCount - rowCount
            // At most one write (1–3 rows) can be committed and not yet printed when the kill lands.
            check((lines.count...(lines.count + 3)).contains(newRows), "\(newRows) new rows for \(lines.count) printed ids", context)
            unannounced += max(0, newRows - lines.count)
            rowCount = stored.rowCount

            // The engine: it opens, and its version vector and change count agree with the rows.
            do {
                let replica = try Replica.open(at: path, options: .quiet(durability: durability))
                let vv = try replica.versionVector()
                check(vv.entries.count == 1 && vv[replica.site] == UInt64(rowCount),
                      "version vector \(vv) for \(rowCount) rows written by \(replica.site.hex.prefix(8))", context)
                let changes = try replica.changeCount()
                check(changes == rowCount, "changeCount() is \(changes) for \(rowCount) rows", context)
                if let last = lines.last {
                    let row = try replica.row("ledger", key: last)
                    check(row?["note"] == .text("delivery \(last)"), "row \(last) reads back as \(String(describing: row))", context)
                }
            }  // the replica closes here, before the next child opens the file
        }
        check(rowCount == printed.count + unannounced, "\(rowCount) rows, \(printed.count) announced", "totals")
        check(rowCount > 0, "no run got to commit anything", "totals")
        let seconds = Date().timeIntervalSince(started)
        print("CrashTests[\(durability)]: seed \(seed): \(runs) kills in \(String(format: "%.1f", seconds)) s, "
              + "\(printed.count - lost.count) of \(printed.count) announced ids present, \(rowCount) rows (\(unannounced) committed but unannounced), "
              + "\(emptyRuns) runs killed before their first commit, \(problems) problems")
        if problems == 0 {
            try? FileManager.default.removeItem(at: dir)
        } else {
            print("CrashTests[\(durability)]: kept \(dir.path) for a look")
        }
    }

    @Test("a writer killed while creating its file leaves no file or a whole replica")
    func killedWhileCreating() throws {
        let writer = try #require(CrashWriter.locate(), CrashWriter.notFoundMessage)
        let runs = ProcessInfo.processInfo.environment["TALLY_CRASH_RUNS"].flatMap(Int.init) ?? Self.defaultRuns
        let seed = ProcessInfo.processInfo.environment["TALLY_CRASH_SEED"].flatMap { UInt64($0) }
            ?? UInt64.random(in: 0...UInt64(UInt32.max))
        var rng = SplitMix64(seed: seed &+ 2)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var absent = 0, whole = 0, problems = 0
        for run in 0..<runs {
            // Early enough to land anywhere from the program's start to its first writes.
            let delay = Int.random(in: 0...60, using: &rng)
            let path = dir.appendingPathComponent("new-\(run).tally").path
            let outcome = try CrashWriter.run(writer, path: path, durability: .full, killAfterMilliseconds: delay, waitForFirstLine: false)
            let context = "run \(run + 1)/\(runs), killed after \(delay) ms, seed \(seed), file \(path)"
            guard outcome.killedBySIGKILL else {
                Issue.record("the writer was not killed but ended by itself (\(outcome.statusDescription)): \(outcome.stderr) [\(context)]")
                return
            }
            if !FileManager.default.fileExists(atPath: path) {
                absent += 1
                // Nothing at the path: a new writer creates the replica from scratch.
                let again = try CrashWriter.run(writer, path: path, durability: .full, killAfterMilliseconds: 0, waitForFirstLine: true)
                if again.completeLines.isEmpty {
                    problems += 1
                    Issue.record("a writer could not start over after an interrupted create: \(again.stderr) [\(context)]")
                    continue
                }
            } else {
                whole += 1
            }
            let stored: PlainCheck
            do { stored = try PlainCheck(path: path) } catch {
                problems += 1
                Issue.record("the file left by the kill is not a replica: \(error) [\(context)]")
                continue
            }
            if stored.integrity != ["ok"] || stored.logCount != stored.rowCount {
                problems += 1
                Issue.record("integrity \(stored.integrity.prefix(3)), \(stored.logCount) changes for \(stored.rowCount) rows [\(context)]")
            }
            do {
                let replica = try Replica.open(at: path, options: .quiet())
                let vv = try replica.versionVector()
                if vv[replica.site] != UInt64(stored.rowCount) {
                    problems += 1
                    Issue.record("version vector \(vv) for \(stored.rowCount) rows [\(context)]")
                }
            } catch {
                problems += 1
                Issue.record("the file left by the kill does not open: \(error) [\(context)]")
            }
        }
        print("CrashTests[create]: seed \(seed): \(runs) kills while starting: \(absent) left no replica, \(whole) a whole one, \(problems) problems")
        if problems == 0 { try? FileManager.default.removeItem(at: dir) } else { print("CrashTests[create]: kept \(dir.path) for a look") }
    }
}

// MARK: - The child program

private enum CrashWriter {
    static let name = "tally-crash-writer"

    static let notFoundMessage: Comment = """
        cannot find the \(name) program: build it with `swift build --build-tests` (the test target depends on it), \
        or set TALLY_CRASH_WRITER to its path
        """

    /// Finds the built child program: TALLY_CRASH_WRITER, next to the test bundle or the running
    /// executable, or in the package's .build folder.
    static func locate() -> String? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["TALLY_CRASH_WRITER"] { candidates.append(URL(fileURLWithPath: env)) }
        var folders: [URL] = []
        if let arg0 = CommandLine.arguments.first { folders.append(URL(fileURLWithPath: arg0).deletingLastPathComponent()) }
        folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL)
        if let exe = Bundle.main.executableURL { folders.append(exe.deletingLastPathComponent()) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        // An .xctest bundle on macOS: Foo.xctest/Contents/MacOS/Foo, four levels below the products.
        if let arg0 = CommandLine.arguments.first {
            var u = URL(fileURLWithPath: arg0)
            for _ in 0..<4 { u.deleteLastPathComponent(); folders.append(u) }
        }
        // From this source file: <package>/Tests/TallyReplicaTests/CrashTests.swift.
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["debug", "release"] {
            folders.append(package.appendingPathComponent(".build/\(config)"))
            folders.append(package.appendingPathComponent(".build/x86_64-unknown-linux-gnu/\(config)"))
            folders.append(package.appendingPathComponent(".build/aarch64-unknown-linux-gnu/\(config)"))
            folders.append(package.appendingPathComponent(".build/arm64-apple-macosx/\(config)"))
        }
        candidates += folders.map { $0.appendingPathComponent(name) }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }?.standardizedFileURL.path
    }

    struct Outcome {
        var output: [UInt8]
        var stderr: String
        /// The raw wait status.
        var status: Int32

        var killedBySIGKILL: Bool { status & 0x7f == SIGKILL }
        var statusDescription: String {
            status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(status & 0x7f)"
        }

        /// Lines ended by a newline; a line cut short by the kill is left out.
        var completeLines: [String] {
            guard let end = output.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            return String(decoding: output[...end], as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    /// Starts the writer on `path`, lets it run, kills it with SIGKILL and returns everything it
    /// printed. Stdout is drained while it runs, so a full pipe never holds it back.
    static func run(_ program: String, path: String, durability: Durability,
                    killAfterMilliseconds delay: Int, waitForFirstLine: Bool) throws -> Outcome {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw CrashTestError("pipe failed: errno \(errno)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let errPath = path + ".stderr"

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let args = [program, path, "--durability", durability.rawValue]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, program, &actions, nil, argv, environ)
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw CrashTestError("cannot start \(program): error \(rc)")
        }

        let collector = OutputCollector()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if n > 0 { collector.append(buffer[0..<n]) } else if n == 0 || errno != EINTR { break }
            }
            close(readEnd)
            done.signal()
        }

        if waitForFirstLine {
            let deadline = Date().addingTimeInterval(60)
            while !collector.hasNewline && Date() < deadline && !exited(pid) { usleep(2_000) }
        }
        usleep(UInt32(delay) * 1000)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        done.wait()  // the pipe's write end closed with the child: EOF
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Outcome(output: collector.bytes, stderr: stderr.trimmingCharacters(in: .whitespacesAndNewlines), status: status)
    }

    /// Whether the child has ended (without reaping it).
    private static func exited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()  // zeroed: stays so while the child runs
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_signo == SIGCHLD
    }
}

private final class OutputCollector: Sendable {
    private let data = Mutex<[UInt8]>([])
    func append(_ bytes: ArraySlice<UInt8>) { data.withLock { $0.append(contentsOf: bytes) } }
    var bytes: [UInt8] { data.withLock { $0 } }
    var hasNewline: Bool { data.withLock { $0.contains(UInt8(ascii: "\n")) } }
}

// MARK: - Checks with a plain SQLite connection

private struct PlainCheck {
    var integrity: [String]
    var ids: Set<String>
    var rowCount: Int
    var logCount: Int
    var duplicateLogKeys: [String]

    init(path: String) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        (integrity, ids, rowCount, logCount, duplicateLogKeys) = try queue.read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            let ids = try String.fetchAll(db, sql: "SELECT id FROM ledger")
            let logCount = try Int.fetchOne(db, sql: "SELECT count(*) FROM tally_log") ?? -1
            let dups = try String.fetchAll(db, sql: "SELECT key FROM tally_log GROUP BY tbl, key HAVING count(*) > 1")
            return (integrity, Set(ids), ids.count, logCount, dups)
        }
    }
}

private struct CrashTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A small seeded generator, so a failing sequence of kill delays can be replayed.
private typealias SplitMix64 = SeededGenerator
