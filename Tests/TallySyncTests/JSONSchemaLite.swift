import Foundation

/// Any JSON value, keeping integers exact (64-bit) and apart from other numbers.
enum JSONValue: Codable, Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }

    subscript(key: String) -> JSONValue? { if case .object(let o) = self { o[key] } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int64? { if case .int(let i) = self { i } else { nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    var description: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: e.encode(self), as: UTF8.self)) ?? "?"
    }
}

/// A small JSON Schema (draft 2020-12) validator for the subset `Protocol/schemas` uses:
/// `$ref` (to a `$defs` entry or another schema file, with a JSON-pointer fragment), `type`,
/// `enum`, `const`, `properties`, `required`, `additionalProperties`, `propertyNames`, `items`,
/// `minItems`/`maxItems`, `minimum`/`maximum`, `minLength`/`maxLength`, `pattern`, `oneOf`,
/// `anyOf`, `allOf`, `not`, `if`/`then`/`else`. Annotations are ignored; any other keyword is
/// reported as an error, so a schema never silently goes unchecked.
struct SchemaValidator {
    let directory: URL
    private var cache: [String: JSONValue] = [:]

    static let annotations: Set<String> = ["$schema", "$id", "$defs", "$comment", "title", "description", "contentEncoding", "examples", "default"]

    init(directory: URL) throws {
        self.directory = directory
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".schema.json") {
            cache[name] = try JSONValue.parse(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    var schemaNames: [String] { cache.keys.sorted() }

    /// Every way `value` breaks the schema in `file`; empty when it conforms.
    func validate(_ value: JSONValue, against file: String) -> [String] {
        guard let root = cache[file] else { return ["no schema file \(file)"] }
        var errors: [String] = []
        check(value, root, file: file, at: "$", &errors)
        return errors
    }

    private func resolve(_ ref: String, from file: String) -> (JSONValue, String)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let target = parts[0].isEmpty ? file : String(parts[0])
        guard var node = cache[target] else { return nil }
        if parts.count == 2 {
            for token in parts[1].split(separator: "/") {
                let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard let next = node[key] else { return nil }
                node = next
            }
        }
        return (node, target)
    }

    private func check(_ v: JSONValue, _ s: JSONValue, file: String, at path: String, _ errors: inout [String]) {
        if case .bool(let b) = s {
            if !b { errors.append("\(path): no value is allowed here") }
            return
        }
        guard let schema = s.object else { errors.append("\(path): schema is not an object (\(file))"); return }
        for (keyword, arg) in schema.sorted(by: { $0.key < $1.key }) {
            switch keyword {
            case _ where Self.annotations.contains(keyword):
                continue
            case "$ref":
                guard let ref = arg.string, let (target, targetFile) = resolve(ref, from: file) else {
                    errors.append("\(path): cannot resolve $ref \(arg) in \(file)"); continue
                }
                check(v, target, file: targetFile, at: path, &errors)
            case "type":
                let allowed: [String] = arg.string.map { [$0] } ?? (arg.arrayStrings ?? [])
                let t = v.typeName
                if !(allowed.contains(t) || (t == "integer" && allowed.contains("number"))) {
                    errors.append("\(path): \(t), expected \(allowed.joined(separator: " or "))")
                }
            case "enum":
                if case .array(let options) = arg, !options.contains(where: { Self.equal($0, v) }) {
                    errors.append("\(path): \(v) is not one of \(arg)")
                }
            case "const":
                if !Self.equal(arg, v) { errors.append("\(path): \(v), expected \(arg)") }
            case "properties":
                guard case .object(let o) = v, let props = arg.object else { continue }
                for (name, sub) in props { if let child = o[name] { check(child, sub, file: file, at: "\(path).\(name)", &errors) } }
            case "required":
                guard case .object(let o) = v else { continue }
                for name in arg.arrayStrings ?? [] where o[name] == nil { errors.append("\(path): missing '\(name)'") }
            case "additionalProperties":
                guard case .object(let o) = v else { continue }
                let declared = Set(schema["properties"]?.object?.keys.map { $0 } ?? [])
                for (name, child) in o where !declared.contains(name) {
                    if case .bool(false) = arg { errors.append("\(path): unexpected '\(name)'") }
                    else { check(child, arg, file: file, at: "\(path).\(name)", &errors) }
                }
            case "propertyNames":
                guard case .object(let o) = v else { continue }
                for name in o.keys { check(.string(name), arg, file: file, at: "\(path)[name \(name)]", &errors) }
            case "items":
                guard case .array(let a) = v else { continue }
                for (i, child) in a.enumerated() { check(child, arg, file: file, at: "\(path)[\(i)]", &errors) }
            case "minItems":
                if case .array(let a) = v, let n = arg.int, a.count < n { errors.append("\(path): fewer than \(n) items") }
            case "maxItems":
                if case .array(let a) = v, let n = arg.int, a.count > n { errors.append("\(path): more than \(n) items") }
            case "minimum":
                if let x = v.number, let m = arg.number, x < m { errors.append("\(path): \(v) below \(arg)") }
            case "maximum":
                if let x = v.number, let m = arg.number, x > m { errors.append("\(path): \(v) above \(arg)") }
            case "minLength":
                if case .string(let str) = v, let n = arg.int, str.unicodeScalars.count < n { errors.append("\(path): shorter than \(n)") }
            case "maxLength":
                if case .string(let str) = v, let n = arg.int, str.unicodeScalars.count > n { errors.append("\(path): longer than \(n)") }
            case "pattern":
                guard case .string(let str) = v, let p = arg.string else { continue }
                guard let re = try? NSRegularExpression(pattern: p) else { errors.append("\(path): bad pattern \(p)"); continue }
                if re.firstMatch(in: str, range: NSRange(str.startIndex..., in: str)) == nil { errors.append("\(path): '\(str)' does not match \(p)") }
            case "oneOf", "anyOf", "allOf":
                guard case .array(let subs) = arg else { continue }
                let passing = subs.filter { sub in
                    var e: [String] = []
                    check(v, sub, file: file, at: path, &e)
                    return e.isEmpty
                }.count
                switch keyword {
                case "oneOf" where passing != 1: errors.append("\(path): matches \(passing) of oneOf, expected exactly 1")
                case "anyOf" where passing == 0: errors.append("\(path): matches none of anyOf")
                case "allOf" where passing != subs.count:
                    for sub in subs { check(v, sub, file: file, at: path, &errors) }
                default: break
                }
            case "not":
                var e: [String] = []
                check(v, arg, file: file, at: path, &e)
                if e.isEmpty { errors.append("\(path): matches a 'not' schema") }
            case "if":
                var e: [String] = []
                check(v, arg, file: file, at: path, &e)
                if let branch = e.isEmpty ? schema["then"] : schema["else"] { check(v, branch, file: file, at: path, &errors) }
            case "then", "else":
                continue  // taken with "if"
            default:
                errors.append("\(path): the test validator does not know the keyword '\(keyword)' (\(file))")
            }
        }
    }

    /// JSON equality, where 1 and 1.0 are the same number.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.number, let y = b.number { return x == y }
        return a == b
    }
}

extension JSONValue {
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    var arrayStrings: [String]? {
        guard case .array(let a) = self else { return nil }
        return a.compactMap(\.string)
    }
}
