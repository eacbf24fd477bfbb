// Seeded property tests: random replicas write concurrently, sync partially and out of order
// (subsets, shuffled, duplicated, in random batches), then exchange everything; every replica
// must then hold exactly the state the merge semantics give for the union of all changes
// (computed by `MergeOracle`, not by the engine).
//
// Environment:
//   TALLY_PROPERTY_CASES  number of random cases (default 500)
//   TALLY_SEED            base seed (default fixed); case i uses seed TALLY_SEED + i, so a failing
//                         case replays alone with TALLY_SEED=<its seed> TALLY_PROPERTY_CASES=1
//
// A failure names its seed: `swift test --skip-build --filter PropertyTests` with the two
// variables above replays exactly that case.

import Foundation
import Testing
@testable import TallyReplica

@Suite("Replica properties")
struct PropertyTests {
    static let defaultCases = 500
    static let defaultSeed: UInt64 = 20_240_601
    /// The cases are spread over shards that Swift Testing runs in parallel.
    static let shards = 4

    @Test("random replicas converge to the merge semantics", arguments: 0..<PropertyTests.shards)
    func convergence(shard: Int) throws {
        let cases = TestEnv.int("TALLY_PROPERTY_CASES") ?? Self.defaultCases
        let base = TestEnv.uint64("TALLY_SEED") ?? Self.defaultSeed
        let started = Date()
        var totals = PropertyCase.Stats()
        var ran = 0
        for i in stride(from: shard, to: cases, by: Self.shards) {
            let seed = base &+ UInt64(i)
            let c = PropertyCase(seed: seed)
            do {
                try c.run()
            } catch {
                c.problems.append("unexpected error: \(error)")
            }
            totals.add(c.stats)
            ran += 1
            if !c.problems.isEmpty {
                let replay = "TALLY_SEED=\(seed) TALLY_PROPERTY_CASES=1 swift test --skip-build --filter PropertyTests"
                Issue.record(Comment(rawValue: "seed \(seed): \(c.problems.count) problem(s) (replay: \(replay))\n"
                    + c.problems.prefix(12).map { "  - " + $0 }.joined(separator: "\n")))
                return  // one failing case is enough to read; the others would repeat it
            }
        }
        let secs = Date().timeIntervalSince(started)
        print("PropertyTests shard \(shard): \(ran) cases (base seed \(base)) in \(String(format: "%.1f", secs)) s; \(totals)")
    }

    @Test("the seeded generator is stable (seeds printed by failures stay valid)")
    func generatorIsStable() {
        var g = SeededRandom(seed: 0)
        // Reference values of SplitMix64 for seed 0.
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(g.next() == 0x06C4_5D18_8009_454F)
    }
}

/// One random scenario.
final class PropertyCase {
    struct Stats: CustomStringConvertible {
        var writes = 0, refused = 0, changes = 0, syncs = 0, batches = 0, conflicts = 0, violations = 0, deletes = 0, ties = 0
        mutating func add(_ o: Stats) {
            writes += o.writes; refused += o.refused; changes += o.changes; syncs += o.syncs; batches += o.batches
            conflicts += o.conflicts; violations += o.violations; deletes += o.deletes; ties += o.ties
        }
        var description: String {
            "\(writes) writes (\(refused) refused), \(changes) changes (\(deletes) deletes, \(ties) same-hlc pairs on one row), "
                + "\(syncs) partial syncs in \(batches) batches, \(conflicts) open conflicts, \(violations) violations at the end"
        }
    }

    static let statusOrder = try! PartialOrder(  // safe: a constant, valid order
        values: ["planned", "loaded", "attempted", "delivered", "refused", "closed"],
        covers: [("planned", "loaded"), ("loaded", "attempted"), ("attempted", "delivered"), ("attempted", "refused"),
                 ("delivered", "closed"), ("refused", "closed")])
    /// No top: a conflict between `left` and `right` stays open.
    static let stageOrder = try! PartialOrder(  // safe: a constant, valid order
        values: ["new", "left", "right"], covers: [("new", "left"), ("new", "right")])

    static let schema = try! Schema(version: 1, tables: [  // safe: a constant, valid schema
        TableSchema("events", kind: .ledger, columns: [
            ColumnSchema("kind", .text), ColumnSchema("amount", .integer), ColumnSchema("sig", .blob),
        ]),
        TableSchema("parcels", kind: .record, columns: [
            ColumnSchema("note", .text), ColumnSchema("count", .integer), ColumnSchema("status", .text, .lattice(statusOrder)),
        ]),
        TableSchema("tags", kind: .record, deletable: true, columns: [
            ColumnSchema("label", .text), ColumnSchema("weight", .integer), ColumnSchema("stage", .text, .lattice(stageOrder)),
        ]),
    ])

