import Crypto
import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// `Protocol/vectors/signing.json`: the exact bytes a device signs for an entry, their hash,
/// the chain link and the Ed25519 signature, with a fixed key (RFC 8032's first test key), so
/// a third party can check its own implementation. Regenerate with
/// TALLY_WRITE_SIGNING_VECTORS=1.
@Suite struct SigningVectorTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Protocol/vectors/signing.json").standardized
    /// RFC 8032, section 7.1, TEST 1.
    static let privateKey = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

    struct Vector: Codable, Equatable {
        var name: String
        var id: String
        /// Column values: a string is text, a number an integer, null a NULL.
        var values: [String: JSONValue]
        /// The signed bytes as text (they are UTF-8), and as hex.
        var signedText: String
        var signedHex: String
        var hash: String
        var signature: String
        /// Whether `signature` verifies for these values with `publicKey`.
        var valid: Bool
    }

    enum JSONValue: Codable, Equatable {
        case text(String), integer(Int64), null
        init(from d: any Decoder) throws {
            let c = try d.singleValueContainer()
            if c.decodeNil() { self = .null } else if let i = try? c.decode(Int64.self) { self = .integer(i) } else { self = .text(try c.decode(String.self)) }
        }
        func encode(to e: any Encoder) throws {
            var c = e.singleValueContainer()
            switch self {
            case .text(let s): try c.encode(s)
            case .integer(let i): try c.encode(i)
            case .null: try c.encodeNil()
            }
        }
        var value: Value {
            switch self {
            case .text(let s): .text(s)
            case .integer(let i): .integer(i)
            case .null: .null
            }
        }
    }

    struct File: Codable, Equatable {
        var note: String
        var publicKey: String
        var vectors: [Vector]
    }

    static func make() throws -> File {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Hex.bytes(privateKey)))
        func vector(_ name: String, _ id: String, _ values: [String: JSONValue], tamper: ((inout [String: JSONValue]) -> Void)? = nil) throws -> Vector {
            let bytes = SignedEvent.bytes(id: id, values.mapValues(\.value))
            let sig = Hex.string(try key.signature(for: bytes))
            var shown = values
            tamper?(&shown)
            let shownBytes = SignedEvent.bytes(id: id, shown.mapValues(\.value))
            return Vector(name: name, id: id, values: shown, signedText: String(decoding: shownBytes, as: UTF8.self), signedHex: Hex.string(shownBytes),
                          hash: SignedEvent.hash(shownBytes), signature: sig, valid: tamper == nil)
        }
        let first: [String: JSONValue] = [
            "route": .text("R07"), "ticket": .text("T11290002"), "kind": .text("deliver"), "amount": .integer(92_500), "device": .text("van-07"),
            "at": .text("2026-11-29T10:15:00.000+08:00"), "ref": .text("80d21fe746706240abba42b95c69ce908ecaca1c38e78268a6ee01528fd3ecfb"),
            "day": .text("2026-11-29"), "qty": .integer(4), "due": .integer(92_500), "detail": .text("{\"signer\":\"徐老板\"}"),
            "hash": .text("5b1e8bb5a3d6b5f0f3ac0d3c3f6c1b2e9a7d4c6b8e0f1a2b3c4d5e6f70819a2b"), "chain": .integer(1), "prev": .text(SignedEvent.genesis),
        ]
        let v1 = try vector("a delivery, the device's first entry", "van-07/deliver/T11290002", first)
        let second: [String: JSONValue] = [
            "route": .text("R07"), "kind": .text("deposit"), "amount": .integer(92_500), "device": .text("van-07"),
            "at": .text("2026-11-29T16:30:00.000+08:00"), "ref": .text("ICBC-0001"), "day": .text("2026-11-29"),
            "chain": .integer(2), "prev": .text(v1.hash),
        ]
        let v2 = try vector("a deposit, linked to the delivery", "van-07/deposit/ICBC-0001", second)
        let v3 = try vector("the delivery with its amount lowered after signing: the signature fails", "van-07/deliver/T11290002", first) {
            $0["amount"] = .integer(9_250)
        }
        return File(note: "Protocol/SIGNING.md. Private key (RFC 8032 TEST 1): \(privateKey)", publicKey: Hex.string(key.publicKey.rawRepresentation),
                    vectors: [v1, v2, v3])
    }

    @Test func theVectorsHoldForThisImplementation() throws {
        if ProcessInfo.processInfo.environment["TALLY_WRITE_SIGNING_VECTORS"] == "1" {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try (e.encode(try Self.make()) + Data("\n".utf8)).write(to: Self.file)
        }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.file))
        #expect(file.publicKey == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "RFC 8032's public key")
        for v in file.vectors {
            let bytes = SignedEvent.bytes(id: v.id, v.values.mapValues(\.value))
            #expect(Hex.string(bytes) == v.signedHex, "\(v.name): bytes")
            #expect(String(decoding: bytes, as: UTF8.self) == v.signedText, "\(v.name): bytes as text")
            #expect(SignedEvent.hash(bytes) == v.hash, "\(v.name): hash")
            #expect(SignedEvent.verify(bytes, sig: v.signature, publicKey: file.publicKey) == v.valid, "\(v.name): signature")
        }
        #expect(file.vectors[1].values["prev"] == .text(file.vectors[0].hash), "the second entry links to the first")
        #expect(file == (try Self.make()), "the recorded vectors are what this implementation makes; regenerate with TALLY_WRITE_SIGNING_VECTORS=1")
    }
}
