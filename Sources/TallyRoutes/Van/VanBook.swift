import Foundation
import TallyReplica

/// A van's working day on its own replica, offline: reading the day's tickets and recording
/// what happens at each shop. Every method checks its rule first and, when it refuses, changes
/// nothing.
public struct VanBook: Sendable {
    public let replica: Replica
    /// The device name events are recorded under.
    public let device: String
    public let route: String
    let clock: any WallClock

    public init(replica: Replica, device: String, route: String, clock: any WallClock = SystemWallClock()) {
        self.replica = replica
        self.device = device
        self.route = route
        self.clock = clock
    }

    /// Opens the book of a joined replica: device and route come from the join.
    public static func joined(_ replica: Replica, clock: any WallClock = SystemWallClock()) throws -> VanBook {
        guard let device = try replica.setting("sync.device"), let route = try replica.setting("sync.scope") else {
            throw VanError.refused("\(replica.path) is not a van's replica; join the depot first with `tally join URL --credential TOKEN --replica \(replica.path)`")
        }
        return VanBook(replica: replica, device: device, route: route, clock: clock)
    }

    var now: String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        return f.string(from: Date(timeIntervalSince1970: Double(clock.nowMilliseconds()) / 1000))
    }

    // MARK: - Reading the day

    /// Today's tickets of this route in stop order.
    public func tickets() throws -> [TicketView] {
        let scanned = try scannedCodes()
        var cartonsOf: [String: [String]] = [:]
        for c in try replica.rows("cartons") where c["route"].text == route {
            if let t = c["ticket"].text { cartonsOf[t, default: []].append(c.key) }
        }
        var names: [String: String] = [:]
        for c in try replica.rows("customers") { names[c.key] = c["name"].text }
        return try replica.rows("tickets").filter { $0["route"].text == route }.map { t in
            let codes = cartonsOf[t.key] ?? []
            return TicketView(ticket: t.key, stop: Int(t["stop"].integer ?? 0), customer: t["customer"].text ?? "",
                              customerName: names[t["customer"].text ?? ""] ?? "", payment: t["payment"].text ?? "",
                              amountDue: Money(minorUnits: t["amount_due"].integer ?? 0).description,
                              status: t["status"].text ?? "", promisedBy: t["promised_by"].text,
                              cartonsScanned: codes.filter { scanned[$0] != nil }.count, cartonsExpected: codes.count)
        }.sorted { ($0.stop, $0.ticket) < ($1.stop, $1.ticket) }
    }

    /// One ticket with its lines and which cartons are scanned.
    public func show(_ ticket: String) throws -> (TicketView, [LineView]) {
        guard let view = try tickets().first(where: { $0.ticket == ticket }) else { throw unknownTicket(ticket) }
        let scanned = try scannedCodes()
        var codesByProduct: [String: [String]] = [:]
        for c in try replica.rows("cartons") where c["ticket"].text == ticket {
            codesByProduct[c["product_code"].text ?? "", default: []].append(c.key)
        }
        let lines = try replica.rows("ticket_lines").filter { $0["ticket"].text == ticket }
            .sorted { ($0["line_no"].integer ?? 0) < ($1["line_no"].integer ?? 0) }
            .map { l in
                let product = l["product_code"].text ?? ""
                let codes = codesByProduct[product] ?? []
                return LineView(product: product, name: l["product_name"].text ?? "", quantity: Int(l["quantity"].integer ?? 0),
                                unitPrice: Money(minorUnits: l["unit_price"].integer ?? 0).description,
                                scanned: codes.filter { scanned[$0] != nil }.count)
            }
        return (view, lines)
    }

    // MARK: - Scanning

    /// Checks every code against the ticket and records the accepted ones, all or nothing:
    /// a code on another ticket or unknown refuses the whole scan, naming the problem; a code
    /// already scanned is reported and not counted twice.
    public func scan(_ ticket: String, codes: [String]) throws -> [ScanOutcome] {
        guard let t = try replica.row("tickets", key: ticket), t.isLive, t["route"].text == route else { throw unknownTicket(ticket) }
        let scanned = try scannedCodes()
        var outcomes: [ScanOutcome] = []
        var seen = Set<String>()
        for raw in codes {
            let code = raw.trimmingCharacters(in: .whitespaces)
            if !seen.insert(code).inserted || scanned[code] != nil {
                outcomes.append(ScanOutcome(code: code, result: .alreadyScanned, detail: "already scanned; not counted twice"))
                continue
            }
            guard let carton = try replica.row("cartons", key: code), carton.isLive else {
                outcomes.append(ScanOutcome(code: code, result: .unknown, detail: "is on no ticket of today's manifest; set this carton aside and call the depot"))
                continue
            }
            let owner = carton["ticket"].text ?? ""
            if owner != ticket {
                let other = try replica.row("tickets", key: owner)
                let shop = try other.flatMap { try replica.row("customers", key: $0["customer"].text ?? "")?["name"].text } ?? ""
                outcomes.append(ScanOutcome(code: code, result: .wrongTicket,
                                            detail: "belongs to ticket \(owner) (\(shop), customer \(other?["customer"].text ?? "?")), not to \(ticket): do not hand it over here"))
                continue
            }
            outcomes.append(ScanOutcome(code: code, result: .accepted, detail: "ok"))
        }
        let refused = outcomes.filter { $0.result == .wrongTicket || $0.result == .unknown }
        if !refused.isEmpty { throw VanError.scanRefused(refused) }
        let at = now
        try replica.write { tx in
            for o in outcomes where o.result == .accepted {
                try tx.insert("events", key: "scan:\(device):\(o.code)",
                              ["route": .text(route), "ticket": .text(ticket), "kind": "scan", "amount": 0,
                               "device": .text(device), "at": .text(at), "ref": .text(o.code)])
            }
        }
        return outcomes
    }

    /// Carton code → the ticket it was scanned for.
    func scannedCodes() throws -> [String: String] {
        var out: [String: String] = [:]
        for e in try replica.rows("events") where e["kind"].text == "scan" {
            if let code = e["ref"].text { out[code] = e["ticket"].text ?? "" }
        }
        return out
    }

    func unknownTicket(_ ticket: String) -> VanError {
        .refused("there is no ticket \(ticket) on route \(route) today; `tally van tickets` lists them")
    }
}

/// A ticket as the van sees it.
public struct TicketView: Sendable, Codable, Equatable {
    public var ticket: String
    public var stop: Int
    public var customer: String
    public var customerName: String
    public var payment: String
    public var amountDue: String
    public var status: String
    public var promisedBy: String?
    public var cartonsScanned: Int
    public var cartonsExpected: Int
}

public struct LineView: Sendable, Codable, Equatable {
    public var product: String
    public var name: String
    public var quantity: Int
    public var unitPrice: String
    public var scanned: Int
}

public struct ScanOutcome: Sendable, Codable, Equatable {
    public enum Result: String, Sendable, Codable { case accepted, alreadyScanned = "already_scanned", wrongTicket = "wrong_ticket", unknown }
    public var code: String
    public var result: Result
    public var detail: String
}

/// A van command refused: what happened and what to do.
public enum VanError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    case scanRefused([ScanOutcome])

    public var description: String {
        switch self {
        case .refused(let s): s
        case .scanRefused(let o):
            "nothing was recorded: " + o.map { "carton \($0.code) \($0.detail)" }.joined(separator: "; ")
        }
    }
}
