// tally-crash-writer: the child program of the crash test (Tests/TallyReplicaTests/CrashTests.swift).
//
//     tally-crash-writer PATH [--durability full|normal] [--max-writes N]
//
// Opens the replica at PATH (creating it with a small ledger schema if there is no file), then
// writes forever: each `replica.write` commits one to three ledger rows with fresh unique ids,
// and only after the commit has returned are the ids printed, one per line, and stdout flushed.
// Every id on stdout is therefore a committed row: the test kills this process with SIGKILL at
// a random moment and checks that each printed id survived, exactly once.
//
// `--max-writes N` stops after N writes (for trying it by hand). Exit status 2: bad usage;
// 1: the replica could not be opened or written.

import Foundation
import TallyReplica

/// The schema the crash test expects: one ledger table of delivery events.
func crashSchema() throws -> Schema {
    try Schema(version: 1, tables: [
        TableSchema("ledger", key: "id", kind: .ledger, columns: [
            ColumnSchema("van", .text),
            ColumnSchema("amount", .integer),
            ColumnSchema("note", .text),
        ]),
    ])
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data("tally-crash-writer: \(message)\n".utf8))
    exit(status)
}

var args = Array(CommandLine.arguments.dropFirst())
var durability = Durability.full
var maxWrites = Int.max
var path: String?
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "--durability":
        guard let v = args.first, let d = Durability(rawValue: v), d != .off else {
            fail("--durability takes full or normal", status: 2)
        }
        args.removeFirst()
        durability = d
    case "--max-writes":
        guard let v = args.first, let n = Int(v), n >= 0 else { fail("--max-writes takes a count", status: 2) }
        args.removeFirst()
        maxWrites = n
    case "-h", "--help":
        print("usage: tally-crash-writer PATH [--durability full|normal] [--max-writes N]")
        exit(0)
    default:
        guard path == nil, !a.hasPrefix("-") else { fail("unexpected argument '\(a)'; usage: tally-crash-writer PATH [--durability full|normal]", status: 2) }
        path = a
    }
}
guard let path else { fail("usage: tally-crash-writer PATH [--durability full|normal]", status: 2) }

let replica: Replica
do {
    let options = ReplicaOptions.quiet(durability: durability)
    if FileManager.default.fileExists(atPath: path) {
        replica = try Replica.open(at: path, options: options)
    } else {
        replica = try Replica.create(at: path, schema: try crashSchema(), options: options)
    }
} catch {
    fail("cannot open \(path): \(error)", status: 1)
}

// Ids unique across runs: this process's pid and a random token, then a counter.
var rng = SystemRandomNumberGenerator()
let token = String(rng.next() as UInt32, radix: 16)
let prefix = "\(getpid())-\(token)-"
var n = 0
var writes = 0
while writes < maxWrites {
    writes += 1
    let count = Int.random(in: 1...3, using: &rng)
    var ids: [String] = []
    for _ in 0..<count {
        n += 1
        ids.append(prefix + String(n))
    }
    do {
        try replica.write { tx in
            for id in ids {
                try tx.insert("ledger", key: id, [
                    "van": .text("van-\(n % 7)"),
                    "amount": .integer(Int64(n) * 100),
                    "note": .text("delivery \(id)"),
                ])
            }
        }
    } catch {
        fail("write failed: \(error)", status: 1)
    }
    // Committed: only now may the ids be announced.
    for id in ids { print(id) }
    fflush(nil)  // stdout is a pipe: fully buffered otherwise
}
