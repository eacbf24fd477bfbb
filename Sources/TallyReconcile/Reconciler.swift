import Foundation
import TallyReplica
import TallyRoutes

/// What the depot knows of a device apart from its entries: from the device registry.
public struct DeviceInfo: Sendable, Equatable {
    public var name: String
    public var role: String
    /// A van's route.
    public var scope: String?
    public var lastSyncAt: String?
    /// Clock skew at the last sync, ms (+: the device was ahead).
    public var lastSkewMs: Int64?
    /// Each time the device took a new identity (`device_recovered` in the depot's audit log):
    /// when (ISO, with offset) and what the depot recorded.
    public var recoveries: [(at: String, detail: String)]

    public init(name: String, role: String, scope: String?, lastSyncAt: String?, lastSkewMs: Int64?,
                recoveries: [(at: String, detail: String)] = []) {
        self.name = name
        self.role = role
        self.scope = scope
        self.lastSyncAt = lastSyncAt
        self.lastSkewMs = lastSkewMs
        self.recoveries = recoveries
    }

    public static func == (a: DeviceInfo, b: DeviceInfo) -> Bool {
        (a.name, a.role, a.scope, a.lastSyncAt, a.lastSkewMs) == (b.name, b.role, b.scope, b.lastSyncAt, b.lastSkewMs)
            && a.recoveries.map(\.at) == b.recoveries.map(\.at) && a.recoveries.map(\.detail) == b.recoveries.map(\.detail)
    }
}

/// Why a settlement command was refused.
public struct ReconcileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ s: String) { description = s }
}

/// Settles each van's business day from the depot's replica: what the tickets say was due, what
/// the van says it collected, what the bank says was deposited, and every difference as an
/// exception with a stable kind. Reading never changes the books; approving locks a day.
///
/// The business day of an entry is the manifest date the device was working (`events.day`),
/// never the wall clock: a van that works past midnight or deposits the next morning before
/// closing still has one day.
public struct Reconciler: Sendable {
    public let replica: Replica
    public let store: SettlementStore
    public let devices: [DeviceInfo]
    /// Clock skew beyond which a device's times are an exception.
    public var skewLimitMs: Int64 = 5 * 60 * 1000

    public init(replica: Replica, store: SettlementStore, devices: [DeviceInfo]) {
        self.replica = replica
        self.store = store
        self.devices = devices
    }

    /// Local indexes the reconciliation reads by (not replicated).
    public func prepareIndexes() throws {
        // The day's entries by kind, scans answered from the index alone.
        try replica.ensureIndexes([("events", ["day"]), ("events", ["kind"]), ("tickets", ["date"]), ("cartons", ["route"]), ("events", ["device", "chain"]),
                                   ("events", ["ref"]),
                                   ("events", ["day", "kind", "device", "ticket", "tally_cl", "ref"]),
                                   ("ticket_lines", ["ticket"])])
    }

    /// Every van's settlement for a day (optionally one route), with totals.
    public func reconcile(date: String, route: String? = nil) throws -> Reconciliation {
        try reconcile(date: date, route: route, matching: DepositMatching(deposits: allDeposits(), bank: store.bankLines()))
    }

