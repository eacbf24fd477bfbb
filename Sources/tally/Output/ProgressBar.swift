import Foundation
import TallySync

/// A one-line progress bar on stderr, drawn only on a terminal.
final class ProgressBar: Sendable {
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ p: SyncProgress) {
        guard enabled else { return }
        var line = "\r\(p.phase.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) "
        if let total = p.total, total > 0 {
            let width = 30
            let filled = min(width, p.done * width / total)
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(p.done)/\(total)"
        } else {
            line += "\(p.done)"
        }
        FileHandle.standardError.write(Data((line + "   ").utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