    let seed: UInt64
    var rng: SeededRandom
    var problems: [String] = []
    var stats = Stats()
    private var replicas: [Replica] = []
    private var clocks: [ManualWallClock] = []
    /// Every change a successful local write recorded, from `tx.changes`.
    private var written: [Change] = []
    private var ledgerKeys: Set<String> = []

    init(seed: UInt64) {
        self.seed = seed
        rng = SeededRandom(seed: seed)
    }

    func fail(_ message: String) { problems.append(message) }

    func run() throws {
        let folder = try TempFolder("tally-prop")
        defer {
            replicas.removeAll()
            folder.remove()
        }
        let n = rng.int(3...5)
        let start = testEpoch + UInt64(rng.int(0..<1_000_000))
        // Some cases share one wall clock (so equal hlcs on different sites are common and the
        // tie-break by site matters); the others have small offsets.
        let lockstep = rng.chance(0.3)
        let shared = ManualWallClock(milliseconds: start)
        for i in 0..<n {
            let clock = lockstep ? shared : ManualWallClock(milliseconds: start + UInt64(rng.int(0...6)))
            clocks.append(clock)
            let r = try Replica.create(at: folder.path("r\(i).tally"), schema: Self.schema,
                                       site: .random(using: &rng), options: testOptions(clock))
            replicas.append(r)
        }

        let steps = rng.int(12...32)
        for _ in 0..<steps {
            moveClocks(lockstep: lockstep)
            let roll = rng.int(0..<100)
            if roll < 45 {
                try localWrite(rng.int(0..<n))
            } else if roll < 60 {
                // Several replicas write the same row at (nearly) the same time.
                let table = rng.int(0..<3), key = rng.int(0..<6)
                for i in Array(0..<n).shuffled(using: &rng).prefix(rng.int(2...n)) {
                    try localWrite(i, ops: [randomOp(table: table, key: key)])
                }
            } else {
                let s = rng.int(0..<n)
                var r = rng.int(0..<(n - 1))
                if r >= s { r += 1 }
                try partialSync(from: s, to: r)
            }
        }
        try fullExchange()
        try check()
    }

    // MARK: - Clocks

    private func moveClocks(lockstep: Bool) {
        if lockstep {
            // One shared wall clock that moves a millisecond now and then: writes on different
            // replicas in the same millisecond often get equal hlcs.
            if rng.chance(0.35) { clocks[0].advance(by: 1) }
            return
        }
        for clock in clocks {
            if rng.chance(0.04) {
                clock.advance(by: -Int64(rng.int(1...5)))  // the wall clock steps back (NTP)
            } else if rng.chance(0.6) {
                clock.advance(by: Int64(rng.int(0...2)))
            }
        }
    }

    // MARK: - Local writes

    private enum Op {
        case ledger(key: String, values: [String: Value])
        case insert(table: String, key: String, values: [String: Value])
        case update(table: String, key: String, values: [String: Value])
        case upsert(table: String, key: String, values: [String: Value])
        case delete(table: String, key: String)
    }

    private func randomOp(table: Int? = nil, key: Int? = nil) -> Op {
        switch table ?? rng.weighted([3, 4, 4]) {
        case 0: ledgerOp(key ?? rng.int(0..<6))
        case 1: parcelOp((key ?? rng.int(0..<4)) % 4)
        default: tagOp((key ?? rng.int(0..<4)) % 4)
        }
    }

    private func ledgerOp(_ k: Int) -> Op {
        let content: [String: Value]
        switch rng.weighted([6, 2, 2]) {
        case 0:
            // The common content, sometimes with the null blob spelled out: the same content.
            content = rng.chance(0.5) ? ["kind": "scan", "amount": .integer(Int64(k))]
                : ["kind": "scan", "amount": .integer(Int64(k)), "sig": .null]
        case 1: content = ["kind": "scan", "amount": .integer(Int64(100 + k)), "sig": .blob([UInt8(k), 1])]
        default: content = ["kind": "handover", "amount": .null, "sig": .blob([])]
        }
        return .ledger(key: "e\(k)", values: content)
    }

    private func someValues(_ make: [(String, () -> Value)]) -> [String: Value] {
        var out: [String: Value] = [:]
        while out.isEmpty {
            for (name, value) in make where rng.chance(0.5) { out[name] = value() }
        }
        return out
    }

