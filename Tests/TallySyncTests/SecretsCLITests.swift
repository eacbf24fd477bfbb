import Foundation
import Testing
import TallyDepot
import TallyReplica

/// Issue 18, defect 7, through the real `tally` binary and a real depot process: what holds a
/// secret (a replica with its credential and signing key, the depot's databases, its backups,
/// a written credential, the TLS keys) is readable by its owner only whatever the umask, and a
/// credential never has to stand on a command line.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SecretsCLITests {
    static func mode(_ path: String) -> String {
        PrivateFiles.mode(path).map { String($0, radix: 8) } ?? "missing"
    }

    /// The files of a folder (not its subfolders) that SQLite or Tally made.
    static func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).map { (folder as NSString).appendingPathComponent($0) }
            .filter { var d: ObjCBool = false; return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue }
    }

    @Test func secretsAreTheOwnersOnlyAndCredentialsStayOffTheCommandLine() async throws {
        let previous = umask(0o022)  // the usual umask: on d80fdf9 every file came out 0644
        defer { umask(previous) }
        let scratch = try Scratch("secrets")
        let depot = try await DepotProcess(scratch)
        #expect(Self.mode(depot.data) == "700", "the depot's data folder")
        for f in Self.files(in: depot.data) { #expect(Self.mode(f) == "600", "\(f)") }
        let other = scratch.path("tls-depot")
        #expect(try await Tool.run(["depot", "init", "--data", other], in: scratch).status == 0)
        #expect(try await Tool.run(["depot", "tls", "--data", other, "--host", "127.0.0.1"], in: scratch).status == 0)
        let tls = other + "/tls"
        #expect(Self.mode(tls) == "700")
        for key in ["ca-key.pem", "depot-key.pem"] { #expect(Self.mode(tls + "/" + key) == "600", "\(key)") }

        // The credential written to a file, never printed.
        let cred = scratch.path("van-01.credential")
        let enroll = try await Tool.run(["depot", "enroll", "van-01", "--role", "van", "--route", "R01", "--data", depot.data,
                                         "--credential-out", cred], in: scratch)
        #expect(enroll.status == 0, "\(enroll)")
        #expect(Self.mode(cred) == "600")
        let token = try String(contentsOfFile: cred, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count > 40 && !enroll.stdout.contains(token) && !enroll.stderr.contains(token), "\(enroll)")
        #expect(enroll.stdout.contains("--credential-file \(cred)"), "says how to use it: \(enroll.stdout)")
        // An existing file is never overwritten, and nothing is enrolled then.
        let again = try await Tool.run(["depot", "enroll", "van-09", "--role", "van", "--route", "R09", "--data", depot.data,
                                        "--credential-out", cred], in: scratch)
        #expect(again.status != 0 && again.stderr.contains("already exists"), "\(again)")
        let devices = try await Tool.run(["depot", "devices", "--data", depot.data, "--json"], in: scratch)
        #expect(!devices.stdout.contains("van-09"), "refused before enrolling: \(devices.stdout)")

        try await depot.start()
        // Three ways to give a credential, none on the command line: a file, standard input,
        // the environment.
        let v1 = scratch.path("van-01.sqlite")
        let j1 = try await Tool.run(["join", depot.url, "--credential-file", cred, "--replica", v1], in: scratch)
        #expect(j1.status == 0, "\(j1)")
        let t2 = try await depot.enroll("van-02", route: "R02")
        let v2 = scratch.path("van-02.sqlite")
        let j2 = try await Tool.run(["join", depot.url, "--credential-file", "-", "--replica", v2], in: scratch, input: t2 + "\n")
        #expect(j2.status == 0, "\(j2)")
        let t3 = try await depot.enroll("van-03", route: "R03")
        let v3 = scratch.path("van-03.sqlite")
        let j3 = try await Tool.run(["join", depot.url, "--replica", v3], in: scratch, env: ["TALLY_CREDENTIAL": t3])
        #expect(j3.status == 0, "\(j3)")
        for v in [v1, v2, v3] {
            #expect(try await Tool.run(["sync", "--replica", v], in: scratch).status == 0)
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: v + suffix) {
                #expect(Self.mode(v + suffix) == "600", "\(v + suffix)")
            }
        }
        // None given, or two at once: refused, one line, nothing made.
        let none = try await Tool.run(["join", depot.url, "--replica", scratch.path("none.sqlite")], in: scratch)
        #expect(none.status != 0 && none.stderr.contains("--credential-file"), "\(none)")
        let missing = try await Tool.run(["join", depot.url, "--credential-file", scratch.path("nope"), "--replica", scratch.path("none.sqlite")],
                                         in: scratch)
        #expect(missing.status != 0 && missing.stderr.contains("cannot read the credential file"), "\(missing)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("none.sqlite")))

        // A replica an older Tally left 0644 is narrowed at its next use.
        chmod(v1, 0o644)
        #expect(try await Tool.run(["sync", "--replica", v1], in: scratch).status == 0)
        #expect(Self.mode(v1) == "600")

        // A rotated credential, given to the device from a file.
        let rotated = scratch.path("van-01.rotated")
        let rotate = try await Tool.run(["depot", "rotate", "van-01", "--data", depot.data, "--credential-out", rotated], in: scratch)
        #expect(rotate.status == 0 && Self.mode(rotated) == "600", "\(rotate)")
        let stored = try await Tool.run(["credential", "--credential-file", rotated, "--replica", v1], in: scratch)
        #expect(stored.status == 0, "\(stored)")
        #expect(try await Tool.run(["sync", "--replica", v1], in: scratch).status == 0, "syncs with the new credential")

        // The depot's settlement book, a backup taken while serving, and a restore of it.
        #expect(try await Tool.run(["reconcile", "--data", depot.data, "--date", "2026-11-28"], in: scratch).status == 0)
        let backup = scratch.path("depot.tallybackup")
        #expect(try await Tool.run(["depot", "backup", "--data", depot.data, "--out", backup], in: scratch).status == 0)
        #expect(Self.mode(backup) == "600")
        #expect(FileManager.default.fileExists(atPath: depot.data + "/settlement.sqlite"))
        for f in Self.files(in: depot.data) { #expect(Self.mode(f) == "600", "\(f)") }
        await depot.stop()
        let restored = scratch.path("restored")
        let restore = try await Tool.run(["depot", "restore", backup, "--data", restored], in: scratch)
        #expect(restore.status == 0, "\(restore)")
        #expect(Self.mode(restored) == "700")
        for f in Self.files(in: restored) { #expect(Self.mode(f) == "600", "\(f)") }
    }
}
