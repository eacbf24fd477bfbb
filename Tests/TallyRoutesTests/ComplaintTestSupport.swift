import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// A service hall for one test: window replicas (and vans) joined like real devices, sharing one
/// hand-moved wall clock so their changes never look too far ahead to each other. The folder
/// is removed when the fixture goes away.
///
/// Windows: `W1` (kind `complaints`, the complaint desk) and `W2` (kind `grants`) by default.
final class ServiceHall {
    /// A Friday.
    static let friday = "2026-11-27T10:00:00+08:00"

    let dir: URL
    let clock: ManualWallClock
    private(set) var replicas: [String: Replica] = [:]
    private var sites: UInt64 = 0

    init(at time: String = ServiceHall.friday, windows: [(String, String)] = [("W1", "complaints"), ("W2", "grants")]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        clock = ManualWallClock(milliseconds: VanFixture.milliseconds(time))
        for (device, kind) in windows { try add(device, role: "window", scope: kind) }
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// A new replica joined as `device`, with its own site id.
    @discardableResult
    func add(_ device: String, role: String, scope: String) throws -> Replica {
        sites += 1
        let r = try Replica.create(at: dir.appendingPathComponent("\(device).sqlite").path, schema: RouteSchema.current,
                                   site: SiteID(high: 0, low: sites), options: .quiet(wallClock: clock, durability: .off))
        try r.setSettings(["sync.device": device, "sync.scope": scope, "sync.role": role])
        replicas[device] = r
        return r
    }

    /// A replica that has joined nothing: for merging into, like the depot's.
    func fresh(_ name: String) throws -> Replica {
        sites += 1
        return try Replica.create(at: dir.appendingPathComponent("\(name)-\(sites).sqlite").path, schema: RouteSchema.current,
                                  site: SiteID(high: 1, low: sites), options: .quiet(wallClock: clock, durability: .off))
    }

    subscript(device: String) -> Replica {
        guard let r = replicas[device] else { fatalError("no device \(device) in this hall") }  // safe: test setup
        return r
    }

    /// The complaint book of a device, with the member of staff at it.
    func book(_ device: String, staff: String? = nil) throws -> ComplaintBook {
        try ComplaintBook.joined(self[device], person: staff, clock: clock)
    }

    func set(_ iso: String) { clock.set(VanFixture.milliseconds(iso)) }

    var now: UInt64 { clock.nowMilliseconds() }

    /// Declares calendar days on every device, as the depot's reference data would arrive.
    func declare(_ days: [String: WorkCalendar.DayKind]) throws {
        for r in replicas.values {
            try r.write { tx in
                for (date, kind) in days { try tx.insert("calendar", key: date, ["kind": .text(kind.rawValue)]) }
            }
        }
    }

    /// Sends what `to` lacks from `from`.
    func send(_ from: String, _ to: String) throws {
        try self[to].apply(self[from].changes(since: self[to].versionVector()))
    }

    /// Both ways.
    func exchange(_ a: String, _ b: String) throws {
        try send(a, b)
        try send(b, a)
    }

    /// The complaint as a device sees it now.
    func view(_ id: String, on device: String) throws -> ComplaintView? {
        try ComplaintBook.view(id, in: self[device], now: now)
    }

    /// Opens a complaint at `device` and sends it to every other window.
    func openEverywhere(at device: String = "W1", staff: String? = nil, _ request: ComplaintRequest = ServiceHall.standard) throws -> String {
        let id = try book(device, staff: staff).open(request).id
        for other in replicas.keys where other != device { try send(device, other) }
        return id
    }

    static let standard = ComplaintRequest(about: "van-07", byName: "王先生", phone: "13800000000",
                                           text: "司机态度不好 the driver was rude", wants: "道歉 an apology")

    // MARK: - Refusals

    /// Expects `body` to be refused with a `ServiceError` whose message contains every fragment,
    /// and every replica of the hall to be exactly as before. Returns the message.
    @discardableResult
    func expectRefused<T>(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> T) throws -> String {
        let before = try digests()
        var message = ""
        do {
            _ = try body()
            Issue.record("expected a refusal mentioning \(fragments), but it was accepted", sourceLocation: sourceLocation)
        } catch let e as ServiceError {
            message = e.description
            for f in fragments where !message.contains(f) {
                Issue.record("the refusal does not mention '\(f)': \(message)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a ServiceError, got \(error)", sourceLocation: sourceLocation)
        }
        #expect(try digests() == before, "a refused call changed a replica: \(message)", sourceLocation: sourceLocation)
        return message
    }

    func digests() throws -> [String: String] {
        try replicas.mapValues { try $0.digest() }
    }
}

extension ComplaintBook {
    /// Takes a valid complaint as far as `stage`, one step after the other.
    func advance(_ id: String, to stage: ComplaintStage) throws {
        if stage >= .judged { try judge(id, "valid") }
        if stage >= .assigned { try assign(id, to: "grants") }
        if stage >= .investigated { try investigate(id, findings: "查明属实 the driver shouted") }
        if stage >= .replied { try reply(id, told: "已道歉 we apologised and retrained the driver") }
        if stage >= .followedUp { try followUp(id, "satisfied", note: "满意 fine now") }
        if stage >= .archived { try archive(id) }
    }
}
