/// How hard a commit pushes data to the disk before returning (SQLite's `synchronous` pragma,
/// in WAL mode).
public enum Durability: String, Sendable, CaseIterable {
    /// Every commit is on the disk before it returns: survives a crash of the app and a power
    /// cut. The default: a handheld's battery dies.
    case full
    /// Survives a crash of the app (kill -9); a power cut may lose the last few commits, never
    /// corrupt the file.
    case normal
    /// Tests and benchmarks that recreate their data only.
    case off

    var pragma: String {
        switch self {
        case .full: "FULL"
        case .normal: "NORMAL"
        case .off: "OFF"
        }
    }
}
