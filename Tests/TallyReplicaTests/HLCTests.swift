// The hybrid logical clock: encoding, order, the send and receive rules, the edges (wall clock
// going backwards, counter overflow, drift refusal) and persistence across reopen.

import Foundation
import Testing
@testable import TallyReplica

@Suite("Hybrid logical clock")
struct HLCTests {
    // MARK: - Encoding and order

    @Test("packs 48 bits of milliseconds and 16 bits of counter")
    func packing() {
        let h = HLC(milliseconds: 0x0123_4567_89AB, counter: 0xCDEF)
        #expect(h.rawValue == 0x0123_4567_89AB_CDEF)
        #expect(h.milliseconds == 0x0123_4567_89AB)
        #expect(h.counter == 0xCDEF)
        #expect(h.hex == "0123456789abcdef")
        #expect(HLC.zero.hex == "0000000000000000")
        #expect(HLC(milliseconds: HLC.maxMilliseconds, counter: .max).hex == "ffffffffffffffff")
        #expect(HLC(milliseconds: 1, counter: 0).hex == "0000000000010000")
    }

    @Test("hex round trip", arguments: [UInt64(0), 1, 0xFFFF, 0x1_0000, 0x18B_CFE5_6800_0000, .max, 0x0123_4567_89AB_CDEF])
    func hexRoundTrip(raw: UInt64) throws {
        let h = HLC(rawValue: raw)
        #expect(h.hex.count == 16)
        #expect(h.hex == h.hex.lowercased())
        #expect(try #require(HLC(hex: h.hex)) == h)
        #expect(HLC(hex: h.hex.uppercased()) == h)
    }

    @Test("hex that is not 16 hex digits is refused",
          arguments: ["", "0", "000000000000000", "00000000000000000", "000000000000000g", "0x00000000000001",
                      "+000000000000001", "-000000000000000", " 00000000000001f", "00000000 0000001"])
    func badHex(text: String) {
        #expect(HLC(hex: text) == nil, "HLC(hex: \"\(text)\") should be nil")
    }

    @Test("order is (milliseconds, counter), and hex strings sort the same way")
    func ordering() {
        let a = HLC(milliseconds: 1000, counter: 65535)
        let b = HLC(milliseconds: 1001, counter: 0)
        let c = HLC(milliseconds: 1001, counter: 1)
        #expect(a < b && b < c && a < c)
        #expect(!(b < b))
        #expect(HLC(milliseconds: 5, counter: 2) == HLC(rawValue: 5 << 16 | 2))
        var g = SeededRandom(seed: 7)
        for _ in 0..<500 {
            let x = HLC(rawValue: g.next() >> UInt64(g.int(0...63)))
            let y = HLC(rawValue: g.next() >> UInt64(g.int(0...63)))
            #expect((x < y) == (x.hex < y.hex), "\(x.hex) vs \(y.hex)")
            #expect((x < y) == ((x.milliseconds, x.counter) < (y.milliseconds, y.counter)))
        }
    }

    @Test("site ids order as big-endian unsigned 128-bit numbers and round-trip through hex and bytes")
    func siteIDs() throws {
        let a = SiteID(high: 1, low: .max)
        let b = SiteID(high: 2, low: 0)
        #expect(a < b)
        #expect(SiteID(high: 0, low: 1) < SiteID(high: 0, low: 2))
        #expect(SiteID(high: 0x8000_0000_0000_0000, low: 0) > SiteID(high: 0x7FFF_FFFF_FFFF_FFFF, low: .max))
        #expect(a.hex == "0000000000000001ffffffffffffffff")
        #expect(SiteID(hex: a.hex) == a)
        #expect(SiteID(bytes: a.bytes) == a)
        #expect(a.bytes.lexicographicallyPrecedes(b.bytes))
        #expect(SiteID(hex: "0000000000000001fffffffffffffff") == nil)
        #expect(SiteID(hex: "0000000000000001fffffffffffffffg") == nil)
        var g1 = SeededRandom(seed: 1), g2 = SeededRandom(seed: 1)
        #expect(SiteID.random(using: &g1) == SiteID.random(using: &g2))
    }

    // MARK: - Send rule

    @Test("tick takes the wall clock when it is ahead, with counter 0")
    func tickAhead() {
        let wall = ManualWallClock(milliseconds: 1000)
        var clock = HybridClock(wall: wall)
        #expect(clock.tick() == HLC(milliseconds: 1000, counter: 0))
        wall.set(1005)
        #expect(clock.tick() == HLC(milliseconds: 1005, counter: 0))
        #expect(clock.last == HLC(milliseconds: 1005, counter: 0))
    }

    @Test("tick in the same millisecond advances the counter")
    func tickSameMillisecond() {
        let wall = ManualWallClock(milliseconds: 1000)
        var clock = HybridClock(wall: wall)
        #expect(clock.tick() == HLC(milliseconds: 1000, counter: 0))
        #expect(clock.tick() == HLC(milliseconds: 1000, counter: 1))
        #expect(clock.tick() == HLC(milliseconds: 1000, counter: 2))
    }

