import Foundation

/// Where the CLI writes: results to stdout, problems to stderr, JSON in one stable shape.
enum Console {
    static func out(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }

    static func err(_ s: String) {
        FileHandle.standardError.write(Data((s + "\n").utf8))
    }

    /// One JSON style for every command: snake_case keys, sorted, amounts as decimal strings,
    /// times as ISO strings with their offset.
    static func json<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        out(String(decoding: try e.encode(value), as: UTF8.self))
    }
}
