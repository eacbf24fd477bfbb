import ArgumentParser
import Foundation
import Logging

/// The `tally` command: the front of the Tally sync engine.
@main
struct Tally: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Offline-first records for delivery vans, service windows and the depot.",
        discussion: """
            Every van and window keeps a local replica (one SQLite file) and works without a \
            network; replicas merge without losing or double-counting anything.
            Set TALLY_LOG=debug|info|notice|warning to see the engine's log on stderr.
            """,
        version: "tally \(version) (replica format 1)",
        subcommands: [DemoCommand.self, JoinCommand.self, SyncCommand.self, CredentialCommand.self, TrustCommand.self, VanCommand.self, WindowCommand.self, ComplaintCommand.self, ReasonsCommand.self, AuditCommand.self, DepotCommand.self, ReconcileCommand.self, SettleCommand.self, ReportCommand.self, ReplicaCommand.self])

    static func main() async {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["TALLY_LOG"] ?? "") ?? .warning
            return h
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A usage mistake (a missing argument, an unknown option, a bad value) is a refusal
            // like any other: one line saying what is wrong and where help is, exit 1.
            if exitCode(for: error) == .validationFailure {
                let said = message(for: error).split(separator: "\n").first.map(String.init) ?? "the command line is not right"
                let line = said.hasPrefix("Error: ") ? String(said.dropFirst(7)) : said
                Console.err("tally: \(line); `tally help` or the command with --help lists what it takes")
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// The logger commands hand to the libraries.
let cliLogger = Logger(label: "tally")
