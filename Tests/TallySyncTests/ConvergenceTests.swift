import Foundation
import Testing
import TallyReplica
import TallyRoutes

/// Three vans against a real depot process: offline writes of every kind, syncs in random
/// orders, and at the end every van holds exactly the depot's rows of its route.
@Suite(.timeLimit(.minutes(5)))
struct ConvergenceTests {
    static let statuses = ["loaded", "attempted", "delivered", "refused"]

    @Test func threeVansConvergeToTheirScopeOfTheDepot() async throws {
        let seed = testSeed("convergence")
        var rng = SeededRNG(seed: seed)
        let scratch = try Scratch("converge")
        let depot = try await DepotProcess(scratch)
        try await depot.start()

        let a = try await DeviceFile.join(depot, "van-a", route: "R07")
        let b = try await DeviceFile.join(depot, "van-b", route: "R07")
        let c = try await DeviceFile.join(depot, "van-c", route: "R08")
        let vans = [a, b, c]
        var eventKeys: [String: Set<String>] = ["R07": [], "R08": []]

        // The day's plan: tickets and customers of each route, from the depot's import (what
        // the order system decides is the depot's to write).
        func plan(_ route: String, tickets: Int) throws {
            try depot.write { tx in
                for i in 1...tickets {
                    try tx.insert("tickets", key: "\(route)-T\(i)", [
                        "date": .text("2025-03-01"), "route": .text(route), "stop": .integer(Int64(i)),
                        "customer": .text("\(route)-C\(i % 3)"), "payment": .text(i % 2 == 0 ? "cash" : "account"),
                        "amount_due": .integer(Int64(1000 * i)), "status": .text("planned"), "note": .text(""),
                    ])
                }
                for i in 0..<3 {
                    try tx.insert("customers", key: "\(route)-C\(i)", [
                        "route": .text(route), "name": .text("客户 \(route) \(i)"), "address": .text("\(i) Harbour Rd"), "phone": .null,
                    ])
                }
            }
        }
        try plan("R07", tickets: 6)
        try plan("R08", tickets: 4)
        for d in [a, c, b] {
            let r = try await d.sync(scratch)
            #expect(r.status == 0, "\(d) first sync: \(r)")
        }
        try #require(try b.withReplica { try $0.rows("tickets").count } == 6, "van-b pulls the route's plan")

        // Rounds of offline work, then syncs in a random order.
        for round in 0..<3 {
            for d in vans {
                let tickets = d.route == "R07" ? 6 : 4
                // Concurrent register writes: both R07 vans annotate the same tickets.
                try d.write { tx in
                    for _ in 0..<Int.random(in: 1...4, using: &rng) {
                        let t = Int.random(in: 1...tickets, using: &rng)
                        try tx.update("tickets", key: "\(d.route)-T\(t)", ["note": .text("\(d.name) r\(round) \(rng.next() % 1000)")])
                    }
                    try tx.update("customers", key: "\(d.route)-C\(round % 3)", ["phone": .text("555-\(d.name)-\(round)")])
                }
                // Lattice moves, each in its own transaction: a move below what the row holds,
                // or past an open conflict, is refused locally and skipped.
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    // R07-T5 is kept for the deliberate disagreement below.
                    let t = [1, 2, 3, 4, 6].filter { $0 <= tickets }.randomElement(using: &rng)!  // safe: not empty
                    let s = Self.statuses.randomElement(using: &rng)!  // safe: not empty
                    try? d.write { tx in try tx.update("tickets", key: "\(d.route)-T\(t)", ["status": .text(s)]) }
                }
                // Ledger rows, each signed into the van's own chain. (Two devices can no longer
                // record one entry with the same content: an entry is one device's, signed.)
                let signer = try d.withReplica { try DeviceKey.stored(in: $0) }
                try d.write { tx in
                    for i in 0..<Int.random(in: 2...6, using: &rng) {
                        let key = "EV-\(d.name)-\(round)-\(i)"
                        try EventChain.insert(tx, id: key, ["route": .text(d.route), "ticket": .text("\(d.route)-T1"), "kind": .text("scan"),
                                                            "amount": .integer(Int64(i)), "device": .text(d.name), "at": .text("r\(round)")], key: signer)
                        eventKeys[d.route]!.insert(key)  // safe: both routes present
                    }
                }
            }
            if round == 0 {
                // Disagreements that must surface: delivered on one van, refused on the other;
                // one ledger key recorded with different amounts.
                try a.write { tx in try tx.update("tickets", key: "R07-T5", ["status": .text("delivered")]) }
                try b.write { tx in try tx.update("tickets", key: "R07-T5", ["status": .text("refused")]) }
                for (d, amount) in [(a, 700), (b, 750)] {
                    let signer = try d.withReplica { try DeviceKey.stored(in: $0) }
                    try d.write { tx in
                        try EventChain.insert(tx, id: "EV-clash", ["route": .text("R07"), "ticket": .text("R07-T5"), "kind": .text("cash"),
                                                                   "amount": .integer(Int64(amount)), "device": .text(d.name), "at": .text("r0")], key: signer)
                    }
                }
                eventKeys["R07"]!.insert("EV-clash")  // safe: present
                // A write through the CLI, as staff would make it.
                let w = try await Tool.run(["replica", "write", c.path, "tickets", "R08-T3", "note=补货 via CLI"], in: scratch)
                #expect(w.status == 0, "\(w)")
            }
            var order = vans.shuffled(using: &rng)
            for _ in 0..<Int.random(in: 0...2, using: &rng) { order.append(vans.randomElement(using: &rng)!) }  // safe: not empty
            print("[convergence] round \(round) sync order: \(order.map(\.name))")
            for d in order {
                let r = try await d.sync(scratch)
                #expect(r.status == 0, "\(d) sync in round \(round): \(r)")
            }
        }

