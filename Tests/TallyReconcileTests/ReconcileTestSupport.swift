import Foundation
import Testing
import TallyReplica
import TallyRoutes
@testable import TallyReconcile

/// A depot and its vans for one settlement scenario, all offline: the depot imports the manifest,
/// each van starts from the depot's state (`merge(from: depot)`, what a first sync does), works
/// through `VanBook`, and its entries reach the depot with `depot.merge(from: van)` (what sync does).
/// Every replica shares one `ManualWallClock`, so nothing is stamped in anyone's future. The
/// folder is removed when the fixture goes away.
///
/// The manifest, day 2026-11-28 (copied from `TallyRoutesTests/ManifestTests`, plus route R08):
/// - R07 T0001, stop 1, 张记便利店 (C10023), cash: 2 × 中华(硬) 6901028075015 at 450.00 (cartons `a1`,
///   `a2`) and 1 × 玉溪,软 6901028075022 at 230.00 (carton `b1`): 2 × 450.00 + 230.00 = 1130.00, 3 cartons.
/// - R07 T0002, stop 2, 李家超市 (C10024), electronic: 1 × 中华(硬) at 450.00 (carton `c1`), 1 carton.
/// - R08 T0003, stop 1, 王氏烟酒行 (C20001), cash: 1 × 红塔山(经典) 6901028000116 at 95.00 (carton `d1`).
/// Route R07 holds 3 + 1 = 4 cartons; R08 holds 1.
final class Depot {
    static let day = "2026-11-28"
    static let t1 = "T0001"
    static let t2 = "T0002"
    static let t3 = "T0003"
    static let zhonghua = "6901028075015"
    static let yuxi = "6901028075022"
    static let hongtashan = "6901028000116"
    static let a1 = "C10023-6901028075015-0001"
    static let a2 = "C10023-6901028075015-0002"
    static let b1 = "C10023-6901028075022-0001"
    static let c1 = "C10024-6901028075015-0001"
    static let d1 = "C20001-6901028000116-0001"
    static let signature: [UInt8] = SignaturePNG.make(seed: 1)
    /// A real signature picture per ticket (one picture proves one handover); T0001's is `signature`.
    static func signature(for ticket: String) -> [UInt8] {
        ticket == t1 ? signature : SignaturePNG.make(seed: ticket.utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 })
    }
    static let morning = "2026-11-28T09:00:00+08:00"

    static let header = Manifest.columns.joined(separator: ",")
    static let lineT1a = #"2026-11-28,R07,T0001,1,C10023,张记便利店,幸福路12号,13800000000,cash,2026-11-28T12:00:00+08:00,3,6901028075015,中华(硬),2,450.00,C10023-6901028075015-0001;C10023-6901028075015-0002"#
    static let lineT1b = #"2026-11-28,R07,T0001,1,C10023,张记便利店,幸福路12号,13800000000,cash,2026-11-28T12:00:00+08:00,1,6901028075022,"玉溪,软",1,230.00,C10023-6901028075022-0001"#
    static let lineT2 = #"2026-11-28,R07,T0002,2,C10024,李家超市,人民路8号,13800000001,electronic,2026-11-28T14:00:00+08:00,1,6901028075015,中华(硬),1,450.00,C10024-6901028075015-0001"#
    static let lineT3 = #"2026-11-28,R08,T0003,1,C20001,王氏烟酒行,解放街3号,13800000002,cash,2026-11-28T12:00:00+08:00,1,6901028000116,红塔山(经典),1,95.00,C20001-6901028000116-0001"#
    static let lines = [header, lineT1a, lineT1b, lineT2, lineT3]

    static func csv(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n").utf8) }

    let dir: URL
    let clock: ManualWallClock
    let replica: Replica
    let store: SettlementStore
    private(set) var vans: [String: VanBook] = [:]

    init(at time: String = Depot.morning) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tally-reconcile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        clock = ManualWallClock(milliseconds: Self.milliseconds(time))
        replica = try Self.newReplica(dir.appendingPathComponent("depot.sqlite").path, clock: clock)
        _ = try ManifestImport.run(try Manifest.parse(Self.csv(Self.lines)), into: replica)
        store = try SettlementStore(path: dir.appendingPathComponent("settlement.sqlite").path, clock: clock)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    static func newReplica(_ path: String, clock: ManualWallClock) throws -> Replica {
        try Replica.create(at: path, schema: RouteSchema.current, options: .quiet(wallClock: clock, durability: .off))
    }

    static func milliseconds(_ iso: String) -> UInt64 {
        guard let ms = IsoTime.parse(iso) else { fatalError("not a time: \(iso)") }  // safe: test constants
        return ms
    }

    /// Moves every replica's clock to a time.
    func set(_ iso: String) { clock.set(Self.milliseconds(iso)) }

    // MARK: - Vans

    /// A van joined on a route, starting from the depot's state as it is now.
    @discardableResult
    func van(_ name: String, route: String = "R07") throws -> VanBook {
        let r = try Self.newReplica(dir.appendingPathComponent("\(name).sqlite").path, clock: clock)
        try r.setSettings(["sync.device": name, "sync.scope": route])
        try r.merge(from: replica)
        let book = try VanBook.joined(r, clock: clock)
        vans[name] = book
        return book
    }

    /// Carries a van's entries to the depot, and its images unless told not to.
    func sync(_ book: VanBook, blobs: Bool = true) throws {
        try replica.merge(from: book.replica)
        if blobs {
            for b in try book.replica.blobs(after: 0, limit: 10_000) {
                if let bytes = try book.replica.blob(b.hash) { try replica.putBlob(bytes) }
            }
        }
    }

    /// And back: the van learns what other devices did.
    func pull(_ book: VanBook) throws { try book.replica.merge(from: replica) }

    /// Closes the van's day; cash still on hand is declared missing, as a driver short of it must.
    func close(_ book: VanBook) throws {
        let onHand = try book.daySummary().cashOnHand
        _ = try book.closeDay(unsynced: Unsynced(changes: 0, blobs: 0), missing: onHand > .zero ? onHand : nil,
                              reason: onHand > .zero ? "司机未能全部缴存" : nil)
    }

    // MARK: - Work

    static func cartons(_ ticket: String) -> [String] {
        switch ticket {
        case t1: [a1, a2, b1]
        case t2: [c1]
        default: [d1]
        }
    }

    /// Scans every carton of a ticket and hands it over, collecting `cash` (cash tickets).
    @discardableResult
    static func deliver(_ book: VanBook, _ ticket: String, cash: Money? = nil, partial: String? = nil,
                        short: [String: Int] = [:], scan: [String]? = nil) throws -> DeliveryRecord {
        _ = try book.scan(ticket, codes: scan ?? cartons(ticket))
        return try book.deliver(DeliveryRequest(ticket: ticket, signature: signature(for: ticket), signer: "店主", cash: cash, short: short,
                                                partialReason: partial))
    }

    /// The standard R07 day up to the deposit: vehicle check, odometer, load-out as the manifest,
    /// T0001 delivered in full for 1130.00 cash, T0002 delivered (electronic), odometer again.
    static func workR07(_ book: VanBook, cashT1: Money = .yuan(1130), partial: String? = nil, load: [String: Int] = [:]) throws {
        try book.vehicleCheck(fault: nil)
        try book.logOdometer(10_000, note: nil)
        _ = try book.loadOut(counts: load)
        try deliver(book, t1, cash: cashT1, partial: partial)
        try deliver(book, t2)
        try book.logOdometer(10_042, note: nil)
    }

    /// Writes a ledger entry by hand into a replica: what a faulty or foreign device could send.
    static func writeEvent(_ replica: Replica, id: String, _ values: [String: Value]) throws {
        try replica.write { tx in _ = try tx.insert("events", key: id, values) }
    }

    // MARK: - Bank and settlement

    @discardableResult
    func importBank(_ lines: [String], file: String = "bank.csv") throws -> Int {
        try store.importBank(try BankStatement.parse(Self.csv(["date,account,amount,reference"] + lines)), file: file)
    }

    static func device(_ name: String, _ route: String, lastSyncAt: String? = "2026-11-28T18:00:00+08:00", skew: Int64? = 0) -> DeviceInfo {
        DeviceInfo(name: name, role: "van", scope: route, lastSyncAt: lastSyncAt, lastSkewMs: skew)
    }

    func reconciler(_ devices: [DeviceInfo]? = nil) throws -> Reconciler {
        let r = Reconciler(replica: replica, store: store,
                           devices: devices ?? vans.values.map { Self.device($0.device, $0.route) })
        try r.prepareIndexes()
        return r
    }

    func reconcile(_ devices: [DeviceInfo]? = nil, date: String = Depot.day) throws -> Reconciliation {
        try reconciler(devices).reconcile(date: date)
    }
}

