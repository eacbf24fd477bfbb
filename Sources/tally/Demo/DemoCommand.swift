import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct DemoCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated day on three replicas and show that they converge.",
        discussion: "Needs no setup: everything happens in a temporary folder, removed afterwards unless --keep is given.")

    @Option(help: "Keep the replica files in this folder (created if missing) to inspect them afterwards.")
    var keep: String?

    @Option(help: "Seed for site ids, so a run can be repeated exactly.")
    var seed: UInt64 = 7

    func execute() throws {
        let folder: URL
        if let keep {
            folder = URL(fileURLWithPath: keep)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in DemoDay.deviceNames {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: folder.appendingPathComponent("\(name).sqlite\(suffix)")) }
            }
        } else {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        defer { if keep == nil { try? FileManager.default.removeItem(at: folder) } }
        let converged = try DemoDay(folder: folder, seed: seed).run()
        if let keep {
            Console.out("\nThe replicas are in \(keep): try `tally replica status \(keep)/depot.sqlite`.")
        }
        if !converged { throw ExitCode(2) }
    }
}
