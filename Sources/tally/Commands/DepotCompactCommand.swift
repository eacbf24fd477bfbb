import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

/// Compacts the depot's change log below what every device has applied.
struct DepotCompactCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Free the depot's change history that every device has already pulled.",
        discussion: """
            Removes change-log entries every joined, unrevoked device has pulled past, and deleted rows' tombstones \
            whose delete went with them. Records, ledger entries, blobs and the state's digest stay. A device that has \
            joined but never synced holds everything back: sync it, or revoke it if it is gone. So does a device away \
            for weeks, unless --set-aside-after DAYS or --set-aside NAME lets compaction pass it: when it comes back, its next sync sets it \
            up again from the depot, its entries count as usual, and its other changes made meanwhile wait for review \
            (`tally depot quarantine`). Safe while the depot serves; it waits for running syncs and then rewrites the \
            file (VACUUM).
            """)

    @OptionGroup var data: DataOption
    @Option(help: "Do not wait for devices not heard from for more than this many days.")
    var setAsideAfter: Int?
    @Option(help: "Do not wait for this device (repeat for several), however recently it synced.")
    var setAside: [String] = []
    @Flag(help: "Only count what would be freed.")
    var dryRun = false
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let replica = try data.folder.replica(schema: RouteSchema.current, options: .cli())
        let registry = try data.folder.registry(clock: SystemWallClock())
        if let d = setAsideAfter, d < 1 { throw ValidationError("--set-aside-after takes a number of days, 1 or more") }
        let r = try DepotCompaction.run(replica: replica, registry: registry, dryRun: dryRun,
                                        setAsideAfter: setAsideAfter.map { TimeInterval($0) * 86_400 }, setAside: Set(setAside))
        if json { try Console.json(r); return }
        let mb = { (b: Int64) in ByteCount.format(Int(b)) }
        let verb = dryRun ? "would remove" : "removed"
        Console.out("\(verb) \(r.freed.logEntries) change-log entries and \(r.freed.tombstones) tombstones, "
            + "below what all \(r.devices) devices have pulled"
            + (dryRun ? "" : "; \(mb(r.freed.bytesBefore)) → \(mb(r.freed.bytesAfter)), \(mb(r.freed.bytesBefore - r.freed.bytesAfter)) freed"))
        if !r.neverPulled.isEmpty {
            Console.out("held back by devices that have never synced: \(r.neverPulled.joined(separator: ", ")) (sync them, or revoke them if they are gone)")
        }
        if !r.setAside.isEmpty {
            Console.out("not waited for: \(r.setAside.joined(separator: ", ")); "
                + "each is set up again from the depot at its next sync, and its changes other than entries wait for `tally depot quarantine`")
        }
    }
}
