import Foundation

/// Median, min and max of a few runs.
struct Stat: Sendable {
    var values: [Double]
    init(_ values: [Double]) { self.values = values.sorted() }
    var median: Double {
        guard !values.isEmpty else { return .nan }
        let n = values.count
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2
    }
    var min: Double { values.first ?? .nan }
    var max: Double { values.last ?? .nan }

    /// "1.23 s (1.10–1.40)" with the unit's formatter.
    func text(_ f: (Double) -> String) -> String {
        values.count > 1 ? "\(f(median)) (\(f(min))–\(f(max)))" : f(median)
    }
}

enum Fmt {
    static func secs(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    static func s(_ v: Double) -> String { v < 10 ? String(format: "%.3f s", v) : String(format: "%.1f s", v) }
    static func ms(_ v: Double) -> String { String(format: "%.1f ms", v * 1000) }
    static func int(_ v: Int) -> String { group(String(v)) }
    static func num(_ v: Double) -> String { v.isFinite ? group(String(Int(v.rounded()))) : "–" }
    static func mb(_ v: Double) -> String { String(format: "%.1f MB", v) }
    static func bytes(_ v: Int) -> String {
        v >= 1 << 20 ? String(format: "%.1f MB", Double(v) / 1_048_576) : v >= 1 << 10 ? String(format: "%.1f KB", Double(v) / 1024) : "\(v) B"
    }
    static func rate(_ v: Double) -> String { "\(num(v))/s" }
    static func x(_ v: Double) -> String { String(format: "%.2f×", v) }
    static func us(_ v: Double) -> String { String(format: "%.2f µs", v * 1e6) }

    static func group(_ s: String) -> String {
        let neg = s.hasPrefix("-")
        let digits = Array(neg ? s.dropFirst() : Substring(s))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (neg ? "-" : "") + out
    }
}

/// A plain-text table: a header row, a rule, and left-aligned first column.
struct Table {
    let title: String
    let header: [String]
    var rows: [[String]] = []

    init(_ title: String, _ header: [String]) {
        self.title = title
        self.header = header
    }

    mutating func add(_ row: String...) { rows.append(row) }

    func render() -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = Swift.max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: Swift.max(0, widths[i] - c.count))
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var out = "\n== \(title) ==\n" + line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) + "\n" }
        return out
    }
}

func say(_ s: String) {
    FileHandle.standardOutput.write(Data((s + "\n").utf8))
}
