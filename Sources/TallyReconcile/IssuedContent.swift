import Foundation
import TallyRoutes

/// A delivery's handed-over lines judged against the ticket as the depot imported it (design
/// invariant 6): what was due comes from the import's quantities and prices, never from the
/// device's entry, whose figures are only what the device's copy said.
///
/// The device's own facts still count: the cartons it declared short on a line are taken off
/// that line's issued quantity.
struct IssuedContent: Equatable {
    /// What the goods handed over were worth at the import's prices.
    var due: Money
    /// How the handover's lines differ from the import, in words; nil when they agree.
    var difference: String?

    /// The import's lines as a full delivery binds them (`Handover.Line`, nothing short).
    static func fullDelivery(_ issued: [IssuedLine]) -> [Handover.Line] {
        issued.map {
            Handover.Line(product: $0.product, name: $0.name, ordered: $0.quantity, delivered: $0.quantity, short: 0, unitPrice: $0.unitPrice)
        }
    }

    /// The bytes a handover's canonical JSON holds when it hands over exactly the import's
    /// lines, nothing short: found in an entry's `detail`, no decoding is needed.
    static func fullDeliveryFragment(_ issued: [IssuedLine]) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // as `Handover.canonicalJSON`
        // Encoding plain strings, integers and money cannot fail.
        return "\"lines\":" + String(decoding: (try? e.encode(fullDelivery(issued))) ?? Data(), as: UTF8.self)
    }

    /// Every issued line at its issued quantity: what a full delivery was due.
    static func full(_ issued: [IssuedLine]) -> Money {
        issued.reduce(Money.zero) { $0 + Money(minorUnits: $1.unitPrice.minorUnits * Int64($1.quantity)) }
    }

    /// Compares line by line (lines are bound in the ticket's line order). `handed` nil: the
    /// handover cannot be read, so the whole ticket is taken as handed over.
    static func check(_ handed: [Handover.Line]?, issued: [IssuedLine]) -> IssuedContent {
        guard let handed else { return IssuedContent(due: full(issued), difference: "its handover content cannot be read") }
        var due = Money.zero
        var differences: [String] = []
        for (i, l) in issued.enumerated() {
            var delivered = l.quantity
            if i < handed.count {
                let h = handed[i]
                if h.product == l.product { delivered = l.quantity - min(max(h.short, 0), l.quantity) }
                if h.product != l.product || h.ordered != l.quantity || h.unitPrice != l.unitPrice || h.name != l.name {
                    differences.append("line \(i + 1) bound as \(h.ordered) × \(h.product) at \(h.unitPrice), "
                                       + "issued as \(l.quantity) × \(l.product) at \(l.unitPrice)")
                }
            } else {
                differences.append("line \(i + 1) (\(l.quantity) × \(l.product) at \(l.unitPrice)) is missing")
            }
            due = due + Money(minorUnits: l.unitPrice.minorUnits * Int64(delivered))
        }
        for (i, h) in handed.enumerated().dropFirst(issued.count) {
            differences.append("line \(i + 1) (\(h.ordered) × \(h.product) at \(h.unitPrice)) is not on the ticket as issued")
        }
        return IssuedContent(due: due, difference: differences.isEmpty ? nil : differences.joined(separator: "; "))
    }
}

/// One ticket line as the depot imported it from the order system.
struct IssuedLine: Equatable {
    var product: String
    var name: String
    var quantity: Int
    var unitPrice: Money
}
