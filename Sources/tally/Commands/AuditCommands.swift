import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Check that no device's record was altered, removed or replayed.",
        subcommands: [AuditVerify.self])
}

struct AuditVerify: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-verify every device's signed entry chain in the depot, and list the altered entries pushes were refused for.",
        discussion: "Each entry's Ed25519 signature is checked against the key its device registered at its join, each link against the previous entry's hash, the numbering for gaps and forks (Protocol/SIGNING.md). Exits 1 when anything is wrong.")
    @OptionGroup var data: DataOption
    @Option(help: "Only this device.")
    var device: String?
    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Result: Encodable {
        var audit: ChainAudit
        /// Pushes refused for an altered entry, and alterations devices reported of themselves.
        var refused: [AuditEntry]
        /// Devices that took a new identity (a file gone back, a clock run ahead), and pushes
        /// refused for reusing a number: explained, not wrong.
        var recovered: [AuditEntry]
        var ok: Bool
    }

    func execute() throws {
        let folder = data.folder
        let registry = try folder.registry(clock: cliClock)
        var keys: [String: String] = [:]
        for d in try registry.devices() { if let k = d.publicKey { keys[d.name] = k } }
        let replica = try folder.replica(schema: RouteSchema.current, options: .cli())
        let audit = try ChainAudit.run(replica, keys: keys, device: device)
        let refused = try registry.auditLog(actions: [AuditAction.refusedSignature, AuditAction.tamperReported], device: device)
        let recovered = try registry.auditLog(actions: [AuditAction.sequenceReused, AuditAction.recovered], device: device)
        let result = Result(audit: audit, refused: refused, recovered: recovered, ok: audit.ok && refused.isEmpty)
        if json {
            try Console.json(result)
        } else {
            var t = TextTable(["device", "entries", "verified", "chain head"], rightAligned: [1, 2, 3])
            for d in audit.devices { t.add([d.device, String(d.entries), String(d.verified), String(d.head)]) }
            Console.out(audit.devices.isEmpty ? "no entries at the depot yet" : t.render())
            for f in audit.findings { Console.out("\(f.problem.rawValue.uppercased())  \(f.device)  \(f.detail)") }
            for e in refused {
                let what = e.action == AuditAction.tamperReported ? "ALTERED ON DEVICE" : "REFUSED AT PUSH"
                Console.out("\(what)  \(e.device)  \(HumanTime.local(e.at))  \(e.detail)")
            }
            for e in recovered {
                let what = e.action == AuditAction.recovered ? "SET UP AGAIN" : "NUMBER REUSED"
                Console.out("\(what)  \(e.device)  \(HumanTime.local(e.at))  \(e.detail)")
            }
            Console.out(result.ok ? "every entry verified: signed by its device, in an unbroken chain" : "NOT verified: see above")
        }
        if !result.ok { throw ExitCode(1) }
    }
}