    /// A day's reconciliation with the deposits already matched to the bank lines (the same for
    /// every day of a report over a range).
    func reconcile(date: String, route: String?, matching: DepositMatching) throws -> Reconciliation {
        guard IsoTime.isDate(date) else { throw ReconcileError("'\(date)' is not a date like 2026-11-28") }
        let day = try DayEntries.load(replica, date: date)
        let approvals = try store.approvals(day: date)
        let conflicts = try replica.conflicts()
        let violations = try replica.violations()

        var eventsByDevice: [String: [VanEvent]] = [:]
        var outcomesByRoute: [String: [VanEvent]] = [:]
        var returnsByRoute: [String: [VanEvent]] = [:]
        for e in day.active {
            eventsByDevice[e.device, default: []].append(e)
            if e.kind == EventKind.return.rawValue { returnsByRoute[e.route, default: []].append(e) }
            if e.kind == EventKind.deliver.rawValue || e.kind == EventKind.refuse.rawValue { outcomesByRoute[e.route, default: []].append(e) }
        }
        var ticketsByRoute: [String: [TicketInfo]] = [:]
        var routeOfTicket: [String: String] = [:]
        for t in day.tickets {
            ticketsByRoute[t.route, default: []].append(t)
            routeOfTicket[t.ticket] = t.route
        }
        var conflictsByRoute: [String: [ConflictRecord]] = [:]
        for c in conflicts where c.table == "tickets" { if let r = routeOfTicket[c.key] { conflictsByRoute[r, default: []].append(c) } }
        var mismatchesByDevice: [String: [SettlementException]] = [:]
        for (device, x) in day.scanMismatches { mismatchesByDevice[device, default: []].append(x) }

        // Vans and service windows: a window's cash (its fees) settles like a van's.
        var vans = devices.filter { ($0.role == "van" || $0.role == "window") && $0.scope != nil }
        let known = Set(vans.map(\.name))
        for name in Set(eventsByDevice.keys).union(day.scanDevices).sorted() where !known.contains(name) {
            // Entries from a device the registry does not list (a relief device, a test).
            let first = eventsByDevice[name]?.first
            if let window = first?.window, first?.route.isEmpty != false {
                vans.append(DeviceInfo(name: name, role: "window", scope: window, lastSyncAt: nil, lastSkewMs: nil))
            } else {
                vans.append(DeviceInfo(name: name, role: "van", scope: first?.route, lastSyncAt: nil, lastSkewMs: nil))
            }
        }
        if let route { vans = vans.filter { $0.role == "van" && $0.scope == route } }
        // A device is settled for a day it worked; a route's vans all show (pending) only when
        // none of them recorded anything for its tickets, so the missing day is seen.
        let workedRoutes = Set(day.active.filter { !$0.route.isEmpty }.map(\.route))
        vans = vans.filter {
            eventsByDevice[$0.name] != nil || day.scanDevices.contains($0.name)
                || ($0.role == "van" && ticketsByRoute[$0.scope ?? ""]?.isEmpty == false && !workedRoutes.contains($0.scope ?? ""))
        }
        vans.sort { ($0.role == "window" ? 1 : 0, $0.scope ?? "", $0.name) < ($1.role == "window" ? 1 : 0, $1.scope ?? "", $1.name) }

        var settlements: [Settlement] = []
        for van in vans {
            let r = van.role == "van" ? van.scope ?? "" : ""
            let approval = approvals[van.name]
            let ids = approval == nil ? [] : try DayEntries.ids(replica, date: date, device: van.name)
            var live = settle(van, date: date, tickets: ticketsByRoute[r] ?? [], active: eventsByDevice[van.name] ?? [],
                              routeReturns: returnsByRoute[r] ?? [], scanMismatches: mismatchesByDevice[van.name] ?? [],
                              day: day, outcomes: outcomesByRoute[r] ?? [], approval: approval, entries: ids, matching: matching,
                              conflicts: conflictsByRoute[r] ?? [], carriedIn: try carriedIn(van.name, before: date),
                              violations: r.isEmpty ? [] : violations.filter { $0.values.first { $0.column == "route" }?.value.text == r })
            if let frozen = approval?.frozen {
                // The day as approved, and beside it whatever would change it now.
                let late = live.exceptions.filter { $0.kind == .lateEvent }
                let changes = frozen.changes(now: live)
                live.tickets = frozen.tickets
                live.cash = frozen.cash
                live.load = frozen.load
                live.exceptions = frozen.exceptions + late + changes
            }
            settlements.append(live)
        }
        let totals = Reconciliation.Totals(
            expected: settlements.reduce(.zero) { $0 + $1.cash.expected }, collected: settlements.reduce(.zero) { $0 + $1.cash.collected },
            deposited: settlements.reduce(.zero) { $0 + $1.cash.deposited }, variance: settlements.reduce(.zero) { $0 + $1.cash.variance })
        let unmatched = route == nil ? matching.unmatchedBank.filter { $0.date == date } : []
        return Reconciliation(date: date, currency: "CNY", settlements: settlements, totals: totals, unmatchedBankLines: unmatched)
    }

