import Foundation
import TallyReplica

/// A hand-written reader of `PushRequest` JSON, over the bytes: the depot's hot path.
/// `JSONDecoder` spent 23–41 µs per change on push bodies (Codable containers, the
/// `[String: Value]` dictionary, `Value`'s failing probes); this reads the same JSON in a few.
///
/// It reads only what it is sure of: strict JSON, integers without fraction or exponent,
/// known shapes. On anything else (malformed JSON, a missing key, a float, a duplicate column,
/// a bad clock) it returns nil and the caller decodes with `JSONDecoder`, which then gives the
/// answer and the error message it always gave. So it accepts exactly what `JSONDecoder`
/// accepts, or less, and decodes it to the same value.
public enum PushParser {
    public static func parse(_ json: [UInt8]) -> PushRequest? {
        json.withUnsafeBufferPointer { buf in
            var p = Cursor(buf)
            return p.pushRequest()
        }
    }
}

private struct Cursor {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ b: UnsafeBufferPointer<UInt8>) { self.b = b }

    @inline(__always) mutating func ws() {
        while i < b.count {
            switch b[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    @inline(__always) mutating func eat(_ c: UInt8) -> Bool {
        ws()
        guard i < b.count, b[i] == c else { return false }
        i += 1
        return true
    }

    @inline(__always) func peek() -> UInt8? { i < b.count ? b[i] : nil }

    // MARK: Messages

    mutating func pushRequest() -> PushRequest? {
        var proto: Int?, schema: Int?, site: String?, changes: [Change]?, cursor: VersionVector?
        guard eat(UInt8(ascii: "{")) else { return nil }
        if !eat(UInt8(ascii: "}")) {
            repeat {
                guard let k = objectKey() else { return nil }
                switch k {
                case "protocol": guard proto == nil, let v = integer() else { return nil }; proto = Int(v)
                case "schema": guard schema == nil, let v = integer() else { return nil }; schema = Int(v)
                case "site": guard site == nil, let v = string() else { return nil }; site = v
                case "changes": guard changes == nil, let v = changeList() else { return nil }; changes = v
                case "cursor": guard cursor == nil, let v = versionVector() else { return nil }; cursor = v
                default: guard skipValue() else { return nil }
                }
            } while eat(UInt8(ascii: ","))
            guard eat(UInt8(ascii: "}")) else { return nil }
        }
        ws()
        guard i == b.count, let proto, let schema, let site, let changes else { return nil }
        var r = PushRequest(schemaVersion: schema, site: SiteID(high: 0, low: 0), changes: changes)
        r.protocolVersion = proto
        r.site = site
        r.cursor = cursor
        return r
    }

    /// `{"<32 hex digits>": seq, …}`.
    mutating func versionVector() -> VersionVector? {
        var entries: [SiteID: UInt64] = [:]
        guard eat(UInt8(ascii: "{")) else { return nil }
        if !eat(UInt8(ascii: "}")) {
            repeat {
                guard let k = objectKey(), let site = SiteID(hex: k), entries[site] == nil, let v = integer(), v >= 0 else { return nil }
                entries[site] = UInt64(v)
            } while eat(UInt8(ascii: ","))
            guard eat(UInt8(ascii: "}")) else { return nil }
        }
        return VersionVector(entries)
    }

    mutating func changeList() -> [Change]? {
        guard eat(UInt8(ascii: "[")) else { return nil }
        var out: [Change] = []
        if eat(UInt8(ascii: "]")) { return out }
        repeat {
            guard let c = change() else { return nil }
            out.append(c)
        } while eat(UInt8(ascii: ","))
        guard eat(UInt8(ascii: "]")) else { return nil }
        return out
    }

    mutating func change() -> Change? {
        var table: String?, key: String?, cl: Int64?, values: [ColumnValue]?, hlc: HLC?, site: SiteID?, seq: UInt64?
        guard eat(UInt8(ascii: "{")) else { return nil }
        if !eat(UInt8(ascii: "}")) {
            repeat {
                // The field names compared as bytes: no String made for them.
                guard let k = plainKey() else { return nil }
                switch k {
                case .table: guard table == nil, let v = string() else { return nil }; table = v
                case .key: guard key == nil, let v = string() else { return nil }; key = v
                case .cl: guard cl == nil, let v = integer() else { return nil }; cl = v
                case .values: guard values == nil, let v = valueObject() else { return nil }; values = v
                case .hlc: guard hlc == nil, let v = hexString(16) else { return nil }; hlc = HLC(rawValue: v.0)
                case .site: guard site == nil, let v = hexString(32) else { return nil }; site = SiteID(high: v.0, low: v.1)
                case .seq: guard seq == nil, let v = integer(), v >= 0 else { return nil }; seq = UInt64(v)
                case .other: guard skipValue() else { return nil }
                }
            } while eat(UInt8(ascii: ","))
            guard eat(UInt8(ascii: "}")) else { return nil }
        }
        guard let table, let key, let cl, let values, let hlc, let site, let seq else { return nil }
        return Change(table: table, key: key, cl: cl, values: values, hlc: hlc, site: site, seq: seq)
    }

    /// `{"column": value, ...}`; nil on a column named twice.
    mutating func valueObject() -> [ColumnValue]? {
        guard eat(UInt8(ascii: "{")) else { return nil }
        var out: [ColumnValue] = []
        if eat(UInt8(ascii: "}")) { return out }
        repeat {
            guard let k = objectKey(), let v = value() else { return nil }
            for e in out where e.column == k { return nil }
            out.append(ColumnValue(k, v))
        } while eat(UInt8(ascii: ","))
        guard eat(UInt8(ascii: "}")) else { return nil }
        return out
    }

    /// null, an integer, a string, or `{"blob": "<base64>"}`.
    mutating func value() -> Value? {
        ws()
        guard let c = peek() else { return nil }
        switch c {
        case UInt8(ascii: "\""): return string().map(Value.text)
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "{"):
            i += 1
            guard let k = objectKey(), k == "blob", let b64 = string(), eat(UInt8(ascii: "}")),
                  let data = Data(base64Encoded: b64) else { return nil }
            return .blob(Array(data))
        default: return integer().map(Value.integer)
        }
    }

    // MARK: Tokens

    enum Field { case table, key, cl, values, hlc, site, seq, other }

    /// A change's field name and its colon. Names with escapes are read as strings (any such
    /// name is none of the fields, and JSONDecoder matches unescaped names too).
    mutating func plainKey() -> Field? {
        guard eat(UInt8(ascii: "\"")) else { return nil }
        let start = i
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "\\") {
            i = start - 1
            guard let k = objectKey() else { return nil }
            switch k {
            case "table": return .table
            case "key": return .key
            case "cl": return .cl
            case "values": return .values
            case "hlc": return .hlc
            case "site": return .site
            case "seq": return .seq
            default: return .other
            }
        }
        let name = UnsafeBufferPointer(rebasing: b[start..<i])
        i += 1
        guard eat(UInt8(ascii: ":")) else { return nil }
        func equals(_ w: StaticString) -> Bool {
            guard name.count == w.utf8CodeUnitCount else { return false }
            let p = w.utf8Start
            for k in 0..<name.count where name[k] != p[k] { return false }
            return true
        }
        let field: Field
        switch name.count {
        case 2: field = equals("cl") ? .cl : .other
        case 3: field = equals("key") ? .key : equals("hlc") ? .hlc : equals("seq") ? .seq : .other
        case 4: field = equals("site") ? .site : .other
        case 5: field = equals("table") ? .table : .other
        case 6: field = equals("values") ? .values : .other
        default: field = .other
        }
        if field == .other {
            // Not a field, but it must still be a JSON string: no control characters, valid UTF-8.
            guard !name.contains(where: { $0 < 0x20 }), String(validating: name, as: UTF8.self) != nil else { return nil }
        }
        return field
    }

    /// A string of exactly `digits` hex digits (16 or 32), as the high and low 64 bits; what
    /// `HLC(hex:)` and `SiteID(hex:)` take.
    mutating func hexString(_ digits: Int) -> (UInt64, UInt64)? {
        guard eat(UInt8(ascii: "\"")), i + digits < b.count, b[i + digits] == UInt8(ascii: "\"") else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for k in 0..<digits {
            let c = b[i + k]
            let d: UInt64
            switch c {
            case 0x30...0x39: d = UInt64(c - 0x30)
            case 0x41...0x46: d = UInt64(c - 0x41 + 10)
            case 0x61...0x66: d = UInt64(c - 0x61 + 10)
            default: return nil
            }
            if digits == 32 && k < 16 { hi = hi << 4 | d } else { lo = lo << 4 | d }
        }
        i += digits + 1
        return digits == 32 ? (hi, lo) : (lo, 0)
    }

    /// A key and its colon.
    mutating func objectKey() -> String? {
        guard let k = string(), eat(UInt8(ascii: ":")) else { return nil }
        return k
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        let w = word.utf8Start
        for k in 0..<n where b[i + k] != w[k] { return false }
        i += n
        return true
    }

    /// `-?[0-9]+` within Int64, not followed by a fraction or an exponent.
    mutating func integer() -> Int64? {
        ws()
        var neg = false
        if peek() == UInt8(ascii: "-") { neg = true; i += 1 }
        let start = i
        var v: Int64 = 0
        while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
            let d = Int64(b[i] - 0x30)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = neg ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            guard !o1, !o2 else { return nil }
            v = s
            i += 1
        }
        let digits = i - start
        guard digits > 0 else { return nil }
        if digits > 1 && b[start] == 0x30 { return nil }  // leading zero: not JSON
        if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
        return v
    }

    /// A JSON string; nil on bad escapes, control characters or invalid UTF-8.
    mutating func string() -> String? {
        guard eat(UInt8(ascii: "\"")) else { return nil }
        let start = i
        var high: UInt8 = 0
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(rebasing: b[start..<i])
                // ASCII needs no validation (6% of a depot's CPU went to validating keys).
                let s = high < 0x80 ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
                i += 1
                return s
            }
            high |= c
            if c == UInt8(ascii: "\\") { return escapedString(from: start) }
            if c < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// The slow path of `string()`: the string has escapes.
    mutating func escapedString(from start: Int) -> String? {
        var out: [UInt8] = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(validating: out, as: UTF8.self)
            }
            if c < 0x20 { return nil }
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            i += 1
            guard let e = peek() else { return nil }
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var u = hex4() else { return nil }
                if (0xD800..<0xDC00).contains(u) {
                    guard literal("\\u"), let lo = hex4(), (0xDC00..<0xE000).contains(lo) else { return nil }
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00..<0xE000).contains(u) {
                    return nil
                }
                guard let scalar = Unicode.Scalar(u) else { return nil }
                out.append(contentsOf: String(Character(scalar)).utf8)
            default: return nil
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard i + 4 <= b.count else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    /// Passes over any JSON value, checking its syntax.
    mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        ws()
        guard let c = peek() else { return false }
        switch c {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "n"): return literal("null")
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "["):
            i += 1
            if eat(UInt8(ascii: "]")) { return true }
            repeat { guard skipValue(depth: depth + 1) else { return false } } while eat(UInt8(ascii: ","))
            return eat(UInt8(ascii: "]"))
        case UInt8(ascii: "{"):
            i += 1
            if eat(UInt8(ascii: "}")) { return true }
            repeat { guard objectKey() != nil, skipValue(depth: depth + 1) else { return false } } while eat(UInt8(ascii: ","))
            return eat(UInt8(ascii: "}"))
        default:
            // A number: integers only here; anything else goes to JSONDecoder.
            return integer() != nil
        }
    }
}
