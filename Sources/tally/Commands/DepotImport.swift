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