    /// Missing entries of a device's signed chain (`Protocol/SIGNING.md`): numbered up to n, fewer
    /// than n held. Nil when the chain is whole (or the device signs nothing).
    func chainGap(_ device: String) -> String? {
        var held: Int64 = 0, head: Int64 = 0
        try? replica.select("SELECT COUNT(DISTINCT chain), MAX(chain) FROM events WHERE device = ?1 AND chain IS NOT NULL AND tally_cl % 2 = 1",
                            [.text(device)]) { r in
            held = r[0].integer ?? 0
            head = r[1].integer ?? 0
        }
        guard head > held else { return nil }
        return "\(head - held) of \(device)'s signed entries (numbered up to \(head)) have not reached the depot; the ones after the gap are held until they arrive: sync the device"
    }

    /// Cash a device brought into `date` from its previous closed day: carried over at that
    /// close, less what it paid in after it (`CashClose.outstanding`).
    func carriedIn(_ device: String, before date: String) throws -> Money {
        var previous: String?
        try replica.select("SELECT MAX(day) FROM events WHERE device = ?1 AND kind = ?2 AND day < ?3 AND tally_cl % 2 = 1",
                           [.text(device), .text(EventKind.closeDay.rawValue), .text(date)]) { previous = $0[0].text }
        guard let previous else { return .zero }
        var carry = Money.zero, missing = Money.zero, after = Money.zero
        try replica.select("""
            SELECT kind, amount, reason FROM events WHERE device = ?1 AND day = ?2 AND kind IN (?3, ?4, ?5) AND tally_cl % 2 = 1
            """, [.text(device), .text(previous), .text(EventKind.carry.rawValue), .text(EventKind.cashMissing.rawValue),
                  .text(EventKind.deposit.rawValue)]) { r in
            let amount = Money(minorUnits: r[1].integer ?? 0)
            switch r[0].text {
            case EventKind.carry.rawValue: carry += amount
            case EventKind.cashMissing.rawValue: missing += amount
            default: if r[2].text == CashPosition.afterClose { after += amount }
            }
        }
        return CashClose.outstanding(carried: carry, missing: missing, depositedAfterClose: after).carried
    }

    func allDeposits() throws -> [VanEvent] {
        DayLedger(try replica.rows("events", where: "kind", is: .text(EventKind.deposit.rawValue))
                  + replica.rows("events", where: "kind", is: .text(EventKind.void.rawValue)), ordered: false).active(.deposit)
    }