    @Test("a wall clock going backwards never makes the clock go backwards")
    func wallClockBackwards() {
        let wall = ManualWallClock(milliseconds: 10_000)
        var clock = HybridClock(wall: wall)
        var last = clock.tick()
        #expect(last == HLC(milliseconds: 10_000, counter: 0))
        wall.set(9_000)
        for i in 1...5 {
            let next = clock.tick()
            #expect(next > last)
            #expect(next == HLC(milliseconds: 10_000, counter: UInt16(i)), "ms kept, counter advances")
            last = next
        }
        wall.advance(by: -8_000)
        #expect(clock.tick() == HLC(milliseconds: 10_000, counter: 6))
        wall.set(10_001)  // the wall clock catches up: counter back to 0
        #expect(clock.tick() == HLC(milliseconds: 10_001, counter: 0))
    }

    @Test("counter overflow moves to the next millisecond with counter 0")
    func counterOverflow() {
        let wall = ManualWallClock(milliseconds: 500)
        var clock = HybridClock(wall: wall, last: HLC(milliseconds: 500, counter: .max - 1))
        #expect(clock.tick() == HLC(milliseconds: 500, counter: .max))
        #expect(clock.tick() == HLC(milliseconds: 501, counter: 0))
        #expect(clock.tick() == HLC(milliseconds: 501, counter: 1))
        // 65,536 ticks in one frozen millisecond borrow exactly one millisecond.
        var c2 = HybridClock(wall: ManualWallClock(milliseconds: 42))
        var prev = HLC.zero
        var increasing = true
        for _ in 0..<65_537 {
            let h = c2.tick()
            if !(h > prev) { increasing = false }
            prev = h
        }
        #expect(increasing)
        #expect(prev == HLC(milliseconds: 43, counter: 0))
    }

    @Test("overflow on receive also moves to the next millisecond")
    func receiveOverflow() throws {
        let wall = ManualWallClock(milliseconds: 100)
        var clock = HybridClock(wall: wall, last: HLC(milliseconds: 200, counter: 3))
        #expect(try clock.receive(HLC(milliseconds: 200, counter: .max)) == HLC(milliseconds: 201, counter: 0))
        var c2 = HybridClock(wall: wall, last: HLC(milliseconds: 200, counter: .max))
        #expect(try c2.receive(HLC(milliseconds: 150, counter: 0)) == HLC(milliseconds: 201, counter: 0))
    }

    // MARK: - Receive rule

    @Test("receive: the wall clock is ahead of both")
    func receiveWallAhead() throws {
        var clock = HybridClock(wall: ManualWallClock(milliseconds: 2000), last: HLC(milliseconds: 1000, counter: 7))
        #expect(try clock.receive(HLC(milliseconds: 1500, counter: 9)) == HLC(milliseconds: 2000, counter: 0))
        #expect(clock.last == HLC(milliseconds: 2000, counter: 0))
    }

    @Test("receive: the remote clock is ahead (within the drift bound)")
    func receiveRemoteAhead() throws {
        var clock = HybridClock(wall: ManualWallClock(milliseconds: 1000), last: HLC(milliseconds: 1000, counter: 7))
        #expect(try clock.receive(HLC(milliseconds: 1200, counter: 9)) == HLC(milliseconds: 1200, counter: 10))
        #expect(clock.tick() == HLC(milliseconds: 1200, counter: 11), "later ticks stay above the remote")
    }

    @Test("receive: the local clock is ahead")
    func receiveLocalAhead() throws {
        var clock = HybridClock(wall: ManualWallClock(milliseconds: 500), last: HLC(milliseconds: 1000, counter: 7))
        #expect(try clock.receive(HLC(milliseconds: 900, counter: 40)) == HLC(milliseconds: 1000, counter: 8))
    }

    @Test("receive: local and remote in the same millisecond take the larger counter + 1")
    func receiveSameMillisecond() throws {
        var clock = HybridClock(wall: ManualWallClock(milliseconds: 1000), last: HLC(milliseconds: 1000, counter: 7))
        #expect(try clock.receive(HLC(milliseconds: 1000, counter: 40)) == HLC(milliseconds: 1000, counter: 41))
        #expect(try clock.receive(HLC(milliseconds: 1000, counter: 3)) == HLC(milliseconds: 1000, counter: 42))
    }

    @Test("after receive, every tick is greater than the remote timestamp")
    func receiveThenTick() throws {
        var g = SeededRandom(seed: 99)
        for _ in 0..<300 {
            let wall = ManualWallClock(milliseconds: UInt64(g.int(1_000...1_100)))
            var clock = HybridClock(wall: wall, last: HLC(milliseconds: UInt64(g.int(900...1_200)), counter: UInt16(g.int(0...3))))
            let remote = HLC(milliseconds: UInt64(g.int(900...1_200)), counter: UInt16(g.int(0...65535)))
            let before = clock.last
            let got = try clock.receive(remote)
            #expect(got > remote && got > before)
            wall.advance(by: Int64(g.int(-50...50)))
            #expect(clock.tick() > got)
        }
    }

    // MARK: - Drift

