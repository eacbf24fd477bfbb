import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallySync

/// `--replica`, defaulting to $TALLY_REPLICA, then ./tally.sqlite.
struct ReplicaPathOption: ParsableArguments {
    @Option(help: "The device's replica file (default: $TALLY_REPLICA, then ./tally.sqlite).")
    var replica: String?

    var path: String { replica ?? ProcessInfo.processInfo.environment["TALLY_REPLICA"] ?? "tally.sqlite" }
}

/// A depot URL as typed: http or https, with a host.
func depotURL(_ text: String) throws -> URL {
    guard let u = URL(string: text), u.scheme == "http" || u.scheme == "https", u.host != nil else {
        throw ValidationError("'\(text)' is not a depot URL; write it like https://depot.example:8443")
    }
    return u
}

/// How this device trusts a depot's HTTPS certificate.
struct TrustOptions: ParsableArguments {
    @Option(name: .customLong("ca"), help: "The depot's CA certificate (its tls/ca.pem, from the depot staff) when the depot made its own certificate.")
    var caFile: String?
    @Flag(help: "Allow plain http:// to a depot that is not on this machine (only on a line the depot staff say is private).")
    var allowPlainHttp = false

    func trust() throws -> DepotTrust {
        DepotTrust(caPEM: try caFile.map { path throws(SyncError) in try DepotTrust.readCA(path) }, allowPlainHTTP: allowPlainHttp)
    }
}

struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join", abstract: "Create this device's replica, bound to a depot with the credential it enrolled.")

    @Argument(help: "The depot's URL, e.g. https://depot.example:8443 (http:// only on this machine unless --allow-plain-http)")
    var url: String
    @OptionGroup var credential: CredentialInput
    @OptionGroup var replica: ReplicaPathOption
    @OptionGroup var trust: TrustOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        do {
            let u = try depotURL(url)
            let token = try credential.required(for: "joining")
            let s = try await SyncClient.join(url: u, credential: token, replicaPath: replica.path, options: .cli(), trust: try trust.trust())
            if json { try Console.json(s); return }
            Console.out("joined \(url) as \(s.device) (\(s.role)\(s.scope.map { ", \($0)" } ?? "")); replica \(s.replica)\nnext: `tally sync --replica \(s.replica)`")
        } catch {
            throw fail(error)
        }
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push this device's changes to the depot and pull what it may see.",
        discussion: "Being offline is normal: when the depot cannot be reached, nothing is lost and the exit status is 75. A refused credential exits with 77.")

    @OptionGroup var replica: ReplicaPathOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        do {
            let bar = ProgressBar(enabled: !json && isatty(STDERR_FILENO) == 1)
            let summary = try await SyncClient.sync(path: replica.path, options: .cli(), logger: cliLogger) { p in bar.show(p) }
            if let done = summary.rebaselined, !json {
                Console.out("this device's copy was older than the history the depot keeps: set up again from the depot "
                    + "(\(done.rows) rows); the previous file is kept as \(done.previous)")
            }
            bar.finish()
            if json { try Console.json(summary); return }
            Console.out("synced: pushed \(summary.pushed), pulled \(summary.pulled), blobs \(summary.blobsUp), "
                + "\(ByteCount.format(summary.bytesSent)) sent, \(ByteCount.format(summary.bytesReceived)) received, \(summary.milliseconds) ms"
                + (summary.violations > 0 ? "; \(summary.violations) ledger entries refused by the depot (see its audit log)" : "")
                + (summary.busyRetries > 0 ? "; the depot was busy: \(summary.busyRetries) requests sent again after waiting" : ""))
            if summary.held > 0 {
                Console.out("held for review at the depot: \(summary.held) of this device's changes made on the old copy "
                    + "(entries are not held: they count); they show here once the depot staff release them")
            }
            if let r = summary.recovered {
                Console.out("\(r.reason.explanation): set up again from the depot under a new identity; "
                    + (r.replayed == 1 ? "1 change the depot lacked was" : "\(r.replayed) changes the depot lacked were")
                    + " recorded again and sent; the previous file is kept as \(r.previous)")
            }
            if summary.depotRestored == true {
                Console.out("the depot had been restored from an older backup: what it lacked of this device was sent again")
            }
            Console.out(summary.depotHoldsAll ? "the depot holds every change and image of this device"
                : "the depot does not hold yet: \(summary.pending) changes of this device; run `tally sync` again")
        } catch let e as SyncError {
            Console.err("tally: \(e.description)")
            let (code, status): (String, Int32)
            switch e {
            case .unreachable: (code, status) = ("unreachable", 75)
            case .depotCannotStore: (code, status) = ("depot_cannot_store", 75)
            case .credentialRefused: (code, status) = ("credential_refused", 77)
            case .local(.storage): (code, status) = ("storage", 3)
            default: (code, status) = ("refused", 1)
            }
            // A script reading stdout learns what happened too, not only from the status.
            if json { try? Console.json(SyncFailure(ok: false, code: code, message: e.description, exitStatus: Int(status))) }
            throw ExitCode(status)
        } catch {
            throw fail(error)
        }
    }
}

