import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

struct DepotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "depot",
        abstract: "Run the depot: enroll devices, serve sync, keep the audit log.",
        subcommands: [DepotInit.self, DepotImportManifest.self, DepotSampleManifest.self, DepotBackupCommand.self, DepotRestoreCommand.self, DepotEnroll.self, DepotCalendar.self, DepotRevoke.self, DepotRotate.self, DepotDevices.self, DepotAudit.self, DepotCompactCommand.self, DepotQuarantineCommand.self, DepotTLSCommand.self, DepotServe.self])
}

struct DataOption: ParsableArguments {
    @Option(help: "The depot's data folder.")
    var data: String

    var folder: DepotFolder { DepotFolder(data) }
}

struct DepotInit: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create a depot data folder.")
    @OptionGroup var data: DataOption

    func execute() throws {
        try data.folder.create(schema: RouteSchema.current, options: .cli())
        Console.out("created depot in \(data.data)\nnext: enroll devices with `tally depot enroll NAME --role van --route R07 --data \(data.data)`, then `tally depot serve --data \(data.data)`")
    }
}

struct DepotEnroll: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Enroll a device and print its credential (shown once).")

    @Argument(help: "The device's name, e.g. van-07.")
    var name: String
    @Option(help: "van, window or accountant.")
    var role: DeviceRole
    @Option(help: "A van's route.")
    var route: String?
    @Option(help: "A window's kind.")
    var window: String?
    @OptionGroup var data: DataOption
    @OptionGroup var out: CredentialOut
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let registry = try data.folder.registry(clock: SystemWallClock())
        let scope = role == .window ? window : route
        try out.check()
        let (device, credential) = try registry.enroll(name: name, role: role, scope: scope)
        if let file = try out.write(credential, device: device.name) {
            if json {
                try Console.json(["device": device.name, "role": device.role.rawValue, "scope": device.scope ?? "", "credentialFile": file])
                return
            }
            Console.out("""
                enrolled \(device.name) (\(device.role.rawValue)\(device.scope.map { ", \($0)" } ?? ""))
                credential written to \(file) (readable by you only; not shown). On the device: tally join http://DEPOT:8080 --credential-file \(file)
                """)
            return
        }
        if json {
            try Console.json(["device": device.name, "role": device.role.rawValue, "scope": device.scope ?? "", "credential": credential.token])
        } else {
            Console.out("""
                enrolled \(device.name) (\(device.role.rawValue)\(device.scope.map { ", \($0)" } ?? ""))
                credential: \(credential.token)
                This is the only time it is shown. On the device: tally join http://DEPOT:8080 --credential-file FILE (FILE holding it)
                """)
        }
    }
}

extension DeviceRole: ExpressibleByArgument {}

struct DepotRevoke: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a device's credential at once (a lost handheld).")
    @Argument(help: "The device's name.")
    var name: String
    @OptionGroup var data: DataOption

    func execute() throws {
        try data.folder.registry(clock: SystemWallClock()).revoke(name: name)
        Console.out("revoked \(name): its next sync is refused. Its changes already at the depot are kept.")
    }
}

struct DepotRotate: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate", abstract: "Issue a device a new credential; the old one is refused at once.",
        discussion: "The device keeps its replica, its site and its signing key: give it the new credential with "
            + "`tally credential --credential-file FILE --replica PATH`.")
    @Argument(help: "The device's name.")
    var name: String
    @OptionGroup var data: DataOption
    @OptionGroup var out: CredentialOut
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        try out.check()
        let c = try data.folder.registry(clock: SystemWallClock()).rotate(name: name)
        if let file = try out.write(c, device: name) {
            if json { try Console.json(["device": name, "credentialFile": file]); return }
            Console.out("new credential for \(name) written to \(file) (readable by you only); the old one is refused from now on. "
                + "On the device: tally credential --credential-file \(file) --replica PATH")
            return
        }
        if json { try Console.json(["device": name, "credential": c.token]); return }
        Console.out("""
            new credential for \(name): \(c.token)
            This is the only time it is shown; the old one is refused from now on.
            On the device: tally credential --credential-file FILE --replica PATH (FILE holding it)
            """)
    }
}

struct DepotDevices: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "List enrolled devices, their scope, last sync and clock skew.")
    @OptionGroup var data: DataOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let devices = try data.folder.registry(clock: SystemWallClock()).devices()
        if json { try Console.json(devices); return }
        var t = TextTable(["device", "role", "scope", "joined", "last sync", "clock skew", "state"], rightAligned: [5])
        for d in devices {
            t.add([d.name, d.role.rawValue, d.scope ?? "", d.site == nil ? "no" : "yes", d.lastSyncAt.map { HumanTime.local($0) } ?? "never",
                   d.lastSkewMs.map { HumanTime.skew(milliseconds: $0) } ?? "", d.isRevoked ? "revoked" : "active"])
        }
        Console.out(devices.isEmpty ? "no devices enrolled yet" : t.render())
    }
}

struct DepotAudit: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the depot's audit log, newest first.")
    @OptionGroup var data: DataOption
    @Option(help: "How many entries.")
    var limit = 50
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let entries = try data.folder.registry(clock: SystemWallClock()).auditLog(limit: limit)
        if json { try Console.json(entries); return }
        var t = TextTable(["at", "device", "action", "detail"])
        for e in entries { t.add([HumanTime.local(e.at), e.device, e.action, e.detail]) }
        Console.out(entries.isEmpty ? "the audit log is empty" : t.render())
    }
}

struct DepotBackupCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Back up the depot's data folder into one file, while it serves.",
        discussion: "Each database is copied with SQLite's online backup, so the file is consistent even while devices sync. Every file's SHA-256 is recorded and checked on restore.")
    @OptionGroup var data: DataOption
    @Option(help: "The backup file to write (must not exist).")
    var out: String
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let m = try DepotBackup.backup(data.folder, to: out, clock: SystemWallClock())
        if json { try Console.json(m); return }
        Console.out("backed up \(data.data) to \(out): " + m.files.map { "\($0.name) \(ByteCount.format($0.size))" }.joined(separator: ", "))
    }
}

struct DepotRestoreCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore a depot backup into a data folder (stop the depot first).",
        discussion: "Every file is checked before the folder changes. A folder holding a depot needs --replace; its files are kept beside as *.before-restore-<time>. Devices that pushed after the backup push those changes again at their next sync.")
    @Argument(help: "The backup file.")
    var file: String
    @OptionGroup var data: DataOption
    @Flag(help: "Replace the depot already in the data folder.")
    var replace = false

    func execute() throws {
        let m = try DepotBackup.restore(file, into: data.folder, replace: replace, clock: SystemWallClock())
        Console.out("restored \(file) (taken \(m.created)) into \(data.data): \(m.files.map(\.name).joined(separator: ", "))\nstart the depot again; devices push what the backup lacks at their next sync")
    }
}
