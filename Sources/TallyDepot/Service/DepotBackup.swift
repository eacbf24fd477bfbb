import Crypto
import Foundation
import GRDB
import TallyReplica
import TallyRoutes

/// A depot's data folder in one file, taken while the depot serves (SQLite's online backup of
/// each database, so every file is a consistent snapshot), and put back with every byte
/// checked. A restored depot takes a new epoch and site (`restore`); at their next sync devices
/// see it, push what it lacks and offer their blobs again: nothing they recorded is lost.
///
/// Format: the line `TALLY-BACKUP 1`, a line of JSON (`BackupManifest`), then each file's
/// bytes in the manifest's order.
public enum DepotBackup {
    static let magic = "TALLY-BACKUP 1\n"
    /// The data folder's databases, in the order they are stored.
    static let databases = ["depot.sqlite", "registry.sqlite", "settlement.sqlite"]

    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var size: Int
        public var sha256: String
    }

    public struct BackupManifest: Codable, Sendable, Equatable {
        public var created: String
        public var files: [Entry]
    }

    /// Writes a backup of `folder` to `out` (refused if `out` exists).
    @discardableResult
    public static func backup(_ folder: DepotFolder, to out: String, clock: any WallClock) throws -> BackupManifest {
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder.replicaPath) else { throw DepotError.notADepot(folder.path) }
        guard !fm.fileExists(atPath: out) else { throw DepotError.refused("\(out) already exists; choose a new file name for the backup") }
        let scratch = out + ".parts"
        try? fm.removeItem(atPath: scratch)
        try PrivateFiles.folder(scratch)
        defer { try? fm.removeItem(atPath: scratch) }
        var entries: [Entry] = []
        for name in databases {
            let source = (folder.path as NSString).appendingPathComponent(name)
            guard fm.fileExists(atPath: source) else { continue }
            let copy = (scratch as NSString).appendingPathComponent(name)
            var config = Configuration()
            config.readonly = true
            config.busyMode = .timeout(30)
            let from = try DatabaseQueue(path: source, configuration: config)
            try PrivateFiles.prepareDatabase(copy)
            let to = try DatabaseQueue(path: copy)
            try from.backup(to: to)
            try from.close()
            try to.close()
            let (size, hash) = try digest(copy)
            entries.append(Entry(name: name, size: size, sha256: hash))
        }
        let manifest = BackupManifest(created: IsoTime.format(clock.nowMilliseconds(), offsetMinutes: 0), files: entries)
        let header = magic + String(decoding: try JSONEncoder().encode(manifest), as: UTF8.self) + "\n"
        let partial = out + ".writing"
        // Every device's data and the credential hashes: readable by the depot's user only.
        guard fm.createFile(atPath: partial, contents: Data(header.utf8), attributes: [.posixPermissions: Int(PrivateFiles.fileMode)]) else {
            throw DepotError.refused("cannot write \(out); check the folder exists and is writable")
        }
        try PrivateFiles.restrict(partial)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partial))
        try handle.seekToEnd()
        for e in entries {
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: (scratch as NSString).appendingPathComponent(e.name)))
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try handle.write(contentsOf: chunk) }
            try input.close()
        }
        try handle.synchronize()
        try handle.close()
        try fm.moveItem(atPath: partial, toPath: out)
        return manifest
    }

    /// Restores a backup into `folder`. A folder that already holds a depot is refused unless
    /// `replace`; then its files are kept beside, renamed `*.before-restore-<time>`. Every
    /// file is checked against its SHA-256 before anything in the folder changes.
    @discardableResult
    public static func restore(_ file: String, into folder: DepotFolder, replace: Bool, clock: any WallClock) throws -> BackupManifest {
        let fm = FileManager.default
        guard let input = FileHandle(forReadingAtPath: file) else { throw DepotError.refused("cannot read \(file); check the path") }
        defer { try? input.close() }
        let head = try input.read(upToCount: 1 << 16) ?? Data()
        let bytes = Array(head)
        guard bytes.starts(with: Array(magic.utf8)), let end = bytes[magic.utf8.count...].firstIndex(of: 10),
              let manifest = try? JSONDecoder().decode(BackupManifest.self, from: Data(bytes[magic.utf8.count..<end])) else {
            throw DepotError.refused("\(file) is not a Tally depot backup (or its header is damaged); nothing was changed")
        }
        if fm.fileExists(atPath: folder.replicaPath) && !replace {
            throw DepotError.refused("\(folder.path) already holds a depot; stop the depot, then restore with --replace (its current files are kept beside as *.before-restore-…)")
        }
        // Unpack and check everything into a scratch folder first.
        try PrivateFiles.folder(folder.path)
        let scratch = (folder.path as NSString).appendingPathComponent(".restore-\(clock.nowMilliseconds())")
        try PrivateFiles.folder(scratch)
        defer { try? fm.removeItem(atPath: scratch) }
        try input.seek(toOffset: UInt64(end + 1))
        for e in manifest.files {
            guard databases.contains(e.name) else { throw DepotError.refused("\(file) names an unexpected file \(e.name); nothing was changed") }
            let path = (scratch as NSString).appendingPathComponent(e.name)
            fm.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: Int(PrivateFiles.fileMode)])
            try PrivateFiles.restrict(path)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var left = e.size
            var hasher = SHA256()
            while left > 0 {
                guard let chunk = try input.read(upToCount: min(left, 1 << 20)), !chunk.isEmpty else {
                    throw DepotError.refused("\(file) is truncated (\(e.name) is short by \(left) bytes); nothing was changed")
                }
                hasher.update(data: chunk)
                try out.write(contentsOf: chunk)
                left -= chunk.count
            }
            try out.synchronize()
            try out.close()
            guard BlobHash.hex(Array(hasher.finalize())) == e.sha256 else {
                throw DepotError.refused("\(e.name) in \(file) is damaged (its SHA-256 does not match); nothing was changed")
            }
        }
        // Only now touch the data folder.
        let stamp = IsoTime.format(clock.nowMilliseconds(), offsetMinutes: 0).filter { $0.isNumber }
        for name in databases {
            for suffix in ["", "-wal", "-shm"] {
                let current = (folder.path as NSString).appendingPathComponent(name + suffix)
                if fm.fileExists(atPath: current) { try fm.moveItem(atPath: current, toPath: current + ".before-restore-\(stamp)") }
            }
        }
        for e in manifest.files {
            try fm.moveItem(atPath: (scratch as NSString).appendingPathComponent(e.name), toPath: (folder.path as NSString).appendingPathComponent(e.name))
        }
        // The restored depot is not the one devices last spoke to: a new epoch tells them so
        // (they offer every blob again), and a new site keeps its own next writes from reusing
        // numbers devices already hold from the depot it replaces.
        let site = try Replica.assignNewSite(at: folder.replicaPath, settings: [DepotService.epochSetting: DepotService.newEpoch()])
        try folder.registry(clock: clock).audit(device: "depot", action: "restored",
                                               detail: "restored from the backup taken \(manifest.created); the depot now writes as \(site.hex)")
        return manifest
    }

    static func digest(_ path: String) throws -> (Int, String) {
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? input.close() }
        var hasher = SHA256()
        var size = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += chunk.count
        }
        return (size, BlobHash.hex(Array(hasher.finalize())))
    }
}