        // Two full rounds: every van pushes everything, then pulls everyone else's.
        for pass in 0..<2 {
            let order = vans.shuffled(using: &rng)
            print("[convergence] final pass \(pass) order: \(order.map(\.name))")
            for d in order {
                let r = try await d.sync(scratch)
                #expect(r.status == 0, "\(d) final sync: \(r)")
            }
        }

        let depotAll = try depot.withReplica { try ScopedState.of($0) }
        #expect(!depotAll.conflicts.isEmpty, "delivered vs refused is an open conflict at the depot")
        #expect(depotAll.violations.count == 1, "EV-clash is one integrity violation: \(depotAll.violations)")
        for d in vans {
            let expected = try depot.withReplica { try ScopedState.of($0, route: d.route) }
            let held = try d.withReplica { try ScopedState.of($0) }
            #expect(held == expected, "\(d) differs from the depot's \(d.route) rows: \(held.difference(from: expected))")
            #expect(held.rows.allSatisfy { $0["route"].text == d.route }, "\(d) holds another route's rows")
            let events = held.rows.filter { $0.table == "events" }.count
            #expect(events == eventKeys[d.route]!.count, "\(d) events")  // safe: both routes present
            #expect(try d.ack() == (try d.localSeq()), "\(d): the depot acknowledges every own change")
        }
        // No ledger row lost or doubled.
        let depotEvents = try depot.rows("events")
        #expect(depotEvents.count == eventKeys.values.reduce(0) { $0 + $1.count })
        #expect(Set(depotEvents.map(\.key)) == eventKeys["R07"]!.union(eventKeys["R08"]!))  // safe: both present

        // Stable: another round moves nothing.
        let depotDigest = try depot.digest()
        let vanDigests = try vans.map { try $0.digest() }
        for d in vans.shuffled(using: &rng) {
            let r = try await d.sync(scratch)
            #expect(r.status == 0, "\(d) extra sync: \(r)")
            #expect(r.summary?["pushed"] as? Int == 0 && r.summary?["pulled"] as? Int == 0, "\(d) extra sync moved data: \(r.stdout)")
        }
        #expect(try depot.digest() == depotDigest)
        #expect(try vans.map { try $0.digest() } == vanDigests)
        await depot.stop()
    }
}
