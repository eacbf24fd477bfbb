import Foundation
import TallyReplica
import TallyRoutes

/// What every shop owes the depot, across days: each ticket whose handover left money owed
/// (an unpaid rest, or on account) with what was paid off since. Read from the depot's ledger.
public enum ReceivablesReport {
    /// Open balances (or all, with `settled`), oldest first, optionally as they stood at the end of a day.
    public static func balances(_ replica: Replica, asOf day: String? = nil, includeSettled: Bool = false) throws -> [OpenBalance] {
        var events: [VanEvent] = []
        let upTo = day ?? "9999-12-31"
        // Only deliveries paid less than their value in cash can have opened a balance.
        try replica.select("""
            SELECT id, kind, route, device, ticket, amount, due, detail, ref, day, at, product, note FROM events
            WHERE tally_cl % 2 = 1 AND day <= ?1 AND ((kind = 'deliver' AND amount < due) OR kind = 'collect' OR kind = 'void')
            """, [.text(upTo)]) { r in
            events.append(VanEvent(id: r[0].text ?? "", kind: r[1].text ?? "", route: r[2].text ?? "", day: r[9].text ?? "",
                                   ticket: r[4].text, device: r[3].text ?? "", at: r[10].text ?? "",
                                   amount: Money(minorUnits: r[5].integer ?? 0), due: Money(minorUnits: r[6].integer ?? 0),
                                   product: r[11].text, qty: nil, reason: nil, note: r[12].text, ref: r[8].text,
                                   detail: r[1].text == EventKind.deliver.rawValue ? r[7].text : nil, hash: nil))
        }
        let all = Receivables.balances(DayLedger(events: events))
        return includeSettled ? all : all.filter { $0.balance != .zero }
    }
}
