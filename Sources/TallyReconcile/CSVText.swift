/// CSV as Excel opens it: fields quoted only when they must be, CRLF line ends. The caller adds
/// the UTF-8 byte-order mark when writing a file, so Chinese text opens intact.
public enum CSVText {
    public static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    public static func encode(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
