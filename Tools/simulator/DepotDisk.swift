import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The depot's data folder on a tmpfs of its own, so that its disk can really fill up for a
/// while (`DayFault.diskFull`): shrunk to what it holds, then grown again. Mounting needs root;
/// without it the fault is not run and the verdict says so.
enum Tmpfs {
    static let roomy = "8g"

    /// Mounts a tmpfs at `path` (made if missing); false when it cannot (not root).
    static func mount(_ path: String) -> Bool {
        guard geteuid() == 0 else { return false }
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return run(["mount", "-t", "tmpfs", "-o", "size=\(roomy)", "tmpfs", path])
    }

    /// Shrinks the tmpfs to what it holds now, plus a few pages: the next writes that need room
    /// fail with ENOSPC. False when it could not (it grew meanwhile).
    @discardableResult
    static func fillUp(_ path: String) -> Bool {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return false }
        let usedKB = (UInt64(s.f_blocks) - UInt64(s.f_bfree)) * UInt64(s.f_frsize) / 1024
        return run(["mount", "-o", "remount,size=\(usedKB + 16)k", path])
    }

    /// Gives the tmpfs its room back.
    @discardableResult
    static func free(_ path: String) -> Bool { run(["mount", "-o", "remount,size=\(roomy)", path]) }

    /// Copies what the tmpfs holds to `keep` (a failed run's evidence), then unmounts it.
    static func unmount(_ path: String, keepingIn keep: String?) {
        if let keep { _ = run(["cp", "-a", path, keep]) }
        _ = run(["umount", "-l", path])
    }

    static func run(_ args: [String]) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }
}
