import Foundation
import Testing
import TallyReplica
@testable import TallyRoutes

/// A van's replica for one test: the standard manifest imported, joined as van-07 on route R07,
/// and a `ManualWallClock` that only moves when the test says so. The folder is removed when the
/// fixture goes away.
///
/// The standard manifest (see `ManifestTests`), day 2026-11-28:
/// - T0001, stop 1, 张记便利店 (C10023), cash, promised by 12:00+08:00:
///   2 × 中华(硬) 6901028075015 at 450.00 (cartons `a1`, `a2`) and 1 × 玉溪,软 6901028075022 at
///   230.00 (carton `b1`): 1130.00.
/// - T0002, stop 2, 李家超市 (C10024), electronic, promised by 14:00+08:00:
///   1 × 中华(硬) 6901028075015 at 450.00 (carton `c1`).
final class VanFixture {
    static let day = "2026-11-28"
    static let t1 = "T0001"
    static let t2 = "T0002"
    /// 中华(硬), on both tickets.
    static let zhonghua = "6901028075015"
    /// 玉溪,软, on T0001 only.
    static let yuxi = "6901028075022"
    static let a1 = "C10023-6901028075015-0001"
    static let a2 = "C10023-6901028075015-0002"
    static let b1 = "C10023-6901028075022-0001"
    static let c1 = "C10024-6901028075015-0001"
    static let signature: [UInt8] = SignaturePNG.make(seed: 1)
    /// A real signature picture per ticket (one picture proves one handover); T0001's is `signature`.
    static func signature(for ticket: String) -> [UInt8] {
        ticket == t1 ? signature : SignaturePNG.make(seed: ticket.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })
    }
    /// Before the first promised time.
    static let morning = "2026-11-28T09:00:00+08:00"

    static let standardLines = [ManifestTests.header, ManifestTests.t1a, ManifestTests.t1b, ManifestTests.t2]

    let dir: URL
    let replica: Replica
    let clock: ManualWallClock
    let book: VanBook

    init(manifest lines: [String] = VanFixture.standardLines, at time: String = VanFixture.morning, route: String = "R07") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-van-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        clock = ManualWallClock(milliseconds: Self.milliseconds(time))
        replica = try Replica.create(at: dir.appendingPathComponent("van.sqlite").path, schema: RouteSchema.current,
                                     options: .quiet(wallClock: clock, durability: .off))
        let m = try Manifest.parse(ManifestTests.csv(lines))
        _ = try ManifestImport.run(m, into: replica)
        try replica.setSettings(["sync.device": "van-07", "sync.scope": route])
        book = try VanBook.joined(replica, clock: clock)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    /// Milliseconds since the epoch of an ISO-8601 time with offset.
    static func milliseconds(_ iso: String) -> UInt64 {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        guard let d = f.date(from: iso) else { fatalError("not a time: \(iso)") }  // safe: test constants
        return UInt64(d.timeIntervalSince1970 * 1000)
    }

    /// Moves the van's clock to a time.
    func set(_ iso: String) { clock.set(Self.milliseconds(iso)) }

    // MARK: - Reading

    func event(_ id: String) throws -> Row {
        guard let row = try replica.row("events", key: id) else {
            Issue.record("no event \(id)")
            throw VanError.refused("no event \(id)")
        }
        return row
    }

    func events(_ kind: EventKind) throws -> [Row] { try replica.rows("events").filter { $0["kind"].text == kind.rawValue } }

    func status(_ ticket: String) throws -> String? { try replica.row("tickets", key: ticket)?["status"].text }

    func view(_ ticket: String) throws -> TicketView? { try book.tickets().first { $0.ticket == ticket } }

    func cash() throws -> CashPosition { CashPosition(try book.dayLedger(Self.day), device: book.device) }

    /// What a refused call must leave as it was: every row and every blob.
    func state() throws -> String { "\(try replica.digest()) blobs=\(try replica.status().blobs)" }

    // MARK: - Recording

    /// Scans every carton of a ticket.
    @discardableResult
    func scanAll(_ ticket: String) throws -> [ScanOutcome] {
        try book.scan(ticket, codes: ticket == Self.t1 ? [Self.a1, Self.a2, Self.b1] : [Self.c1])
    }

    /// Scans and delivers T0001 in full, collecting the cash due (or `cash`).
    @discardableResult
    func deliverT1(cash: Money = Money(minorUnits: 113_000), partialReason: String? = nil) throws -> DeliveryRecord {
        try scanAll(Self.t1)
        return try book.deliver(DeliveryRequest(ticket: Self.t1, signature: Self.signature, signer: "张三", cash: cash, partialReason: partialReason))
    }

    /// Scans and delivers T0002 (electronic).
    @discardableResult
    func deliverT2() throws -> DeliveryRecord {
        try scanAll(Self.t2)
        return try book.deliver(DeliveryRequest(ticket: Self.t2, signature: Self.signature(for: Self.t2), signer: "李四"))
    }

    // MARK: - Refusals

    /// Expects `body` to be refused with a `VanError` whose message contains every fragment, and
    /// the replica (rows and blobs) to be exactly as before. Returns the message.
    @discardableResult
    func expectRefused<T>(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> T) throws -> String {
        let before = try state()
        var message = ""
        do {
            _ = try body()
            Issue.record("expected a refusal mentioning \(fragments), but it was accepted", sourceLocation: sourceLocation)
        } catch let e as VanError {
            message = e.description
            for f in fragments where !message.contains(f) {
                Issue.record("the refusal does not mention '\(f)': \(message)", sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record("expected a VanError, got \(error)", sourceLocation: sourceLocation)
        }
        #expect(try state() == before, "a refused call changed the replica: \(message)", sourceLocation: sourceLocation)
        return message
    }
}

extension Money {
    /// Whole yuan and fen, for readable expectations: `.yuan(1130)`, `.yuan(450, 50)`.
    static func yuan(_ y: Int64, _ fen: Int64 = 0) -> Money { Money(minorUnits: y * 100 + fen) }
}
