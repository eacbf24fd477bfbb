import Foundation

/// One benchmark figure for `Tools/bench/run-all.sh`: the samples measured (several runs),
/// and the baseline or peer measured beside it in the same run, so the report can give a
/// median with min and max and the ratio between the two.
public struct BenchFigure: Codable, Sendable {
    /// Groups rows in the report: "local write", "merge", "sync", "reconcile", "wire".
    public var section: String
    /// Stable name, so a peer measured in another process can be set beside it.
    public var id: String
    public var figure: String
    /// "s", "ms", "changes/s", "MB", "B/change"…
    public var unit: String
    /// Rates and counts per second: higher is better; times, sizes: lower.
    public var higherIsBetter: Bool
    public var samples: [Double]
    public var baseline: String?
    public var baselineSamples: [Double]?
    /// The aim, as words; judged by `aimRatio` (the largest time ratio to the
    /// baseline allowed) or `aimValue` (a limit in `unit`: a floor when higher is better).
    public var aim: String?
    public var aimRatio: Double?
    public var aimValue: Double?
    public var note: String?

    public init(section: String, id: String, figure: String, unit: String, higherIsBetter: Bool, samples: [Double],
                baseline: String? = nil, baselineSamples: [Double]? = nil, aim: String? = nil, aimRatio: Double? = nil,
                aimValue: Double? = nil, note: String? = nil) {
        self.section = section
        self.id = id
        self.figure = figure
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.samples = samples
        self.baseline = baseline
        self.baselineSamples = baselineSamples
        self.aim = aim
        self.aimRatio = aimRatio
        self.aimValue = aimValue
        self.note = note
    }
}

/// Where figures go: appended as JSON lines to the file named by `TALLY_BENCH_RESULTS`, when
/// set (`Tools/bench/run-all.sh` sets it); otherwise nowhere, and the tool prints as before.
public enum BenchResults {
    public static let variable = "TALLY_BENCH_RESULTS"

    public static func record(_ figure: BenchFigure) {
        guard let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard var line = try? encoder.encode(figure) else { return }
        line.append(UInt8(ascii: "\n"))
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: line)
    }
}
