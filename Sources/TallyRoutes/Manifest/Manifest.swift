import Foundation

/// How a shop pays for a ticket.
public enum PaymentKind: String, Sendable, Codable, CaseIterable {
    /// The driver collects cash at the handover.
    case cash
    /// Paid electronically; the driver collects nothing.
    case electronic
}

/// One line of a ticket: a product, its quantity in whole cartons and the code of each carton.
public struct ManifestLine: Sendable, Equatable {
    /// The CSV line it came from.
    public var line: Int
    public var box: Int
    public var productCode: String
    public var productName: String
    public var quantity: Int
    public var unitPrice: Money
    public var cartons: [String]

    public var amount: Money { Money(minorUnits: unitPrice.minorUnits * Int64(quantity)) }
}

/// A delivery ticket as the order system issued it.
public struct ManifestTicket: Sendable, Equatable {
    public var date: String
    public var route: String
    public var ticket: String
    public var stop: Int
    public var customerCode: String
    public var customerName: String
    public var address: String
    public var phone: String
    public var payment: PaymentKind
    /// ISO-8601 with offset.
    public var promisedBy: String
    public var lines: [ManifestLine]

    public var amountDue: Money { lines.reduce(.zero) { $0 + $1.amount } }
    public var cartonCount: Int { lines.reduce(0) { $0 + $1.cartons.count } }
}

/// The day's tickets from the order system: CSV, UTF-8 (with or without BOM), one row per
/// ticket line, ticket fields repeated on each line.
public struct Manifest: Sendable, Equatable {
    public static let columns = ["date", "route", "ticket", "stop", "customer_code", "customer_name", "address", "phone",
                                 "payment", "promised_by", "box", "product_code", "product_name", "quantity", "unit_price",
                                 "carton_codes"]

    /// Tickets in the order they first appear in the file.
    public var tickets: [ManifestTicket]
}

/// Everything wrong with a manifest, each with its line: the whole file is refused.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable, Codable {
        public var line: Int
        public var reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    public var problems: [Problem]
    /// What file was refused: "manifest", "bank statement".
    public var what: String

    public init(problems: [Problem], what: String = "manifest") {
        self.problems = problems
        self.what = what
    }

    public var description: String {
        let shown = problems.prefix(20).map { "line \($0.line): \($0.reason)" }
        let more = problems.count > 20 ? "\n… and \(problems.count - 20) more" : ""
        return "the \(what) was not imported (\(problems.count) problem\(problems.count == 1 ? "" : "s"); nothing was changed):\n"
            + shown.joined(separator: "\n") + more
    }
}
