import Foundation

/// A column value. There is deliberately no floating-point case: amounts are integers in minor
/// units, and text or integers carry everything else.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): String(v)
        case .text(let s): s
        case .blob(let b): "<\(b.count) bytes>"
        }
    }

    public var text: String? { if case .text(let s) = self { s } else { nil } }
    public var integer: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var isNull: Bool { self == .null }

    /// Does this value fit a column of the given type? NULL fits every type.
    func fits(_ type: ColumnType) -> Bool {
        switch (self, type) {
        case (.null, _), (.integer, .integer), (.text, .text), (.blob, .blob): true
        default: false
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

/// JSON form: null, a number (integer), a string (text), or `{"blob": "<base64>"}`.
extension Value: Codable {
    private enum BlobKey: String, CodingKey { case blob }

    public init(from decoder: any Decoder) throws {
        // The common cases first: a failed `try?` builds an error and its coding path, which
        // cost more than the decoding itself (the blob probe first was 15% of a depot's push).
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let s = try? c.decode(String.self) { self = .text(s) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let k = try? decoder.container(keyedBy: BlobKey.self) {
            let b64 = try k.decode(String.self, forKey: .blob)
            guard let data = Data(base64Encoded: b64) else {
                throw DecodingError.dataCorruptedError(forKey: .blob, in: k, debugDescription: "blob is not valid base64")
            }
            self = .blob(Array(data))
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a value is null, an integer, a string or {\"blob\": base64}")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer(); try c.encodeNil()
        case .integer(let v):
            var c = encoder.singleValueContainer(); try c.encode(v)
        case .text(let s):
            var c = encoder.singleValueContainer(); try c.encode(s)
        case .blob(let b):
            var c = encoder.container(keyedBy: BlobKey.self)
            try c.encode(Data(b).base64EncodedString(), forKey: .blob)
        }
    }
}
