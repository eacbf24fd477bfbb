import ArgumentParser
import Foundation
import TallyReplica
import TallyRoutes

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a simulated day: a depot, three vans, 90 tickets, offline deliveries, sync and day close.",
        discussion: "Needs no setup: everything happens in a temporary folder, removed afterwards unless --keep is given.",
        subcommands: [DemoDayCommand.self, DemoMonthCommand.self, DemoMergeCommand.self],
        defaultSubcommand: DemoDayCommand.self)
}

/// The demo's folder: a temporary one, or `--keep DIR` emptied of an earlier run.
struct DemoFolder: ParsableArguments {
    @Option(help: "Keep the files in this folder (created if missing) to inspect them afterwards.")
    var keep: String?

    @Option(help: "Seed for the made-up manifest and site ids, so a run can be repeated exactly.")
    var seed: UInt64 = 7

    func prepare(removing names: [String]) throws -> URL {
        let folder: URL
        if let keep {
            folder = URL(fileURLWithPath: keep)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in names { try? FileManager.default.removeItem(at: folder.appendingPathComponent(name)) }
        } else {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("tally-demo-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        return folder
    }

    func cleanUp(_ folder: URL) {
        if keep == nil { try? FileManager.default.removeItem(at: folder) }
    }
}

struct DemoDayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "day",
        abstract: "A whole route day: depot on a loopback port, three vans working offline, sync, day close (the default).")

    @OptionGroup var folder: DemoFolder

    func run() async throws {
        do {
            let dir = try folder.prepare(removing: ["depot", "manifest.csv"] + (RouteDayDemo.vans.map(\.name) + HallDayDemo.windows.map(\.name)).flatMap { ["\($0).sqlite", "\($0).sqlite-wal", "\($0).sqlite-shm"] })
            defer { folder.cleanUp(dir) }
            let ok = try await RouteDayDemo(folder: dir, seed: folder.seed).run()
            if let keep = folder.keep {
                Console.out("\nThe files are in \(keep): try `tally van tickets --replica \(keep)/van-01.sqlite` or `tally depot devices --data \(keep)/depot`.")
            }
            if !ok { throw ExitCode(2) }
        } catch {
            throw fail(error)
        }
    }
}

struct DemoMergeCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Three replica files edited offline merge in different orders and converge, conflict included.")

    @OptionGroup var folder: DemoFolder

    func execute() throws {
        let dir = try folder.prepare(removing: MergeDemo.deviceNames.flatMap { ["\($0).sqlite", "\($0).sqlite-wal", "\($0).sqlite-shm"] })
        defer { folder.cleanUp(dir) }
        let converged = try MergeDemo(folder: dir, seed: folder.seed).run()
        if let keep = folder.keep {
            Console.out("\nThe replicas are in \(keep): try `tally replica status \(keep)/depot.sqlite`.")
        }
        if !converged { throw ExitCode(2) }
    }
}

struct DemoMonthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "month",
        abstract: "A seeded month of three routes: holidays and a make-up day, a relief van, part payments collected later, "
            + "cash carried over, a late deposit, a correction after approval, bank exports; checked at the end.")

    @OptionGroup var folder: DemoFolder
    @Option(help: "Calendar days from 2026-09-21 (20 covers every variation; 30 is the month).")
    var days = 30

    func run() async throws {
        do {
            guard (20...120).contains(days) else { throw ValidationError("--days must be between 20 and 120") }
            let names = MonthDemo.vans + ["van-04"]
            let dir = try folder.prepare(removing: ["depot"] + names.flatMap { ["\($0).sqlite", "\($0).sqlite-wal", "\($0).sqlite-shm"] })
            defer { folder.cleanUp(dir) }
            let ok = try await MonthDemo(folder: dir, seed: folder.seed, days: days).run()
            if !ok { throw ExitCode(2) }
        } catch {
            throw fail(error)
        }
    }
}
