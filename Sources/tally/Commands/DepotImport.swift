import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

struct DepotImportManifest: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-manifest",
        abstract: "Import the day's tickets from the order system's CSV manifest, all or nothing.",
        discussion: """
            Columns: \(Manifest.columns.joined(separator: ",")). UTF-8, with or without BOM. \
            Every bad row is reported with its line number and nothing is imported. Importing \
            the same file twice changes nothing; a corrected ticket no device has touched is \
            replaced; one already worked on is refused.
            """)

    @Argument(help: "The manifest CSV file.")
    var file: String
    @OptionGroup var data: DataOption
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        guard let bytes = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file); check the path")
        }
        let manifest = try Manifest.parse(Array(bytes))
        let replica = try data.folder.replica(schema: RouteSchema.current, options: .cli())
        let s = try ManifestImport.run(manifest, into: replica)
        if json { try Console.json(s); return }
        Console.out("imported \(file): \(s.tickets) tickets, \(s.lines) lines, \(s.cartons) cartons; "
            + (s.written == 0 ? "nothing new (already imported)" : "\(s.written) tickets written, \(s.unchanged) unchanged, \(s.changes) changes"))
    }
}

struct DepotSampleManifest: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample-manifest",
        abstract: "Print a made-up manifest to try Tally with (Chinese shops, tobacco cartons).",
        discussion: "The same arguments always print the same file. Example: tally depot sample-manifest --date 2026-11-29 > manifest.csv")

    @Option(help: "The delivery date, like 2026-11-29.")
    var date: String
    @Option(help: "Route names, comma-separated.")
    var routes = "R01,R02,R03"
    @Option(help: "Tickets per route.")
    var tickets = 30
    @Option(help: "Seed for the made-up content.")
    var seed: UInt64 = 1

    func execute() throws {
        guard Manifest.isDate(date) else { throw ValidationError("'\(date)' is not a date like 2026-11-29") }
        guard (1...5000).contains(tickets) else { throw ValidationError("--tickets must be between 1 and 5000") }
        let names = routes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !names.isEmpty else { throw ValidationError("give at least one route with --routes") }
        FileHandle.standardOutput.write(Data(SampleManifest(date: date, routes: names, ticketsPerRoute: tickets, seed: seed).csv().utf8))
    }
}
