import Foundation
import TallyReplica

/// What a delivery binds together: the ticket's content as handed over, the money and the
/// signature. Its canonical JSON is stored in the `deliver` entry's `detail` and its SHA-256 in
/// `hash`, so a receipt can later prove that none of it changed.
public struct Handover: Sendable, Codable, Equatable {
    public struct Line: Sendable, Codable, Equatable {
        public var product: String
        public var name: String
        public var ordered: Int
        public var delivered: Int
        public var short: Int
        public var unitPrice: Money

        public init(product: String, name: String, ordered: Int, delivered: Int, short: Int, unitPrice: Money) {
            self.product = product
            self.name = name
            self.ordered = ordered
            self.delivered = delivered
            self.short = short
            self.unitPrice = unitPrice
        }
    }

    public var ticket: String
    public var day: String
    public var route: String
    public var customer: String
    public var customerName: String
    public var payment: String
    public var lines: [Line]
    /// Value of the goods handed over: ordered less shortages.
    public var value: Money
    /// Cash collected (zero for electronic payment).
    public var cash: Money
    /// Why less cash than the value was collected.
    public var partialReason: String?
    public var signer: String?
    /// SHA-256 of the signature image.
    public var signature: String
    public var device: String
    public var at: String
    public var promisedBy: String?
    /// Handed over after the promised time.
    public var late: Bool
    /// Paid at the door by a WeChat or Alipay QR code, with the payment's reference (absent: none).
    public var qr: Money?
    public var qrRef: String?
    /// Put on the shop's account (a credit customer), to be paid later (absent: none).
    public var onAccount: Money?
    /// The unpaid rest of a part payment, owed by the shop from now on (absent: none).
    public var owed: Money?

    /// What the shop owes after this handover: on account plus the unpaid rest.
    public var opened: Money { (onAccount ?? .zero) + (owed ?? .zero) }

    public init(ticket: String, day: String, route: String, customer: String, customerName: String, payment: String, lines: [Line],
                value: Money, cash: Money, partialReason: String?, signer: String?, signature: String, device: String, at: String,
                promisedBy: String?, late: Bool) {
        self.ticket = ticket
        self.day = day
        self.route = route
        self.customer = customer
        self.customerName = customerName
        self.payment = payment
        self.lines = lines
        self.value = value
        self.cash = cash
        self.partialReason = partialReason
        self.signer = signer
        self.signature = signature
        self.device = device
        self.at = at
        self.promisedBy = promisedBy
        self.late = late
    }

    /// The exact bytes that are hashed and stored: sorted keys, no whitespace, UTF-8.
    public func canonicalJSON() -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value of plain strings, integers and booleans cannot fail.
        return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func hash(of json: String) -> String { BlobHash.sha256Hex(Array(json.utf8)) }

    /// The handover a delivery entry's `detail` holds; nil when absent or unreadable.
    public static func decode(_ json: String?) -> Handover? {
        json.flatMap { try? JSONDecoder().decode(Handover.self, from: Data($0.utf8)) }
    }
}
