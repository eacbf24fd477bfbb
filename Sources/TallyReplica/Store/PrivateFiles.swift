import Foundation

/// Files and folders that hold what only their owner may read: a device's replica (its
/// credential and signing key, the customers' names and signatures), the depot's databases and
/// backups (every device's data, credential hashes, approvals). Files are made 0600 and folders
/// 0700 by setting the mode itself, not by trusting the umask, and a file made by an older Tally
/// with a wider mode is narrowed the next time it is opened.
///
/// SQLite gives a database's `-wal` and `-shm` files the mode of the database file, so a
/// database made private before its first open keeps its side files private too; side files
/// already there are narrowed with it.
public enum PrivateFiles {
    public static let fileMode: mode_t = 0o600
    public static let folderMode: mode_t = 0o700

    /// Makes the database at `path` private, creating it empty (mode 0600 from the first
    /// byte) when it does not exist yet; its side files, when present, are narrowed too.
    public static func prepareDatabase(_ path: String) throws(ReplicaError) {
        guard isFilePath(path) else { return }
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw failure("create", path) }
        close(fd)
        try restrict(path)
        for suffix in ["-wal", "-shm", "-journal"] where FileManager.default.fileExists(atPath: path + suffix) {
            try restrict(path + suffix)
        }
    }

    /// Sets an existing file's mode to 0600.
    public static func restrict(_ path: String) throws(ReplicaError) {
        guard chmod(path, fileMode) == 0 else { throw failure("make private", path) }
    }

    /// Creates `path` and the folders above it that are missing; `path` itself is set to 0700
    /// (an existing folder included: it is the one this file's owner asked for).
    public static func folder(_ path: String) throws(ReplicaError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(folderMode)])
        } catch {
            throw ReplicaError.storage("cannot create the folder \(path) (\(error)); check the disk and who owns the folder above it")
        }
        guard chmod(path, folderMode) == 0 else { throw failure("make private", path) }
    }

    /// Writes `bytes` to a new file at `path` that is 0600 from its creation, then moves it in
    /// place in one rename: never a moment when the secret lies open.
    public static func write(_ bytes: [UInt8], to path: String) throws(ReplicaError) {
        let partial = path + ".writing"
        unlink(partial)
        let fd = open(partial, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw failure("create", partial) }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                let e = failure("write", partial)
                close(fd)
                unlink(partial)
                throw e
            }
            done += n
        }
        fsync(fd)
        close(fd)
        guard fchmodat(AT_FDCWD, partial, fileMode, 0) == 0, rename(partial, path) == 0 else {
            let e = failure("put in place", path)
            unlink(partial)
            throw e
        }
    }

    /// The permission bits of a file or folder (for checks and tests).
    public static func mode(_ path: String) -> mode_t? {
        var s = stat()
        guard stat(path, &s) == 0 else { return nil }
        return s.st_mode & 0o777
    }

    static func isFilePath(_ path: String) -> Bool {
        !path.isEmpty && path != ":memory:" && !path.hasPrefix("file:")
    }

    static func failure(_ what: String, _ path: String) -> ReplicaError {
        .storage("cannot \(what) \(path) (\(String(cString: strerror(errno)))); check the disk and who owns the file")
    }
}
