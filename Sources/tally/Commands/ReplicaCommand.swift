import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct ReplicaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Create, inspect and merge replica files.",
        subcommands: [ReplicaInit.self, ReplicaStatusCommand.self, ReplicaMerge.self, ReplicaWrite.self])
}

/// Options every replica command shares.
struct ReplicaOpenOptions: ParsableArguments {
    @Option(name: .customLong("max-drift"), help: "Seconds a merged change's clock may be ahead of this machine's.")
    var maxDriftSeconds: UInt64 = HybridClock.defaultMaxDrift / 1000

    func options() -> ReplicaOptions { .cli(maxDriftSeconds: maxDriftSeconds) }
}

struct ReplicaInit: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a new, empty replica file.")

    @Argument(help: "Path of the replica file to create.")
    var path: String

    @Option(help: "A schema JSON file (default: Tally's route schema).")
    var schema: String?

    @Option(help: "The site id, 32 hex digits (default: random).")
    var site: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let s: Schema
        if let file = schema {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read the schema file \(file)")
            }
            do { s = try JSONDecoder().decode(Schema.self, from: data) } catch {
                throw ValidationError("\(file) is not a valid schema: \(error)")
            }
            try s.validate()
        } else {
            s = RouteSchema.current
        }
        var siteID = SiteID.random()
        if let site {
            guard let id = SiteID(hex: site.lowercased()) else { throw ValidationError("--site takes 32 hex digits") }
            siteID = id
        }
        let r = try Replica.create(at: path, schema: s, site: siteID, options: .cli())
        if json {
            try Console.json(["path": path, "site": r.site.hex, "schemaVersion": String(s.version)])
        } else {
            Console.out("created replica \(path)\nsite \(r.site.hex), schema version \(s.version), tables: \(s.tables.map(\.name).joined(separator: ", "))")
        }
    }
}

struct ReplicaStatusCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show a replica's site, clock, version vector, rows and digest.")

    @Argument(help: "Path of the replica file.")
    var path: String

    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let r = try Replica.open(at: path, options: .cli())
        let s = try r.status()
        if json { try Console.json(s); return }
        Console.out("""
            replica   \(s.path)
            site      \(s.site)
            schema    version \(s.schemaVersion)
            clock     \(s.clockTime) (\(s.clock))
            changes   \(s.changes) in the log
            digest    \(s.digest)
            """)
        var vv = TextTable(["site", "changes held"], rightAligned: [1])
        for (site, seq) in s.versionVector.sorted {
            vv.add([site.hex + (site.hex == s.site ? " (this replica)" : ""), String(seq)])
        }
        Console.out("\n" + vv.render())
        var t = TextTable(["table", "kind", "live", "deleted"], rightAligned: [2, 3])
        for c in s.tables { t.add([c.table, c.kind, String(c.live), String(c.deleted)]) }
        Console.out("\n" + t.render())
        Console.out("\nconflicts \(s.conflicts), integrity violations \(s.violations), blobs \(s.blobs) (\(s.blobBytes) bytes)")
        if s.deferred > 0 {
            Console.out("\(s.deferred) changes from the depot wait for Tally to be updated on this device (they merge at the first sync after)")
        }
        if s.conflicts > 0 {
            for c in try r.conflicts() {
                Console.out("  conflict: \(c.table) \(c.key) \(c.column) = \(c.values.joined(separator: " | "))")
            }
        }
        if s.violations > 0 {
            for v in try r.violations() {
                Console.out("  violation: \(v.table) \(v.key) was re-sent with other content by \(v.site.hex.prefix(8)) at \(v.hlc)")
            }
        }
    }
}

struct ReplicaMerge: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge every change of one replica file into another.",
        discussion: "The simplest sync: a depot handed a van's replica on a USB stick merges it with `tally replica merge van.sqlite depot.sqlite`. Safe to repeat: changes already held are skipped.")

    @Argument(help: "The replica to read changes from (not modified).")
    var from: String

    @Argument(help: "The replica to merge them into.")
    var into: String

    @OptionGroup var open: ReplicaOpenOptions

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Summary: Encodable {
        var from: String, into: String
        var applied: Int, duplicates: Int, violations: Int, conflictsOpened: Int
        var digest: String
        var versionVector: VersionVector
    }

    func execute() throws {
        let options = open.options()
        let source = try Replica.open(at: from, options: options)
        var target = try Replica.open(at: into, options: options)
        if source.schema != target.schema && source.schema.extends(target.schema) {
            target = try Replica.open(at: into, schema: source.schema, options: options)
        }
        let report = try target.merge(from: source)
        let summary = Summary(from: from, into: into, applied: report.applied, duplicates: report.duplicates,
                              violations: report.violations.count, conflictsOpened: report.conflictsOpened,
                              digest: try target.digest(), versionVector: try target.versionVector())
        if json { try Console.json(summary); return }
        Console.out("merged \(from) into \(into): \(report.applied) new changes, \(report.duplicates) already held")
        if report.conflictsOpened > 0 { Console.out("  \(report.conflictsOpened) new conflict(s) to review: see `tally replica status \(into)`") }
        for v in report.violations {
            Console.out("  refused: \(v.table) \(v.key) re-sent with other content by site \(v.site.hex.prefix(8)); the earlier version is kept")
        }
        Console.out("digest \(summary.digest)")
    }
}

extension ReplicaOptions {
    /// How the CLI opens replicas: the CLI's clock, full durability, the CLI's logger.
    static func cli(maxDriftSeconds: UInt64 = HybridClock.defaultMaxDrift / 1000) -> ReplicaOptions {
        ReplicaOptions(wallClock: cliClock, maxDrift: maxDriftSeconds * 1000, durability: .full, logger: cliLogger)
    }
}

/// The CLI's wall clock: the machine's, or, for a rehearsal or a training session, the instant
/// `TALLY_NOW` gives (`2026-12-02T09:00:00+08:00`), so deadlines can be walked through without
/// waiting days. The depot's skew check still sees the real difference at sync.
let cliClock: any WallClock = {
    if let text = ProcessInfo.processInfo.environment["TALLY_NOW"], let ms = IsoTime.parse(text) {
        return ManualWallClock(milliseconds: ms)
    }
    return SystemWallClock()
}()
