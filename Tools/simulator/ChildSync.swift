import Foundation
import TallyReplica
import TallyRoutes
import TallySync

/// The device process whose `-wal` the simulator deletes after a sync:
///
///     tally-sim child-sync PATH NAME van|window SCOPE DAY PREFIX SKEW_MS SEED
///
/// keeps the file open from start to end (so the sync's own close checkpoints nothing and what
/// it wrote stays in the `-wal`), writes three entries, printing `E id kind amount` after each
/// commit, syncs until it succeeds (at most six tries), prints `synced` (or `replaced` when the
/// sync set the file up again, `failed` when it never succeeded), then waits to be killed.
enum ChildSync {
    static func main(_ args: [String]) async -> Never {
        guard args.count == 8, let role = SimDevice.Role(rawValue: args[2]), let skew = Int64(args[6]), let seed = UInt64(args[7]) else {
            FileHandle.standardError.write(Data("usage: tally-sim child-sync PATH NAME van|window SCOPE DAY PREFIX SKEW_MS SEED\n".utf8))
            exit(2)
        }
        let (path, name, scope, day, prefix) = (args[0], args[1], args[3], args[4], args[5])
        do {
            let holder = try Replica.open(at: path, options: .quiet())
            let device = SimDevice(name: name, role: role, scope: scope, path: path, skewMs: skew)
            try device.open()
            var rng = SeededGenerator(seed: seed)
            let key = try device.replica.flatMap { try DeviceKey.stored(in: $0) }
            for _ in 0..<3 {
                try device.writeOne(day: day, key: key, rng: &rng, idPrefix: prefix)
                if let (id, e) = device.lastWritten { say("E \(id) \(e.kind) \(e.amount)") }
            }
            try device.closeFile()
            var outcome = "failed"
            for _ in 0..<6 {
                if let s = try? await SyncClient.sync(path: path, options: device.options, logger: SimDevice.quiet) {
                    outcome = s.recovered != nil || s.rebaselined != nil ? "replaced" : "synced"
                    break
                }
                try await Task.sleep(nanoseconds: 300_000_000)
            }
            say(outcome)
            withExtendedLifetime(holder) { while true { sleep(60) } }  // until killed
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("child-sync: \(error)\n".utf8))
            exit(1)
        }
    }

    static func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
}
