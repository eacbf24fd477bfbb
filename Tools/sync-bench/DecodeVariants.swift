import Foundation

/// Other ways to decode the same push bodies, to show what the depot's JSON decoding could cost
/// (`--only breakdown`). Not used by the depot.
enum DecodeVariants {
    /// `Value` decoded trying a string first, then an integer, then the blob object: no error is
    /// thrown and swallowed for the common case (a text value).
    enum StringFirstValue: Decodable {
        case null, integer(Int64), text(String), blob(String)
        private enum BlobKey: String, CodingKey { case blob }
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null; return }
            if let s = try? c.decode(String.self) { self = .text(s); return }
            if let i = try? c.decode(Int64.self) { self = .integer(i); return }
            self = .blob(try decoder.container(keyedBy: BlobKey.self).decode(String.self, forKey: .blob))
        }
    }

    /// `Value` decoded as `TallyReplica.Value` does it: the blob object probed first, then an
    /// integer, then a string, each miss a thrown and swallowed error.
    enum ProbeFirstValue: Decodable {
        case null, integer(Int64), text(String), blob(String)
        private enum BlobKey: String, CodingKey { case blob }
        init(from decoder: any Decoder) throws {
            if let c = try? decoder.container(keyedBy: BlobKey.self) {
                self = .blob(try c.decode(String.self, forKey: .blob))
                return
            }
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let i = try? c.decode(Int64.self) { self = .integer(i) }
            else { self = .text(try c.decode(String.self)) }
        }
    }

    /// The change's fields as they are on the wire (no hex parsing, no sorting), so that only the
    /// value decoding differs between the two.
    struct Change<V: Decodable>: Decodable {
        var table: String, key: String, cl: Int64, values: [String: V], hlc: String, site: String, seq: UInt64
    }

    struct Push<V: Decodable>: Decodable {
        var changes: [Change<V>]
    }

    /// Seconds to decode every body: wire-shaped structs with the engine's value order, the same
    /// with a string-first value, and untyped `JSONSerialization`.
    static func time(_ bodies: [[UInt8]]) throws -> (probeFirst: Double, stringFirst: Double, serialization: Double) {
        let data = bodies.map { Data($0) }
        var t = ContinuousClock.now
        for d in data { _ = try JSONDecoder().decode(Push<ProbeFirstValue>.self, from: d) }
        let a = Fmt.secs(t.duration(to: .now))
        t = .now
        for d in data { _ = try JSONDecoder().decode(Push<StringFirstValue>.self, from: d) }
        let b = Fmt.secs(t.duration(to: .now))
        t = .now
        for d in data { _ = try JSONSerialization.jsonObject(with: d) }
        return (a, b, Fmt.secs(t.duration(to: .now)))
    }
}
