import ArgumentParser
import TallyReplica
import TallyRoutes

/// Turns an error into one clear line on stderr and an exit status:
/// 1 for a refusal or bad input, 3 for a storage problem (disk, permissions, damaged file).
func fail(_ error: any Error) -> ExitCode {
    switch error {
    case let e as ExitCode:
        return e
    case let e as ReplicaError:
        Console.err("tally: \(e.description)")
        if case .storage = e { return ExitCode(3) }
        return ExitCode(1)
    case let e as VanError:
        Console.err("tally: \(e.description)")
        return ExitCode(1)
    case let e as ServiceError:
        Console.err("tally: \(e.description)")
        return ExitCode(1)
    case let e as ManifestError:
        Console.err("tally: \(e.description)")
        return ExitCode(1)
    default:
        Console.err("tally: \(error)")
        return ExitCode(1)
    }
}

/// A command body whose errors become a clear line and an exit status.
protocol TallyCommand: ParsableCommand {
    func execute() throws
}

extension TallyCommand {
    func run() throws {
        do { try execute() } catch { throw fail(error) }
    }
}