/// What `tally sync --json` prints when the sync did not happen (the message is also on stderr).
struct SyncFailure: Encodable {
    var ok: Bool
    var code: String
    var message: String
    var exitStatus: Int
    enum CodingKeys: String, CodingKey { case ok, code, message, exitStatus = "exit_status" }
}

enum ByteCount {
    static func format(_ n: Int) -> String {
        n < 1024 ? "\(n) B" : n < 1024 * 1024 ? String(format: "%.1f KB", Double(n) / 1024) : String(format: "%.1f MB", Double(n) / 1_048_576)
    }
}

/// Gives a joined device the new credential the depot issued (`tally depot rotate`).
struct CredentialCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential", abstract: "Store a new credential on a joined device (after `tally depot rotate`).",
        discussion: "The replica, its site and its signing key stay as they are; the next `tally sync` uses the new credential. "
            + "Give it as a file (--credential-file FILE, `-` for standard input) or in TALLY_CREDENTIAL rather than typed: "
            + "`ps` shows a command line.")
    @Argument(help: "The new credential (every user of this machine sees it in `ps`: prefer --credential-file).")
    var token: String?
    @Option(help: ArgumentHelp("Read the new credential from this file, `-` for standard input.", valueName: "file"))
    var credentialFile: String?
    @OptionGroup var replica: ReplicaPathOption

    func execute() throws {
        let t = try CredentialInput.required(for: "storing a new credential", file: credentialFile, inline: token)
        guard Credential(token: t) != nil else {
            throw ValidationError("that is not a credential; give the whole line `tally depot rotate` printed or wrote")
        }
        try SyncClient.replaceCredential(t, in: try Replica.open(at: replica.path, options: .cli()))
        Console.out("stored the new credential in \(replica.path); run `tally sync` to use it")
    }
}

/// Changes how a joined device trusts its depot (a new depot CA, or a depot moved to HTTPS),
/// keeping the replica and whatever it has not synced yet.
struct TrustCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust", abstract: "Change the depot CA (or plain-HTTP permission) a joined device trusts.",
        discussion: "For a depot that made a new CA or moved: nothing on the device changes but how it checks the depot. Give --url for a depot at a new address; what is not given stays as it was.")
    @OptionGroup var trust: TrustOptions
    @Option(help: "The depot's new URL, if it moved (e.g. from http:// to https://).")
    var url: String?
    @OptionGroup var replica: ReplicaPathOption

    func execute() throws {
        guard trust.caFile != nil || trust.allowPlainHttp || url != nil else {
            throw ValidationError("say what to trust: --ca FILE (the depot's ca.pem), --allow-plain-http, or --url URL")
        }
        let newURL = try url.map(depotURL)
        let given = try trust.trust()
        try SyncClient.replaceTrust(caPEM: given.caPEM, allowPlainHTTP: trust.allowPlainHttp ? true : nil, url: newURL,
                                    in: try Replica.open(at: replica.path, options: .cli()))
        Console.out("stored how \(replica.path) trusts its depot; run `tally sync` to use it")
    }
}