    @Test("a remote clock too far ahead is refused and the clock is unchanged")
    func driftRefused() throws {
        let wall = ManualWallClock(milliseconds: 1_000_000)
        var clock = HybridClock(wall: wall, last: HLC(milliseconds: 999_000, counter: 4), maxDrift: 60_000)
        let far = HLC(milliseconds: 1_060_001, counter: 0)
        #expect(throws: ClockDriftError(remote: far, localMilliseconds: 1_000_000, maxDrift: 60_000)) {
            try clock.receive(far)
        }
        #expect(clock.last == HLC(milliseconds: 999_000, counter: 4))
        do {
            try clock.receive(far)
            Issue.record("accepted a remote clock 60,001 ms ahead with a 60,000 ms bound")
        } catch {
            #expect(error.aheadMilliseconds == 60_001)
            #expect(error.description.contains("60 s"))
        }
        // Exactly at the bound is accepted.
        let edge = HLC(milliseconds: 1_060_000, counter: 5)
        #expect(try clock.receive(edge) == HLC(milliseconds: 1_060_000, counter: 6))
        // The default bound is five minutes.
        #expect(HybridClock.defaultMaxDrift == 300_000)
    }

    @Test("a batch stamped too far ahead is refused whole by apply; nothing changes")
    func driftThroughApply() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let wall = ManualWallClock(milliseconds: testEpoch)
        let r = try Replica.create(at: folder.path("r.tally"), schema: ReplicaTests.schema, site: testSite(1), options: testOptions(wall))
        try r.write { tx in try tx.insert("events", key: "e1", ["kind": "scan"]) }
        let digest = try r.digest(), vv = try r.versionVector(), clock = r.clock, count = try r.changeCount()
        let ok = Change(table: "events", key: "e2", cl: 1, values: [ColumnValue("kind", "scan")],
                        hlc: HLC(milliseconds: testEpoch + 10, counter: 0), site: testSite(2), seq: 1)
        let far = Change(table: "parcels", key: "p1", cl: 1, values: [ColumnValue("note", "from the future")],
                         hlc: HLC(milliseconds: testEpoch + HybridClock.defaultMaxDrift + 1, counter: 0), site: testSite(2), seq: 2)
        let error = #expect(throws: ReplicaError.self) { try r.apply([ok, far]) }
        guard case .clockDrift(let e)? = error else {
            Issue.record("expected a clock drift refusal, got \(String(describing: error))")
            return
        }
        #expect(e.remote == far.hlc && e.aheadMilliseconds == HybridClock.defaultMaxDrift + 1)
        #expect(try r.digest() == digest)
        #expect(try r.versionVector() == vv)
        #expect(try r.changeCount() == count)
        #expect(r.clock == clock)
        #expect(try r.row("events", key: "e2") == nil)
        // Once the local clock has caught up, the same batch applies.
        wall.advance(by: 10)
        let report = try r.apply([ok, far])
        #expect(report.applied == 2)
        #expect(r.clock > far.hlc)
    }

    // MARK: - Persistence

    @Test("the clock survives reopen: a replica reopened with its wall clock behind still issues larger hlcs")
    func persistence() throws {
        let folder = try TempFolder()
        defer { folder.remove() }
        let path = folder.path("r.tally")
        var lastWritten: HLC
        do {
            let wall = ManualWallClock(milliseconds: testEpoch + 60_000)
            let r = try Replica.create(at: path, schema: ReplicaTests.schema, site: testSite(1), options: testOptions(wall))
            let changes = try r.write { tx in
                try tx.insert("events", key: "e1", ["kind": "scan"])
                try tx.insert("events", key: "e2", ["kind": "scan"])
                return tx.changes
            }
            lastWritten = try #require(changes.last).hlc
            #expect(lastWritten == HLC(milliseconds: testEpoch + 60_000, counter: 1))
            // A remote change from a clock ahead of ours (within the bound) also moves the clock.
            let remote = Change(table: "events", key: "e9", cl: 1, values: [ColumnValue("kind", "scan")],
                                hlc: HLC(milliseconds: testEpoch + 120_000, counter: 17), site: testSite(2), seq: 1)
            try r.apply([remote])
            lastWritten = remote.hlc
            #expect(r.clock == HLC(milliseconds: testEpoch + 120_000, counter: 18))
        }
        // Reopened an hour earlier by the wall clock (say the battery died and the clock reset).
        let behind = ManualWallClock(milliseconds: testEpoch - 3_600_000)
        let r = try Replica.open(at: path, options: testOptions(behind))
        #expect(r.clock == HLC(milliseconds: testEpoch + 120_000, counter: 18))
        let next = try r.write { tx in
            try tx.insert("events", key: "e3", ["kind": "scan"])
            return tx.changes
        }
        let h = try #require(next.first).hlc
        #expect(h > lastWritten)
        #expect(h == HLC(milliseconds: testEpoch + 120_000, counter: 19))
        // A refused write does not move the persisted clock either.
        #expect(throws: ReplicaError.self) {
            try r.write { tx in
                try tx.insert("events", key: "e4", ["kind": "scan"])
                try tx.insert("events", key: "e1", ["kind": "other"])
            }
        }
        #expect(r.clock == h)
    }
}