    private func parcelOp(_ k: Int) -> Op {
        let key = "p\(k)"
        let values = someValues([
            ("note", { self.rng.pick([.null, "", "a", "b", "žluť"]) }),
            ("count", { self.rng.pick([.null, 0, 1, -7, .integer(.max)]) }),
            ("status", { .text(Self.statusOrder.values[self.rng.weighted([1, 2, 2, 3, 3, 1])]) }),
        ])
        switch rng.weighted([2, 3, 5]) {
        case 0: return .insert(table: "parcels", key: key, values: values)
        case 1: return .update(table: "parcels", key: key, values: values)
        default: return .upsert(table: "parcels", key: key, values: values)
        }
    }

    private func tagOp(_ k: Int) -> Op {
        let key = "t\(k)"
        let values = someValues([
            ("label", { self.rng.pick([.null, "x", "y", "z"]) }),
            ("weight", { self.rng.pick([.null, 1, 2, 3]) }),
            ("stage", { .text(self.rng.pick(Self.stageOrder.values)) }),
        ])
        switch rng.weighted([3, 2, 2, 3]) {
        case 0: return .insert(table: "tags", key: key, values: values)
        case 1: return .update(table: "tags", key: key, values: values)
        case 2: return .upsert(table: "tags", key: key, values: values)
        default: return .delete(table: "tags", key: key)
        }
    }

    private func localWrite(_ i: Int, ops given: [Op]? = nil) throws {
        let replica = replicas[i]
        let ops = given ?? (0...rng.weighted([7, 2, 1])).map { _ in randomOp() }
        let vvBefore = try replica.versionVector()
        stats.writes += 1
        do {
            let changes = try replica.write { tx in
                for op in ops {
                    switch op {
                    case .ledger(let key, let values): try tx.insert("events", key: key, values)
                    case .insert(let t, let key, let values): try tx.insert(t, key: key, values)
                    case .update(let t, let key, let values): try tx.update(t, key: key, values)
                    case .upsert(let t, let key, let values): try tx.upsert(t, key: key, values)
                    case .delete(let t, let key): try tx.delete(t, key: key)
                    }
                }
                return tx.changes
            }
            written += changes
            stats.changes += changes.count
            for c in changes {
                if c.table == "events" { ledgerKeys.insert(c.key) }
                if c.isDelete { stats.deletes += 1 }
                if c.site != replica.site { fail("a local change carries site \(c.site), not the replica's \(replica.site)") }
            }
            let vv = try replica.versionVector()
            if vv[replica.site] != vvBefore[replica.site] + UInt64(changes.count) {
                fail("replica \(i): \(changes.count) local changes moved its own sequence from \(vvBefore[replica.site]) to \(vv[replica.site])")
            }
        } catch {
            guard case .refused = error else { throw error }
            stats.refused += 1
            let vv = try replica.versionVector()
            if vv != vvBefore { fail("replica \(i): a refused write changed the version vector \(vvBefore) → \(vv)") }
        }
    }

    // MARK: - Sync

    /// Sends part of what `s` holds to `r`: a random subset, shuffled, some changes repeated,
    /// cut into random batches.
    private func partialSync(from s: Int, to r: Int) throws {
        stats.syncs += 1
        let sender = replicas[s], receiver = replicas[r]
        var pool: [Change]
        switch rng.weighted([6, 2, 2]) {
        case 0: pool = try sender.changes(since: receiver.versionVector())
        case 1: pool = try sender.changes(since: VersionVector())  // much of it already held
        default: pool = try sender.changes(since: receiver.versionVector(), limit: rng.int(1...8))
        }
        let keep = rng.pick([0.3, 0.6, 1.0])
        var batch = pool.filter { _ in rng.chance(keep) }
        if !batch.isEmpty {
            for _ in 0..<rng.int(0...(batch.count / 3 + 1)) { batch.append(rng.pick(batch)) }
        }
        batch.shuffle(using: &rng)
        try applyInBatches(batch, to: r)
    }

    private func applyInBatches(_ changes: [Change], to r: Int) throws {
        var rest = changes[...]
        repeat {
            let size = rng.int(0...max(1, rest.count))
            let batch = Array(rest.prefix(size))
            rest = rest.dropFirst(size)
            stats.batches += 1
            let report = try replicas[r].apply(batch)
            if report.applied + report.duplicates != batch.count {
                fail("replica \(r): a batch of \(batch.count) reported \(report.applied) applied + \(report.duplicates) duplicates")
            }
            if report.violations.contains(where: { $0.table != "events" }) {
                fail("replica \(r): a violation outside the ledger table: \(report.violations)")
            }
        } while !rest.isEmpty
    }

