import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica
import TallyRoutes

/// The review of changes held at the depot: written by a device on a copy older than the
/// depot's compacted history.
struct DepotQuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "Review changes held for review: list, release or discard them.",
        discussion: """
            A device away while the depot compacted past it (see `tally depot compact --set-aside-after`) wrote on an \
            old picture of the data. Its ledger entries (deliveries, cash) count as usual; its other changes, such as a \
            ticket's status or a customer's details, are held here so that they neither undo later corrections nor get \
            lost. Release one to apply it now, as the depot's own change; discard it to drop it. Both are audited.
            """,
        subcommands: [List.self, Release.self, Discard.self])

    struct List: TallyCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the changes held for review.")
        @OptionGroup var data: DataOption
        @Flag(help: "Print the result as JSON.")
        var json = false

        func execute() throws {
            let items = try DepotQuarantine.list(replica: try data.folder.replica(schema: RouteSchema.current, options: .cli()),
                                                 registry: try data.folder.registry(clock: SystemWallClock()))
            if json { try Console.json(items); return }
            guard !items.isEmpty else { Console.out("nothing is held for review"); return }
            var t = TextTable(["id", "device", "held at", "table", "key", "change"])
            for i in items { t.add([i.id, i.device, i.heldAt, i.table, i.key, i.change]) }
            Console.out(t.render())
            Console.out("\(items.count) held; `tally depot quarantine release --data \(data.data) ID…` applies one, `discard` drops it (--all for every one)")
        }
    }

    struct Release: TallyCommand {
        static let configuration = CommandConfiguration(commandName: "release", abstract: "Apply held changes now, as the depot's own changes.")
        @OptionGroup var choice: Choice
        func execute() throws { try choice.decide(.release) }
    }

    struct Discard: TallyCommand {
        static let configuration = CommandConfiguration(commandName: "discard", abstract: "Drop held changes; the audit log keeps what they said.")
        @OptionGroup var choice: Choice
        func execute() throws { try choice.decide(.discard) }
    }

    struct Choice: ParsableArguments {
        @OptionGroup var data: DataOption
        @Argument(help: "Ids from `tally depot quarantine list`.")
        var ids: [String] = []
        @Flag(help: "Every held change.")
        var all = false

        func validate() throws {
            guard all != !ids.isEmpty else { throw ValidationError("name the changes by id, or give --all (not both)") }
        }

        func decide(_ d: DepotQuarantine.Decision) throws {
            let done = try DepotQuarantine.decide(d, ids: all ? nil : ids,
                                                  replica: try data.folder.replica(schema: RouteSchema.current, options: .cli()),
                                                  registry: try data.folder.registry(clock: SystemWallClock()))
            Console.out("\(d == .release ? "released" : "discarded") \(done.count) held changes"
                + (d == .release ? "; devices in scope receive them at their next sync" : "; the audit log keeps what they said"))
        }
    }
}
