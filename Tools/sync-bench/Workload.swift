import Foundation
import TallyReplica
import TallyRoutes

/// Seeded (SplitMix64), so that every run writes the same days.
extension SeededGenerator {
    /// Incompressible bytes, as a PNG or JPEG signature image is.
    mutating func bytes(_ n: Int) -> [UInt8] {
        var words = [UInt64](repeating: 0, count: (n + 7) / 8)
        for i in words.indices { words[i] = next() }
        return words.withUnsafeBytes { Array($0.prefix(n)) }
    }
}

/// What a van's day wrote.
struct DayWritten: Sendable {
    var changes: Int
    var blobs: Int
    var blobBytes: Int
}

/// A van's working day, written locally the way the app writes it: the morning load, then one
/// transaction per delivery. Per ticket 15 changes:
/// - morning: customer row, ticket row, status `loaded`, a load scan event (4);
/// - at the stop: status `attempted`, arrive / scan events, status `delivered` (1 in 20
///   `refused`), a payment event (cash or electronic), a signature event whose `ref` is the
///   signature image's blob hash, handover, receipt, GPS and depart events, a note (11).
/// Every row carries the van's `route`.
enum VanDay {
    static let changesPerTicket = 15
    static let date = "2026-11-28"

    static func write(_ r: Replica, route: String, device: String, tickets: Int, signatures: Int,
                      blobSize: ClosedRange<Int> = 7_680...8_704, ticketsPerTransaction: Int = 1, seed: UInt64) throws -> DayWritten {
        var rng = SeededGenerator(seed: seed)
        var eventNo = 0
        func eventKey() -> String {
            eventNo += 1
            return "\(route)-E-\(device)-\(eventNo)"
        }
        func at(_ minute: Int) -> Value {
            .text(date + String(format: "T%02d:%02d:%02d+08:00", 8 + minute / 60 % 12, minute % 60, Int(rng.next() % 60)))
        }
        let tk = { (i: Int) in route + String(format: "-T%05d", i) }
        let ck = { (i: Int) in route + String(format: "-C%05d", i) }
        var dues: [Int64] = []
        for _ in 0..<tickets { dues.append(Int64(rng.next() % 200_000) + 500) }

        // Every entry signed into the device's chain, as the van's own commands sign them.
        let signer = try DeviceKey.stored(in: r)

        // Morning load at the depot.
        try r.write { tx in
            for i in 0..<tickets {
                try tx.insert("customers", key: ck(i), ["route": .text(route), "name": .text("客户 \(route) \(i)"),
                                                        "address": .text("幸福路\(i % 300)号 \(i / 300)单元"),
                                                        "phone": .text(String(13_800_000_000 + Int64(rng.next() % 99_999_999)))])
                try tx.insert("tickets", key: tk(i), ["date": .text(date), "route": .text(route), "stop": .integer(Int64(i + 1)),
                                                      "customer": .text(ck(i)), "payment": .text(i % 3 == 0 ? "electronic" : "cash"),
                                                      "amount_due": .integer(dues[i]), "status": "planned"])
                try tx.update("tickets", key: tk(i), ["status": "loaded"])
                try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(i)), "kind": "load-scan",
                                                          "device": .text(device), "at": at(0)], key: signer)
            }
        }

        // The stops.
        var blobs = 0, blobBytes = 0
        var i = 0
        while i < tickets {
            let batch = i..<min(tickets, i + ticketsPerTransaction)
            var refs: [Int: String] = [:]
            for t in batch where blobs < signatures {
                let size = Int.random(in: blobSize, using: &rng)
                refs[t] = try r.putBlob(rng.bytes(size))
                blobs += 1
                blobBytes += size
            }
            try r.write { tx in
                for t in batch {
                    let minute = 30 + t * 2
                    let refused = t % 20 == 7
                    try tx.update("tickets", key: tk(t), ["status": "attempted"])
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "arrive",
                                                              "device": .text(device), "at": at(minute)], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "scan",
                                                              "device": .text(device), "at": at(minute)], key: signer)
                    try tx.update("tickets", key: tk(t), ["status": refused ? "refused" : "delivered"])
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)),
                                                              "kind": refused ? "refusal" : (t % 3 == 0 ? "electronic" : "cash"),
                                                              "amount": .integer(refused ? 0 : dues[t]), "device": .text(device), "at": at(minute + 1)], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "signature",
                                                              "device": .text(device), "at": at(minute + 1), "ref": refs[t].map { Value.text($0) } ?? .null], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "handover",
                                                              "amount": .integer(Int64(rng.next() % 12) + 1), "device": .text(device), "at": at(minute + 1)], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "receipt",
                                                              "device": .text(device), "at": at(minute + 1), "ref": .text("RC-\(route)-\(t)")], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "gps",
                                                              "device": .text(device), "at": at(minute + 1),
                                                              "ref": .text(String(format: "39.%06d,116.%06d", Int(rng.next() % 999_999), Int(rng.next() % 999_999)))], key: signer)
                    try EventChain.insert(tx, id: eventKey(), ["route": .text(route), "ticket": .text(tk(t)), "kind": "depart",
                                                              "device": .text(device), "at": at(minute + 2)], key: signer)
                    try tx.update("tickets", key: tk(t), ["note": .text(refused ? "店主不在，拒收" : "放在后门")])
                }
            }
            i = batch.upperBound
        }
        return DayWritten(changes: tickets * changesPerTicket, blobs: blobs, blobBytes: blobBytes)
    }
}

/// Rows the depot holds before any device asks: written straight into `depot.sqlite` with the
/// engine, as the depot's own writes, before the server starts.
enum DepotLoad {
    static func tickets(_ r: Replica, route: String, count: Int, perTransaction: Int = 10_000) throws {
        var rng = SeededGenerator(seed: 42)
        var i = 0
        while i < count {
            let end = min(count, i + perTransaction)
            try r.write { tx in
                for n in i..<end {
                    try tx.insert("tickets", key: route + String(format: "-T%07d", n), [
                        "date": .text(VanDay.date), "route": .text(route), "stop": .integer(Int64(n % 400 + 1)),
                        "customer": .text(route + String(format: "-C%06d", n % 50_000)),
                        "payment": .text(n % 3 == 0 ? "electronic" : "cash"),
                        "amount_due": .integer(Int64(rng.next() % 200_000) + 500), "status": "planned",
                        "note": n % 5 == 0 ? .text("上午送达") : .null])
                }
            }
            i = end
        }
    }

    /// Changes a second device on the route makes after a snapshot was taken: `count` changes
    /// over existing tickets (a status move, a scan event, a note each: 3 per ticket).
    static func deltas(_ r: Replica, route: String, device: String, count: Int, offset: Int) throws -> Int {
        let tickets = count / 3
        let signer = try DeviceKey.stored(in: r)
        try r.write { tx in
            for n in 0..<tickets {
                let key = route + String(format: "-T%07d", offset + n)
                try tx.update("tickets", key: key, ["status": "loaded"])
                try EventChain.insert(tx, id: "\(route)-D-\(device)-\(offset + n)",
                                      ["route": .text(route), "ticket": .text(key), "kind": "load-scan", "device": .text(device)], key: signer)
                try tx.update("tickets", key: key, ["note": .text("装车 \(offset + n)")])
            }
        }
        return tickets * 3
    }
}
