import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// Service windows for one test, all offline, each with its own replica in one temporary
/// folder and one shared `ManualWallClock`. Sync is `merge(from:)` between replicas (what the
/// depot carries, for service tables every window reads). Removed when the fixture goes away.
///
/// The clock starts on Friday 2026-11-27 at 09:00 in Beijing.
final class Hall {
    static let friday = "2026-11-27T09:00:00+08:00"

    let dir: URL
    let clock: ManualWallClock
    private(set) var windows: [String: WindowBook] = [:]

    init(at time: String = Hall.friday) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-hall-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard let ms = IsoTime.parse(time) else { throw ServiceError.refused("bad test time \(time)") }
        clock = ManualWallClock(milliseconds: ms)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// A window joined with its device name and kind.
    @discardableResult
    func window(_ name: String, kind: String, person: String? = nil) throws -> WindowBook {
        let r = try Replica.create(at: dir.appendingPathComponent("\(name).sqlite").path, schema: RouteSchema.current,
                                   options: .quiet(wallClock: clock, durability: .off))
        try r.setSettings(["sync.device": name, "sync.scope": kind, "sync.role": "window"])
        let book = try WindowBook.joined(r, person: person, clock: clock)
        windows[name] = book
        return book
    }

    /// Both ways between two windows.
    func sync(_ a: WindowBook, _ b: WindowBook) throws {
        try a.replica.merge(from: b.replica)
        try b.replica.merge(from: a.replica)
    }

    func set(_ iso: String) {
        guard let ms = IsoTime.parse(iso) else { Issue.record("bad time \(iso)"); return }
        clock.set(ms)
    }

    /// Declares a calendar day on every window (what the depot's reference data brings).
    func declare(_ date: String, _ kind: WorkCalendar.DayKind) throws {
        for w in windows.values { try WorkCalendar.declare(date, kind, note: nil, in: w.replica) }
    }
}

/// Expects a service command to be refused with a message containing `words`, and to change
/// nothing on the replica.
func expectRefused(_ replica: Replica, _ words: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) throws {
    let before = try replica.digest()
    do {
        try body()
        Issue.record("expected a refusal containing '\(words)'", sourceLocation: sourceLocation)
    } catch let e as ServiceError {
        #expect(e.description.contains(words), "\(e.description)", sourceLocation: sourceLocation)
    }
    #expect(try replica.digest() == before, "a refusal changed the replica", sourceLocation: sourceLocation)
}