    // swiftlint:disable:next function_body_length function_parameter_count
    func settle(_ van: DeviceInfo, date: String, tickets: [TicketInfo], active: [VanEvent], routeReturns: [VanEvent],
                scanMismatches: [SettlementException], day: DayEntries, outcomes: [VanEvent], approval: ApprovedDay?,
                entries: [LockedEntry], matching: DepositMatching,
                conflicts: [ConflictRecord], carriedIn: Money, violations: [IntegrityViolation]) -> Settlement {
        var x: [SettlementException] = []
        let byKind = Dictionary(grouping: active, by: \.kind)
        func of(_ k: EventKind) -> [VanEvent] { byKind[k.rawValue] ?? [] }
        let ticketByKey = Dictionary(tickets.map { ($0.ticket, $0) }, uniquingKeysWith: { a, _ in a })

        // Tickets: what this route's devices did with them (a relief van's work counts too).
        let delivered = Set(outcomes.filter { $0.kind == EventKind.deliver.rawValue }.compactMap(\.ticket))
        let refused = Set(outcomes.filter { $0.kind == EventKind.refuse.rawValue }.compactMap(\.ticket))
        let counts = Settlement.Tickets(planned: tickets.count, delivered: delivered.count, refused: refused.count,
                                        open: tickets.filter { !delivered.contains($0.ticket) && !refused.contains($0.ticket) }.count)

        // Deliveries, from the entries' own columns; the handover content where lines matter.
        var shortByProduct: [String: Int] = [:]
        var deliveredCartons = 0
        var opened = Money.zero
        for d in of(.deliver) {
            let t = ticketByKey[d.ticket ?? ""]
            let ticket = d.ticket ?? "?"
            deliveredCartons += Int(d.qty ?? 0)
            if day.unbound.contains(d.id) {
                x.append(.init(.missingSignature, ticket: ticket, event: d.id, "delivery of \(ticket) does not bind its content or signature (hash or reference differs)"))
            } else if day.missingImages.contains(d.ref ?? "") {
                x.append(.init(.missingSignature, ticket: ticket, event: d.id, "the signature image of \(ticket) (\((d.ref ?? "").prefix(12))…) has not reached the depot; sync the van"))
            }
            if let shared = day.reusedSignatures[d.id] { x.append(.init(.signatureReused, ticket: ticket, event: d.id, shared)) }
            if let h = day.handovers[d.id] {
                for l in h.lines where l.short > 0 {
                    shortByProduct[l.product, default: 0] += l.short
                    x.append(.init(.shortDelivery, ticket: ticket, event: d.id, "\(l.short) × \(l.name) (\(l.product)) short; value \(h.value) instead of \(Money(minorUnits: h.value.minorUnits + l.unitPrice.minorUnits * Int64(l.short)))"))
                }
            }
            // What was due comes from the depot's import, never from the entry (the device's copy).
            let issued = day.issuedContent[d.id]
            let due = issued?.due ?? d.due
            if let difference = issued?.difference {
                x.append(.init(.contentMismatch, ticket: ticket, event: d.id,
                               "delivery of \(ticket) binds content that differs from the ticket as issued (\(difference)): "
                                   + "the van's entry says \(d.due) was due, the import says \(due); settled at \(due)"))
            }
            // Paid at the door other than in cash: by QR code, or put on the shop's account.
            let h = day.handovers[d.id]
            let notCash = (h?.qr ?? .zero) + (h?.onAccount ?? .zero)
            if let h, h.opened > .zero {
                opened += h.opened
                x.append(.init(.receivableOpened, ticket: ticket, event: d.id, "\(h.customerName) (\(h.customer)) owes \(h.opened) on \(ticket)"
                    + (h.owed.map { ": \($0) unpaid (\(h.partialReason ?? "no reason given"))" } ?? "")
                    + (h.onAccount.map { "\(h.owed == nil ? ":" : ";") \($0) on account" } ?? "")))
            }
            if t?.cash == true && d.amount != due - notCash - (h?.owed ?? .zero) {
                let why = d.reason.map { ": \($0)" } ?? " with no reason given"
                let other = notCash == .zero ? "" : " (\(notCash) paid otherwise)"
                x.append(.init(.cashMismatch, ticket: ticket, event: d.id, "collected \(d.amount) of \(due)\(other)\(why)"))
            } else if t?.cash == false && d.amount != .zero {
                x.append(.init(.cashMismatch, ticket: ticket, event: d.id, "\(d.amount) cash recorded on a ticket paid electronically"))
            }
            let scanned = day.scansByTicket[ticket] ?? 0  // a relief van's scans count too
            if scanned < Int(d.qty ?? 0) {
                x.append(.init(.cartonMismatch, ticket: ticket, event: d.id, "\(d.qty ?? 0) cartons handed over but only \(scanned) scanned"))
            }
        }
        x += scanMismatches
        for (r, v) in day.withdrawnRefusals where r.device == van.name {
            let ticket = r.ticket ?? "?"
            let then = delivered.contains(ticket) ? "then delivered" : refused.contains(ticket) ? "then refused again" : "left open"
            x.append(.init(.refusalTakenBack, ticket: ticket, event: r.id, "refusal of \(ticket) (\(r.reason ?? "")) recorded "
                + "\(HumanTime.local(r.at)) was taken back \(HumanTime.local(v.at, on: String(r.at.prefix(10)))) "
                + "(\(v.id): \(v.note ?? "")); the ticket was \(then)"))
        }

        // Returns, never more than delivered: all the route's returns of a ticket's product
        // against its delivery, whichever devices recorded them; flagged on each van that
        // returned some of it.
        var returned: [String: Int] = [:]
        for r in of(.return) { returned["\(r.ticket ?? "")|\(r.product ?? "")", default: 0] += Int(r.qty ?? 0) }
        var routeReturned: [String: Int] = [:]
        for r in routeReturns { routeReturned["\(r.ticket ?? "")|\(r.product ?? "")", default: 0] += Int(r.qty ?? 0) }
        for key in returned.keys.sorted() {
            let parts = key.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let total = routeReturned[key] ?? 0
            let deliveredQty = day.handoverByTicket[parts[0]]?.lines.filter { $0.product == parts[1] }.reduce(0) { $0 + $1.delivered } ?? 0
            if total > deliveredQty {
                x.append(.init(.returnExceedsDelivery, ticket: parts[0], "\(total) × \(parts[1]) returned (\(returned[key] ?? 0) by \(van.name)), \(deliveredQty) delivered"))
            }
        }

        // Cash.
        let cashTickets = Set(tickets.filter(\.cash).map(\.ticket))
        // A window's fees are cash due and cash taken at once.
        // Deliveries and returns at the import's prices (`IssuedContent`); a window's fee is its
        // own (no order system prices it).
        let expected = of(.deliver).filter { cashTickets.contains($0.ticket ?? "") }
            .reduce(Money.zero) { $0 + (day.issuedContent[$1.id]?.due ?? $1.due) - (day.handovers[$1.id]?.qr ?? .zero)
                - (day.handovers[$1.id]?.onAccount ?? .zero) }
            + of(.collect).reduce(Money.zero) { $0 + $1.amount }
            - of(.return).filter { cashTickets.contains($0.ticket ?? "") }.reduce(Money.zero) { $0 + Self.issuedCredit($1, day) }
            + of(.fee).reduce(Money.zero) { $0 + $1.due }
        let collected = of(.deliver).reduce(Money.zero) { $0 + $1.amount } - of(.return).reduce(Money.zero) { $0 + $1.amount }
            + of(.fee).reduce(Money.zero) { $0 + $1.amount } + of(.collect).reduce(Money.zero) { $0 + $1.amount }
        for c in of(.collect) {
            x.append(.init(.receivableSettled, ticket: c.ticket, event: c.id, "\(c.product ?? "the shop") paid \(c.due) owed on \(c.ticket ?? "?")"
                + (c.amount == c.due ? " in cash"
                    : c.amount == .zero ? " by QR (\(c.ref ?? ""))" : ": \(c.amount) in cash, the rest by QR (\(c.ref ?? ""))")))
        }
        let deposits = of(.deposit)
        let deposited = deposits.reduce(Money.zero) { $0 + $1.amount }
        // Cash placed at the close: carried to the next day, or declared missing; a deposit made
        // after the close pays in what was missing first, then what was carried.
        let afterClose = deposits.filter { $0.reason == CashPosition.afterClose }
        let outside = CashClose.outstanding(carried: of(.carry).reduce(.zero) { $0 + $1.amount },
                                            missing: of(.cashMissing).reduce(.zero) { $0 + $1.amount },
                                            depositedAfterClose: afterClose.reduce(.zero) { $0 + $1.amount })
        let cash = Settlement.Cash(expected: expected, collected: collected, deposited: deposited, carriedIn: carriedIn,
                                   carriedOut: outside.carried, declaredMissing: outside.missing,
                                   variance: deposited + outside.carried - collected - carriedIn)
        for d in afterClose {
            x.append(.init(.afterClose, event: d.id, "deposit \(d.amount) (\(d.ref ?? "?")) was made after the day was closed, of cash "
                + "the close carried over or declared missing; check it against the bank"))
        }

        for d in deposits {
            switch matching.match[d.id] {
            case nil:
                x.append(.init(.depositUnmatched, event: d.id, "deposit \(d.amount) with bank reference \(d.ref ?? "?") has no line on an imported bank statement"))
            case let line? where line.amount != d.amount:
                x.append(.init(.depositUnmatched, event: d.id, "deposit \(d.amount) (\(d.ref ?? "?")) but the bank line \(line.date) \(line.reference) says \(line.amount)"))
            default: break
            }
        }
        if cash.variance != .zero {
            let said = of(.closeDay).first?.detail.flatMap { try? JSONDecoder().decode(DaySummary.self, from: Data($0.utf8)) }
            let cashNote = said?.unexplained.first { $0.hasPrefix("cash on hand") || $0.contains("declared missing") }
            x.append(.init(.cashMismatch, "deposited \(deposited) against \(collected) collected: "
                + (cash.variance < .zero ? "\(Money(minorUnits: -cash.variance.minorUnits)) not paid in" : "\(cash.variance) more paid in than collected")
                + (cashNote.map { "; the van's day-close summary said: \($0)" } ?? "")))
        }
        for m in of(.cashMissing) {
            x.append(.init(.cashMissing, event: m.id, "the driver declared \(m.amount) missing at the close: \(m.note ?? "no reason given")"
                + (outside.missing < m.amount ? "; \(m.amount - outside.missing) of it was paid in after the close" : "")))
        }

        // Load: counted at load-out against the manifest and what happened to the goods.
        var loaded: Int?
        if let load = of(.loadOut).last, let counts = LoadCount.decode(load.detail) {
            loaded = counts.reduce(0) { $0 + $1.counted }
            for c in counts where c.difference != -(shortByProduct[c.product] ?? 0) {
                x.append(.init(.loadVariance, event: load.id, "\(c.name) (\(c.product)): loaded \(c.counted), manifest \(c.expected), declared short at shops \(shortByProduct[c.product] ?? 0)"))
            }
        } else if !tickets.isEmpty {
            x.append(.init(.loadVariance, "no load-out count was recorded"))
        }
        var back: Int?
        if let loadIn = of(.loadIn).last, let counts = LoadCount.decode(loadIn.detail) {
            back = counts.reduce(0) { $0 + $1.counted }
            for c in counts where c.difference != 0 {
                x.append(.init(.loadVariance, event: loadIn.id, "\(c.name) (\(c.product)): \(c.counted) came back, \(c.expected) expected (loaded − delivered + returned)"))
            }
        }
        let load = Settlement.Load(manifest: tickets.reduce(0) { $0 + $1.cartons }, loaded: loaded, delivered: deliveredCartons,
                                   returned: returned.values.reduce(0, +), short: shortByProduct.values.reduce(0, +), back: back)

        // Disagreements between devices, and the ledger's integrity.
        for c in conflicts { x.append(.init(.conflict, ticket: c.key, "\(c.table) \(c.key) \(c.column) is \(c.values.joined(separator: " and ")) on different devices; settle it by hand")) }
        for v in violations { x.append(.init(.conflict, event: v.key, "ledger entry \(v.key) arrived twice with different content (from site \(v.site))")) }

        // The device itself.
        let closed = of(.closeDay).first
        if closed == nil {
            x.append(.init(.unsyncedDevice, "\(van.name) has not closed \(date) at the depot"
                + (van.lastSyncAt.map { "; last sync \(HumanTime.local($0))" } ?? "; it has never synced")))
        }
        if let gap = chainGap(van.name) { x.append(.init(.chainGap, gap)) }
        if let skew = van.lastSkewMs, abs(skew) > skewLimitMs {
            x.append(.init(.clockSkew, "\(van.name)'s clock was \(HumanTime.duration(milliseconds: skew)) \(skew > 0 ? "ahead of" : "behind") "
                + "the depot's at its last sync; entry times may be off"))
        }
        x += ClockCheck.suspects(active, date: date)
        x += ClockCheck.recoveries(of: van, on: date)

        // Approval and what arrived after it.
        var status: Settlement.Status
        if let approved = approval {
            let a = approved.approval
            status = .approved
            for e in entries.sorted(by: { ($0.at, $0.id) < ($1.at, $1.id) }) where !approved.entries.contains(e.id) {
                x.append(.init(.lateEvent, ticket: e.ticket, event: e.id,
                               "\(e.what) recorded \(HumanTime.local(e.at)) arrived after the day was approved by \(a.by) "
                    + "at \(HumanTime.local(a.at)); review it"))
            }
        } else if closed == nil {
            status = .pending
        } else {
            status = cash.variance == .zero ? .balanced : cash.variance > .zero ? .over : .short
        }
        return Settlement(device: van.name, route: van.role == "van" ? van.scope ?? "" : "",
                          window: van.role == "window" ? van.scope : nil, status: status, tickets: counts, cash: cash, load: load,
                          approval: approval?.approval, exceptions: x,
                          receivables: .init(opened: opened, settled: of(.collect).reduce(Money.zero) { $0 + $1.due }))
    }

