import Foundation
import Testing
import TallyProtocol
import TallyReplica

/// `PushParser` reads push bodies as `JSONDecoder` does, or gives up and lets it answer.
@Suite struct PushParserTests {
    static let site = SiteID(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)

    static func randomText(_ rng: inout SeededGenerator) -> String {
        let pieces = ["a", "Z", "0", " ", "é", "前门", "😀", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "\u{2028}", "ß", "-", "{", "}", ","]
        return (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()  // safe: not empty
    }

    static func randomValue(_ rng: inout SeededGenerator) -> Value {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return .null
        case 1: return .integer([0, -1, 1, Int64.max, Int64.min, 1_250, -99].randomElement(using: &rng)!)  // safe: not empty
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 3: return .blob((0..<Int.random(in: 0...20, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        default: return .text(randomText(&rng))
        }
    }

    @Test func parsesWhatJSONEncoderWritesAsJSONDecoderDoes() throws {
        var rng = SeededGenerator(seed: 42)
        for round in 0..<200 {
            var changes: [Change] = []
            for k in 0..<Int.random(in: 0...20, using: &rng) {
                var values: [ColumnValue] = []
                for c in 0..<Int.random(in: 0...6, using: &rng) { values.append(ColumnValue("col\(c)\(Self.randomText(&rng))", Self.randomValue(&rng))) }
                changes.append(Change(table: "t\(Self.randomText(&rng))", key: Self.randomText(&rng) + "\(k)", cl: Int64.random(in: 1...9, using: &rng),
                                      values: values, hlc: HLC(rawValue: UInt64.random(in: 2...UInt64.max, using: &rng)),
                                      site: Self.site, seq: UInt64.random(in: 1...UInt64(1) << 40, using: &rng)))
            }
            let req = PushRequest(schemaVersion: round % 4, site: Self.site, changes: changes)
            let json = try WireCodec.encode(req, compress: false)
            let fast = try #require(PushParser.parse(json), "round \(round): \(String(decoding: json, as: UTF8.self).prefix(300))")
            let slow = try WireCodec.decode(PushRequest.self, from: json, compressed: false)
            #expect(fast == slow, "round \(round)")
            #expect(fast == req, "round \(round)")
        }
    }

    static let good = #"{"protocol":1,"schema":3,"site":"0123456789abcdeffedcba9876543210","changes":[{"table":"events","key":"E1","cl":1,"values":{"route":"R07","amount":-5,"ref":null,"sig":{"blob":"AAEC"}},"hlc":"0000018bcfe56800","site":"0123456789abcdeffedcba9876543210","seq":1}]}"#

    /// Other spellings JSONDecoder takes: whitespace, other key orders, unknown keys, escapes.
    @Test(arguments: [
        good,
        " \n{ \"changes\" : [ { \"seq\" : 1 , \"site\" : \"0123456789abcdeffedcba9876543210\", \"hlc\":\"0000018bcfe56800\", \"values\" : { \"route\" : \"R\\u0030\\u00e9\\ud83d\\ude00\\/\\\"\" } , \"cl\":1, \"key\":\"E\\n1\", \"table\":\"events\", \"extra\": [1, {\"a\": [true, false, null]}, \"x\"] } ], \"site\":\"0123456789abcdeffedcba9876543210\", \"schema\":3, \"protocol\":1, \"more\": {} }\t",
        #"{"protocol":1,"schema":3,"site":"0123456789abcdeffedcba9876543210","changes":[]}"#,
        #"{"protocol":1,"schema":3,"site":"0123456789abcdeffedcba9876543210","changes":[{"table":"t","key":"k","cl":2,"values":{},"hlc":"0000018bcfe56800","site":"0123456789abcdeffedcba9876543210","seq":9}]}"#,
    ])
    func readsOtherSpellingsTheSame(_ text: String) throws {
        let json = Array(text.utf8)
        let slow = try WireCodec.decode(PushRequest.self, from: json, compressed: false)
        let fast = try #require(PushParser.parse(json))
        #expect(fast == slow)
        #expect(try WireCodec.decodePush(from: Deflate.compress(json), compressed: true) == slow)
    }

    /// What the parser does not take goes to JSONDecoder: the same answer, value or error.
    @Test(arguments: [
        "", "{", "[]", "null",
        good.replacingOccurrences(of: "-5", with: "-5.0"),
        good.replacingOccurrences(of: "-5", with: "1e2"),
        good.replacingOccurrences(of: "-5", with: "true"),
        good.replacingOccurrences(of: "-5", with: "05"),
        good.replacingOccurrences(of: "-5", with: "99999999999999999999"),
        good.replacingOccurrences(of: "AAEC", with: "not base64!"),
        good.replacingOccurrences(of: #""sig":{"blob":"AAEC"}"#, with: #""sig":{"blob":"AAEC","x":1}"#),
        good.replacingOccurrences(of: #""ref":null"#, with: #""route":"again""#),
        good.replacingOccurrences(of: "\"seq\":1", with: "\"seq\":-1"),
        good.replacingOccurrences(of: "0000018bcfe56800", with: "xyz"),
        good.replacingOccurrences(of: "\"cl\":1,", with: ""),
        good.replacingOccurrences(of: "R07", with: "R\u{01}7"),
        good.replacingOccurrences(of: "R07", with: "R\\ud83d7"),
        good + "x",
        good.replacingOccurrences(of: "\"schema\":3", with: "\"schema\":3,\"schema\":4"),
    ])
    func leavesTheRestToJSONDecoder(_ text: String) throws {
        let json = Array(text.utf8)
        let slow = Result { () throws(WireError) in try WireCodec.decode(PushRequest.self, from: json, compressed: false) }
        let viaPush = Result { () throws(WireError) in try WireCodec.decodePush(from: json, compressed: false) }
        if let fast = PushParser.parse(json) {
            // Taken: then JSONDecoder must take it too, the same way.
            #expect(try slow.get() == fast)
        }
        switch (slow, viaPush) {
        case (.success(let a), .success(let b)): #expect(a == b)
        case (.failure(let a), .failure(let b)): #expect(a == b)
        default: Issue.record("decode and decodePush disagree: \(slow) vs \(viaPush)")
        }
    }
}

/// The device's cursor travels with its first push page and is read back by the parser.
@Suite struct PushCursorTests {
    @Test func theCursorIsWrittenAndReadBack() throws {
        let a = SiteID(high: 1, low: 2), b = SiteID(high: 0xffff, low: 7)
        let change = Change(table: "events", key: "E1", cl: 1, values: [ColumnValue("amount", .integer(5))], hlc: HLC(rawValue: 1 << 40), site: a, seq: 1)
        let req = PushRequest(schemaVersion: 6, site: a, changes: [change], cursor: VersionVector([a: 3, b: 1 << 33]))
        let bytes = PushWriter.encode(req)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""cursor":{"00000000000000010000000000000002":3,"000000000000ffff0000000000000007":8589934592}"#))
        #expect(PushParser.parse(bytes) == req)
        var old = req
        old.cursor = nil
        #expect(PushParser.parse(PushWriter.encode(old)) == old, "a device that sends no cursor")
        #expect(PushParser.parse(Array(#"{"changes":[],"cursor":{"zz":1},"protocol":1,"schema":6,"site":"x"}"#.utf8)) == nil, "a malformed cursor goes to JSONDecoder, which refuses it")
    }
}

/// `PushWriter` writes the bytes JSONEncoder writes.
@Suite struct PushWriterTests {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    @Test func writesWhatJSONEncoderWrites() throws {
        var rng = SeededGenerator(seed: 7)
        // Every control character, escapes, slashes, non-ASCII, and column names whose order
        // differs between byte order and other orders (digits, case, accents).
        let names = ["a", "B", "b", "col10", "col9", "Z_z", "é", "e", "route", "amount_due", "x/y", "ü", "10", "9"]
        for round in 0..<300 {
            var changes: [Change] = []
            for k in 0..<Int.random(in: 0...12, using: &rng) {
                var values: [ColumnValue] = []
                for name in names.shuffled(using: &rng).prefix(Int.random(in: 0...6, using: &rng)) {
                    values.append(ColumnValue(name, PushParserTests.randomValue(&rng)))
                }
                let control = String(UnicodeScalar(UInt8(Int.random(in: 0..<32, using: &rng))))
                changes.append(Change(table: "t" + PushParserTests.randomText(&rng), key: control + PushParserTests.randomText(&rng) + "/\(k)",
                                      cl: Int64.random(in: 1...9, using: &rng), values: values,
                                      hlc: HLC(rawValue: UInt64.random(in: 0...UInt64.max, using: &rng)),
                                      site: PushParserTests.site, seq: UInt64.random(in: 0...UInt64.max, using: &rng)))
            }
            // Every other round carries the device's cursor (a version vector of random sites).
            var cursor: VersionVector? = nil
            if round % 2 == 1 {
                var entries: [SiteID: UInt64] = [:]
                for _ in 0..<Int.random(in: 0...5, using: &rng) {
                    entries[SiteID(high: UInt64.random(in: 0...UInt64.max, using: &rng), low: UInt64.random(in: 0...UInt64.max, using: &rng))] = UInt64.random(in: 1...1 << 40, using: &rng)
                }
                cursor = VersionVector(entries)
            }
            let req = PushRequest(schemaVersion: round, site: PushParserTests.site, changes: changes, cursor: cursor)
            let mine = PushWriter.encode(req)
            let theirs = Array(try Self.encoder.encode(req))

            #expect(mine == theirs, "round \(round):\n\(String(decoding: mine, as: UTF8.self).prefix(400))\n\(String(decoding: theirs, as: UTF8.self).prefix(400))")
            if mine != theirs { return }
        }
    }
}
