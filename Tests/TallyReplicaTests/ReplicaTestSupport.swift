// Shared helpers for the replica engine tests: a seeded generator, temporary replica files, an
// independent SHA-256, and an independent implementation of the canonical bytes behind the
// state digest and ledger content hashes (so the tests can check the engine's digest against
// one computed from the merge semantics alone).

import Foundation
import Testing
@testable import TallyReplica

// MARK: - Seeded randomness

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same stream on every platform.
typealias SeededRandom = SeededGenerator

extension SeededGenerator {
    /// A uniform integer in the range (`Int.random(in:using:)` with self).
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }

    /// Picks an index by integer weights.
    mutating func weighted(_ weights: [Int]) -> Int {
        var r = int(0..<weights.reduce(0, +))
        for (i, w) in weights.enumerated() {
            if r < w { return i }
            r -= w
        }
        return weights.count - 1
    }
}

enum TestEnv {
    static func uint64(_ name: String) -> UInt64? {
        ProcessInfo.processInfo.environment[name].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
    }

    static func int(_ name: String) -> Int? {
        ProcessInfo.processInfo.environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }
}

// MARK: - Temporary replica files

/// A temporary folder for replica files, removed by `remove()` (call it in a `defer`).
final class TempFolder {
    let url: URL

    init(_ label: String = "tally-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Options for tests: a hand-moved wall clock, no fsync, no logging.
func testOptions(_ clock: ManualWallClock) -> ReplicaOptions {
    .quiet(wallClock: clock, durability: .off)
}

/// 2023-11-14T22:13:20Z: a realistic wall-clock origin for tests.
let testEpoch: UInt64 = 1_700_000_000_000

func testSite(_ n: UInt64) -> SiteID { SiteID(high: n, low: n &* 0x0101_0101_0101_0101) }

// MARK: - Comparisons

/// The sort order SQLite's BINARY collation gives text keys: UTF-8 bytes.
func utf8Less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

/// (hlc, site): the total order that breaks ties between concurrent writes.
func stampLess(_ a: Change, _ b: Change) -> Bool { (a.hlc, a.site) < (b.hlc, b.site) }

func hexString(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

// MARK: - Independent canonical bytes, content hash and digest

/// The canonical byte form (see `CanonicalBytes` / `Protocol/DIGEST.md`), written again from the
/// specification: strings are u32 big-endian length + UTF-8; values are 0x00 null, 0x01 + i64
/// big-endian, 0x02 + string, 0x03 + u32 length + bytes.
enum Canonical {
    static func u32(_ n: Int, into out: inout [UInt8]) {
        let v = UInt32(n)
        out += [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    static func string(_ s: String, into out: inout [UInt8]) {
        u32(s.utf8.count, into: &out)
        out += Array(s.utf8)
    }

    static func value(_ v: Value, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(0)
        case .integer(let x):
            out.append(1)
            let u = UInt64(bitPattern: x)
            for i in 0..<8 { out.append(UInt8((u >> (56 - 8 * UInt64(i))) & 0xff)) }
        case .text(let s):
            out.append(2)
            string(s, into: &out)
        case .blob(let b):
            out.append(3)
            u32(b.count, into: &out)
            out += b
        }
    }

    /// SHA-256 of a ledger row's full-width content.
    static func contentHash(_ values: [Value]) -> [UInt8] {
        var b: [UInt8] = []
        for v in values { value(v, into: &b) }
        return SHA256Reference.hash(b)
    }

    /// The state digest from expected state: live rows per table (tables by name), conflicts,
    /// violations (by table, key, content hash).
    static func digest(schema: Schema, liveRows: [String: [(key: String, values: [Value])]],
                       conflicts: [ConflictRecord], violations: [(table: String, key: String, hash: [UInt8])]) -> String {
        var b: [UInt8] = []
        for t in schema.tables.sorted(by: { utf8Less($0.name, $1.name) }) {
            b.append(UInt8(ascii: "T")); string(t.name, into: &b); u32(t.columns.count, into: &b)
            for r in (liveRows[t.name] ?? []).sorted(by: { utf8Less($0.key, $1.key) }) {
                b.append(UInt8(ascii: "R")); string(r.key, into: &b)
                for v in r.values { value(v, into: &b) }
            }
        }
        let cs = conflicts.sorted(by: conflictLess)
        for c in cs {
            b.append(UInt8(ascii: "C")); string(c.table, into: &b); string(c.key, into: &b); string(c.column, into: &b)
            u32(c.values.count, into: &b)
            for v in c.values { string(v, into: &b) }
        }
        let vs = violations.sorted {
            if $0.table != $1.table { return utf8Less($0.table, $1.table) }
            if $0.key != $1.key { return utf8Less($0.key, $1.key) }
            return $0.hash.lexicographicallyPrecedes($1.hash)
        }
        for v in vs {
            b.append(UInt8(ascii: "V")); string(v.table, into: &b); string(v.key, into: &b); b += v.hash
        }
        return hexString(SHA256Reference.hash(b))
    }
}

/// (table, key, column) in UTF-8 order, as SQLite sorts the conflict table.
func conflictLess(_ a: ConflictRecord, _ b: ConflictRecord) -> Bool {
    if a.table != b.table { return utf8Less(a.table, b.table) }
    if a.key != b.key { return utf8Less(a.key, b.key) }
    return utf8Less(a.column, b.column)
}

// MARK: - SHA-256, written from FIPS 180-4 (independent of the engine's swift-crypto)

enum SHA256Reference {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var m = message
        let bitLength = UInt64(message.count) * 8
        m.append(0x80)
        while m.count % 64 != 56 { m.append(0) }
        for i in 0..<8 { m.append(UInt8((bitLength >> (56 - 8 * UInt64(i))) & 0xff)) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: m.count, by: 64) {
            for t in 0..<16 {
                let o = chunk + 4 * t
                w[t] = UInt32(m[o]) << 24 | UInt32(m[o + 1]) << 16 | UInt32(m[o + 2]) << 8 | UInt32(m[o + 3])
            }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for t in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }
        return h.flatMap { v in [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
    }
}