    /// A return's credit at the import's price of its product on its ticket; the entry's own
    /// figure only when the depot has no such line.
    static func issuedCredit(_ r: VanEvent, _ day: DayEntries) -> Money {
        guard let price = day.issuedPrice(ticket: r.ticket ?? "", product: r.product ?? "") else { return r.due }
        return Money(minorUnits: price.minorUnits * (r.qty ?? 0))
    }

    // MARK: - Approval

    /// Approves a device's day: refused while the day is pending, and above the tolerance
    /// without a note. Locks the day: later entries become `late_event` exceptions.
    ///
    /// `unclosed`: approve a day the van has not closed (a broken handheld, a driver gone): only
    /// with a note; whatever the van syncs later for the day becomes `late_event` for review.
    public func approve(device: String, date: String, by: String, note: String?, unclosed: Bool = false) throws -> Approval {
        let rec = try reconcile(date: date)
        guard let s = rec.settlements.first(where: { $0.device == device }) else {
            throw ReconcileError("\(device) has nothing to settle on \(date); `tally reconcile --date \(date)` lists the devices")
        }
        switch s.status {
        case .approved: throw ReconcileError("\(device)'s \(date) is already approved by \(s.approval?.by ?? "?"); reopen it first to approve again")
        case .pending where !unclosed:
            throw ReconcileError("\(device) has not closed \(date) yet (or not synced its close); it cannot be approved until it has, or approve it unclosed with --unclosed --note TEXT")
        default: break
        }
        let tolerance = try store.tolerance()
        let text = (note ?? "").trimmingCharacters(in: .whitespaces)
        if s.status == .pending && text.isEmpty {
            throw ReconcileError("approving \(device)'s unclosed \(date) needs a note saying why, with --note TEXT")
        }
        if Money(minorUnits: abs(s.cash.variance.minorUnits)) > tolerance && text.isEmpty {
            throw ReconcileError("\(device)'s variance of \(s.cash.variance) is over the tolerance of \(tolerance): say why it is approved with --note TEXT")
        }
        let ids = try DayEntries.ids(replica, date: date, device: device).map(\.id)
        return try store.approve(device: device, day: date, by: by, note: text, variance: s.cash.variance, entries: ids, frozen: FrozenDay(s))
    }

