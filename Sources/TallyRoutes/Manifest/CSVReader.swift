/// A strict RFC 4180 reader that knows the line each record starts on, so an import can say
/// "line 17: ..." exactly. Accepts a UTF-8 byte-order mark (Excel writes one), CRLF or LF line
/// ends, and quoted fields with commas, quotes and line breaks inside.
///
/// Hand-written rather than taken from a CSV package because the importers need the physical
/// line number of every record and a precise reason for malformed quoting.
public struct CSVReader {
    public struct Record: Sendable, Equatable {
        /// 1-based line on which the record starts.
        public var line: Int
        public var fields: [String]
    }

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Splits UTF-8 bytes into records. Invalid UTF-8 is refused with the line it is on.
    public static func records(_ bytes: [UInt8]) throws(Failure) -> [Record] {
        var data = bytes[...]
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        // Validate the encoding first, naming the line of the first bad byte.
        if String(validating: data, as: UTF8.self) == nil {
            var line = 1
            var start = data.startIndex
            for i in data.indices where data[i] == 0x0A {
                if String(validating: data[start..<i], as: UTF8.self) == nil { break }
                line += 1
                start = i + 1
            }
            throw Failure(line: line, reason: "the text is not UTF-8; save the file as \"CSV UTF-8\" and import it again")
        }
        let text = Array(String(decoding: data, as: UTF8.self).unicodeScalars)
        var out: [Record] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var i = 0
        var inQuotes = false
        var wasQuoted = false
        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            wasQuoted = false
        }
        while i < text.count {
            let c = text[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < text.count && text[i + 1] == "\"" {
                        field.append("\"")
                        i += 2
                        continue
                    }
                    inQuotes = false
                    wasQuoted = true
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case ",":
                endField()
            case "\r":
                if i + 1 < text.count && text[i + 1] == "\n" { i += 1 }
                fallthrough
            case "\n":
                endField()
                if !(fields.count == 1 && fields[0].isEmpty) { out.append(Record(line: recordLine, fields: fields)) }
                fields = []
                line += 1
                recordLine = line
            case "\"":
                guard field.isEmpty && !wasQuoted else {
                    throw Failure(line: line, reason: "a quote (\") inside a field that does not start with one; quote the whole field and double the inner quotes")
                }
                inQuotes = true
            default:
                if wasQuoted {
                    throw Failure(line: line, reason: "text after a closing quote; quote the whole field")
                }
                field.append(c)
            }
            i += 1
        }
        if inQuotes { throw Failure(line: recordLine, reason: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty || wasQuoted {
            endField()
            out.append(Record(line: recordLine, fields: fields))
        }
        return out
    }
}
