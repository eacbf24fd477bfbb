import TallyRoutes

/// A device's day as an accountant approved it: the figures and exceptions they signed off.
/// An approved day is shown as frozen here, whatever arrives or changes later (a late entry, a
/// manifest corrected, a bank line imported); each such change is listed beside it for review
/// (`late_event`, `late_change`), never written into the approved figures.
public struct FrozenDay: Sendable, Codable, Equatable {
    public var tickets: Settlement.Tickets
    public var cash: Settlement.Cash
    public var load: Settlement.Load
    public var exceptions: [SettlementException]

    public init(_ s: Settlement) {
        tickets = s.tickets
        cash = s.cash
        load = s.load
        exceptions = s.exceptions.filter { $0.kind != .lateEvent && $0.kind != .lateChange }
    }

    /// What differs between the day as approved and the day as the depot's records now read:
    /// one `late_change` per figure and per exception that appeared or went away since.
    public func changes(now live: Settlement) -> [SettlementException] {
        var out: [SettlementException] = []
        func figure(_ name: String, _ approved: String, _ now: String) {
            if approved != now {
                out.append(.init(.lateChange, "\(name) would now read \(now); \(approved) as approved stays until the day is reopened"))
            }
        }
        figure("tickets planned", String(tickets.planned), String(live.tickets.planned))
        figure("tickets delivered", String(tickets.delivered), String(live.tickets.delivered))
        figure("tickets refused", String(tickets.refused), String(live.tickets.refused))
        figure("cash expected", cash.expected.description, live.cash.expected.description)
        figure("cash collected", cash.collected.description, live.cash.collected.description)
        figure("cash deposited", cash.deposited.description, live.cash.deposited.description)
        figure("cash carried over", cash.carriedOut.description, live.cash.carriedOut.description)
        figure("cash variance", cash.variance.description, live.cash.variance.description)
        figure("cartons on the manifest", String(load.manifest), String(live.load.manifest))
        // The device's clock at its latest sync is not a fact of the day: it is not a change to it.
        let approvedKeys = Set(exceptions.filter { $0.kind != .clockSkew }.map(Self.key))
        let liveNow = live.exceptions.filter { $0.kind != .lateEvent && $0.kind != .lateChange && $0.kind != .clockSkew }
        let liveKeys = Set(liveNow.map(Self.key))
        for x in liveNow where !approvedKeys.contains(Self.key(x)) {
            out.append(.init(.lateChange, ticket: x.ticket, event: x.event, "new since the approval, \(x.kind.rawValue): \(x.detail)"))
        }
        for x in exceptions where x.kind != .clockSkew && !liveKeys.contains(Self.key(x)) {
            out.append(.init(.lateChange, ticket: x.ticket, event: x.event, "no longer found since the approval, \(x.kind.rawValue): \(x.detail)"))
        }
        return out
    }

    static func key(_ x: SettlementException) -> String {
        // Not the wording: a device-level text (its last sync, its skew) moves with every sync.
        "\(x.kind.rawValue)|\(x.ticket ?? "")|\(x.event ?? "")"
    }
}

/// An approval as the settlement book holds it: who and when, the entries the day held, and
/// the day as approved (nil for an approval made before days were frozen).
public struct ApprovedDay: Sendable {
    public var approval: Approval
    public var entries: Set<String>
    public var frozen: FrozenDay?
}