    /// Reopens an approved day, with the reason.
    public func reopen(device: String, date: String, by: String, note: String) throws {
        let text = note.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { throw ReconcileError("say why the day is reopened with --note TEXT") }
        guard try store.reopen(device: device, day: date, by: by, note: text) else {
            throw ReconcileError("\(device)'s \(date) is not approved, so there is nothing to reopen")
        }
    }
}

/// Which bank line paid in which deposit: first by reference, then by amount on or after the
/// deposit's day (closest first). Each bank line pays one deposit at most; deterministic.
struct DepositMatching {
    var match: [String: BankLine] = [:]
    var unmatchedBank: [BankLine] = []

    init(deposits: [VanEvent], bank: [BankLine]) {
        var free = bank
        let ordered = deposits.sorted { ($0.day, $0.id) < ($1.day, $1.id) }
        var rest: [VanEvent] = []
        for d in ordered {
            let ref = (d.ref ?? "").lowercased()
            if !ref.isEmpty, let i = free.firstIndex(where: { $0.reference.lowercased() == ref }) {
                match[d.id] = free.remove(at: i)
            } else {
                rest.append(d)
            }
        }
        for d in rest {
            let candidates = free.indices.filter { free[$0].amount == d.amount && free[$0].date >= d.day }
            if let i = candidates.min(by: { free[$0].date < free[$1].date }) { match[d.id] = free.remove(at: i) }
        }
        unmatchedBank = free
    }
}
