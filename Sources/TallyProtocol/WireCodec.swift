import Foundation

/// JSON bodies, optionally zlib-compressed (`Content-Encoding: deflate`), with size limits.
public enum WireCodec {
    public static func encode<T: Encodable>(_ value: T, compress: Bool) throws -> [UInt8] {
        // A push, the bulk of what a device sends, is written by hand: the same bytes.
        let json: [UInt8]
        if let push = value as? PushRequest { json = PushWriter.encode(push) } else { json = Array(try encoder.encode(value)) }
        return compress ? Deflate.compress(json, level: 6) : json
    }

    /// Decodes a body. Every failure is a `WireError` a person can act on.
    public static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], compressed: Bool) throws(WireError) -> T {
        try decodeJSON(T.self, try inflate(body, compressed: compressed))
    }

    /// Decodes a push body: with `PushParser` when it can, else as `decode` does (the same
    /// value, or the same error).
    public static func decodePush(from body: [UInt8], compressed: Bool) throws(WireError) -> PushRequest {
        let json = try inflate(body, compressed: compressed)
        if let r = PushParser.parse(json) { return r }
        return try decodeJSON(PushRequest.self, json)
    }

    /// The body's JSON bytes, inflated when compressed, within the limits.
    public static func inflate(_ body: [UInt8], compressed: Bool) throws(WireError) -> [UInt8] {
        guard body.count <= WireLimits.maxBody else {
            throw .tooLarge("the request is \(body.count) bytes, over the limit of \(WireLimits.maxBody); sync in smaller batches")
        }
        var json = body
        if compressed {
            do { json = try Deflate.decompress(body, limit: WireLimits.maxInflated) } catch {
                switch error {
                case .tooLarge: throw .tooLarge("the request is over \(WireLimits.maxInflated) bytes once uncompressed; sync in smaller batches")
                default: throw .badEncoding("the compressed body is damaged or cut short (\(error)); send it again")
                }
            }
        }
        return json
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ json: [UInt8]) throws(WireError) -> T {
        do {
            return try decoder.decode(T.self, from: Data(json))
        } catch let e as DecodingError {
            throw .badRequest("the request is not valid JSON for this message: \(describe(e))")
        } catch {
            throw .badRequest("the request is not valid JSON: \(error)")
        }
    }

    public static func errorBody(_ e: WireError) -> [UInt8] {
        Array((try? encoder.encode(WireError.Body(error: .init(code: e.code, message: e.message)))) ?? Data())
    }

    /// Reads an error body a depot sent; nil if it is not one.
    public static func decodeError(_ body: [UInt8], status: Int) -> WireError? {
        guard let b = try? decoder.decode(WireError.Body.self, from: Data(body)) else { return nil }
        return WireError(status, b.error.code, b.error.message)
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static let decoder = JSONDecoder()

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .dataCorrupted(let c): "\(c.debugDescription) at \(path(c.codingPath))"
        case .keyNotFound(let k, let c): "missing '\(k.stringValue)' at \(path(c.codingPath))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): "\(c.debugDescription) at \(path(c.codingPath))"
        @unknown default: "\(e)"
        }
    }

    static func path(_ p: [any CodingKey]) -> String {
        p.isEmpty ? "the top level" : p.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