extension Reconciliation {
    func settlement(_ device: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Settlement {
        try #require(settlements.first { $0.device == device }, "no settlement for \(device) in \(settlements.map(\.device))",
                     sourceLocation: sourceLocation)
    }
}

extension Settlement {
    func exceptions(_ kind: ExceptionKind) -> [SettlementException] { exceptions.filter { $0.kind == kind } }
    var kinds: [ExceptionKind] { exceptions.map(\.kind) }
}

extension Money {
    /// Whole yuan and fen, for readable expectations: `.yuan(1130)`, `.yuan(1129, 50)`.
    static func yuan(_ y: Int64, _ fen: Int64 = 0) -> Money { Money(minorUnits: y * 100 + fen) }
}

/// Whether an exception's wording carries every fact (amounts, ids, codes) a test computed: the
/// wording around them may change, the facts may not.
func mentions(_ detail: String, _ facts: String...) -> Bool { facts.allSatisfy { detail.contains($0) } }

/// Expects a settlement command to be refused with a message containing every fragment.
func expectRefusal<T>(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected a refusal mentioning \(fragments), but it was accepted", sourceLocation: sourceLocation)
    } catch let e as ReconcileError {
        for f in fragments where !e.description.contains(f) {
            Issue.record("the refusal does not mention '\(f)': \(e.description)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected a ReconcileError, got \(error)", sourceLocation: sourceLocation)
    }
}
