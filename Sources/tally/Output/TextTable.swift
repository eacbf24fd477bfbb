/// A plain-text table whose columns line up in a terminal even with Chinese (double-width)
/// text.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns to right-align (amounts, counts).
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table; without `header`, rows only (a label/value list).
    func render(header: Bool = true) -> String {
        var widths = header ? headers.map(displayWidth) : headers.map { _ in 0 }
        for r in rows {
            for (i, cell) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(cell)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - displayWidth(cell)))
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        var out = header ? [line(headers), widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")] : []
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}

/// Columns a string takes in a terminal: East Asian wide and fullwidth characters take two,
/// combining marks none.
func displayWidth(_ s: String) -> Int {
    var w = 0
    for u in s.unicodeScalars {
        let v = u.value
        switch v {
        case 0x0300...0x036F, 0x200B...0x200F, 0xFE00...0xFE0F: continue
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
             0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            w += 2
        default:
            w += 1
        }
    }
    return w
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