    /// Everyone sends everything to replica 0, then replica 0 pages everything back out.
    private func fullExchange() throws {
        let hub = replicas[0]
        for s in replicas.indices.dropFirst() {
            var all = try replicas[s].changes(since: hub.versionVector())
            all.shuffle(using: &rng)
            try applyInBatches(all, to: 0)
        }
        for r in replicas.indices.dropFirst() {
            let limit = rng.int(1...25)
            var pages = 0
            while true {
                let page = try hub.changes(since: replicas[r].versionVector(), limit: limit)
                if page.isEmpty { break }
                if page.count > limit { fail("changes(since:limit: \(limit)) returned \(page.count) changes") }
                let report = try replicas[r].apply(page)
                pages += 1
                if report.applied == 0 || pages > 10_000 {
                    fail("replica \(r): paging from the hub made no progress (page of \(page.count), vv \(try replicas[r].versionVector()))")
                    break
                }
            }
        }
    }

    // MARK: - Checks

    private func check() throws {
        let expected = MergeOracle(schema: Self.schema, changes: written).state()
        stats.conflicts = expected.conflicts.count
        stats.violations = expected.violations.count
        var byRowHLC: [String: Set<HLC>] = [:]
        for c in written {
            let k = "\(c.table)/\(c.key)"
            if byRowHLC[k]?.contains(c.hlc) == true { stats.ties += 1 }
            byRowHLC[k, default: []].insert(c.hlc)
        }
        let universe = Set(written)
        if universe.count != written.count { fail("two local writes produced the same change") }

        var digests: [String] = []
        var fullViolations: [[IntegrityViolation]] = []
        for (i, r) in replicas.enumerated() {
            let name = "replica \(i) (\(r.site.hex.prefix(8)))"
            let digest = try r.digest()
            digests.append(digest)
            if digest != expected.digest { fail("\(name): digest \(digest.prefix(16))… differs from the oracle's \(expected.digest.prefix(16))…") }
            for t in Self.schema.tables {
                if let d = rowDifference(try r.rows(t.name, includeDeleted: true), expected.rows[t.name] ?? []) {
                    fail("\(name) \(t.name): \(d)")
                }
                if let d = rowDifference(try r.rows(t.name), expected.liveRows(t.name)) {
                    fail("\(name) \(t.name), live rows only: \(d)")
                }
            }
            let conflicts = try r.conflicts()
            if conflicts != expected.conflicts {
                fail("\(name): conflicts \(conflicts.map(show)), expected \(expected.conflicts.map(show))")
            }
            let violations = try engineViolations(r)
            if violations != expected.violations {
                fail("\(name): violations \(violations), expected \(expected.violations)")
            }
            fullViolations.append(try r.violations())
            let vv = try r.versionVector()
            if vv != expected.versionVector { fail("\(name): version vector \(vv), expected \(expected.versionVector)") }
            let log = try r.changes(since: VersionVector())
            if Set(log) != universe || log.count != universe.count {
                fail("\(name): the log holds \(log.count) changes (\(Set(log).subtracting(universe).count) unknown, "
                     + "\(universe.subtracting(log).count) missing) of \(universe.count)")
            }
            let ledger = Set(try r.rows("events").map(\.key))
            if !ledgerKeys.isSubset(of: ledger) { fail("\(name): ledger rows lost: \(ledgerKeys.subtracting(ledger).sorted())") }
        }
        if Set(digests).count != 1 { fail("digests differ: \(digests.map { String($0.prefix(12)) })") }
        if Set(fullViolations.map { $0.map { "\($0.table)/\($0.key)/\($0.contentHash)/\($0.site.hex)/\($0.hlc.hex)" } }).count != 1 {
            fail("replicas record different violations (writer or time): "
                 + fullViolations.map { $0.map { "\($0.key)#\($0.contentHash.prefix(6)) by \($0.site.hex.prefix(6))@\($0.hlc.hex)" } }.description)
        }

        // Idempotence: everything again, shuffled and batched, changes nothing.
        for (i, r) in replicas.enumerated() {
            let before = digests[i]
            var again = written
            again.shuffle(using: &rng)
            var rest = again[...]
            while !rest.isEmpty {
                let size = rng.int(1...rest.count)
                let report = try r.apply(Array(rest.prefix(size)))
                if report.applied != 0 || report.duplicates != size || !report.violations.isEmpty || report.conflictsOpened != 0 {
                    fail("replica \(i): re-applying \(size) held changes reported \(report)")
                }
                rest = rest.dropFirst(size)
            }
            let after = try r.digest()
            if after != before { fail("replica \(i): re-applying every change moved the digest") }
        }
    }
}
