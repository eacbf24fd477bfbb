// tally-sim: vans and windows working generated days against a real depot process, with faults
// injected on a schedule, then checked from the simulator's own record of what each device's
// writes returned. See docs/OPERATIONS.md ("Proving it: the simulator") and Tools/README.md.
//
//     swift build -c release --product tally && swift build -c release --product tally-sim
//     .build/release/tally-sim --seed 7 --vans 180 --windows 20 --minutes 10
//
// Prints one verdict line; exit status 0 when nothing was lost or counted twice, 1 otherwise,
// 2 when the run itself could not be set up.

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TallyReplica

signal(SIGPIPE, SIG_IGN)

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "child-write" {
    ChildWriter.main(Array(args.dropFirst()))
}
if args.first == "child-sync" {
    await ChildSync.main(Array(args.dropFirst()))
}

var config = SimConfig()
do {
    config = try SimConfig.parse(args)
} catch {
    FileHandle.standardError.write(Data("tally-sim: \(error)\n\(SimConfig.usage)\n".utf8))
    exit(2)
}

do {
    let sim = try Simulation(config)
    let verdict = try await sim.run()
    FileHandle.standardOutput.write(Data((verdict.line + "\n").utf8))
    exit(verdict.passed ? 0 : 1)
} catch {
    FileHandle.standardError.write(Data("tally-sim: could not run: \(error)\n".utf8))
    exit(2)
}
