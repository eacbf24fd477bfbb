import Foundation
import TallyReplica

/// What the driver records at the handover.
public struct DeliveryRequest: Sendable {
    public var ticket: String
    /// The customer's signature image.
    public var signature: [UInt8]
    public var signer: String?
    /// Cash collected; required on a cash ticket, refused on an electronic one.
    public var cash: Money?
    /// Cartons declared short, by product code.
    public var short: [String: Int]
    /// Why less than due was paid (`--partial --reason`): the rest is owed by the shop.
    public var partialReason: String?
    /// Paid by a WeChat or Alipay QR code at the door, and that payment's reference.
    public var qr: Money?
    public var qrRef: String?
    /// Put on the shop's account (a credit customer).
    public var onAccount: Money?

    public init(ticket: String, signature: [UInt8], signer: String? = nil, cash: Money? = nil, short: [String: Int] = [:],
                partialReason: String? = nil, qr: Money? = nil, qrRef: String? = nil, onAccount: Money? = nil) {
        self.ticket = ticket
        self.signature = signature
        self.signer = signer
        self.cash = cash
        self.short = short
        self.partialReason = partialReason
        self.qr = qr
        self.qrRef = qrRef
        self.onAccount = onAccount
    }
}

/// A recorded delivery.
public struct DeliveryRecord: Sendable, Codable, Equatable {
    public var event: String
    public var handover: Handover
    public var hash: String
}

extension VanBook {
    /// A delivery of another shop's ticket already bound to this signature picture, if any.
    func signatureUsedElsewhere(_ hash: String, customer: String) throws -> (ticket: String, event: String)? {
        let uses = DayLedger(try replica.rows("events", where: "ref", is: .text(hash)), ordered: false).active(.deliver)
        for d in uses {
            guard let ticket = d.ticket else { continue }
            if try replica.row("tickets", key: ticket)?["customer"].text != customer { return (ticket, d.id) }
        }
        return nil
    }

    /// Largest signature image accepted: a handheld's signature pad makes a few kilobytes.
    public static let maxSignatureBytes = 2 * 1024 * 1024

    /// Records a handover: every carton scanned or declared short, goods and money both settled,
    /// signed. The entry binds the ticket's content, the amount and the signature's hash.
    public func deliver(_ r: DeliveryRequest) throws -> DeliveryRecord {
        let day = try openDay()
        let t = try ticketRow(r.ticket, on: day)
        let ledger = try ticketLedger(r.ticket)
        if let d = ledger.active(.deliver, ticket: r.ticket).first {
            throw VanError.refused("ticket \(r.ticket) is already delivered (\(d.id) by \(d.device) at \(HumanTime.local(d.at))); "
                + "`tally van receipt \(r.ticket)` shows it")
        }
        if let d = ledger.active(.refuse, ticket: r.ticket).first {
            let back = d.device == device && d.day == day
                ? "if the shop takes the goods after all, take the refusal back first: `tally van void \(d.id) --reason TEXT`"
                : "only \(d.device) can take it back the same day; otherwise the depot issues the goods on a new ticket"
            throw VanError.refused("ticket \(r.ticket) was refused (\(d.id), \(d.reason ?? "")); \(back)")
        }
        if t["status"].text == "refused" && !ledger.all.contains(where: { $0.kind == EventKind.refuse.rawValue }) {
            throw VanError.refused("ticket \(r.ticket) is marked refused by another device; call the depot before handing anything over")
        }
        guard !r.signature.isEmpty else { throw VanError.refused("the signature image is empty; have the customer sign again") }
        guard r.signature.count <= Self.maxSignatureBytes else {
            throw VanError.refused("the signature image is \(r.signature.count / 1024) KB, over the \(Self.maxSignatureBytes / 1024 / 1024) MB a signature may take; save it smaller")
        }
        if case .failure(let problem) = SignatureImage.check(r.signature) {
            throw VanError.refused("the signature file is no use as proof: \(problem); have the customer sign on the pad again")
        }
        let signatureHash = BlobHash.sha256Hex(r.signature)
        if let other = try signatureUsedElsewhere(signatureHash, customer: t["customer"].text ?? "") {
            throw VanError.refused("this signature picture is already on ticket \(other.ticket) of another shop (\(other.event)); "
                + "one picture proves one handover: have this customer sign")
        }

        // Every carton scanned or declared short.
        let lines = try ticketLines(r.ticket)
        var ordered: [String: Int] = [:]
        var names: [String: String] = [:]
        for l in lines {
            let p = l["product_code"].text ?? ""
            ordered[p, default: 0] += Int(l["quantity"].integer ?? 0)
            names[p] = l["product_name"].text ?? p
        }
        var scanned: [String: Int] = [:]
        for s in ledger.active(.scan, ticket: r.ticket) { scanned[s.product ?? "", default: 0] += 1 }
        var problems: [String] = []
        for (p, n) in r.short.sorted(by: { $0.key < $1.key }) {
            guard let want = ordered[p] else {
                problems.append("product \(p) is not on ticket \(r.ticket), so it cannot be short; `tally van show \(r.ticket)` lists its products")
                continue
            }
            if n <= 0 { problems.append("a shortage of \(p) must be at least 1 carton") }
            let unscanned = want - (scanned[p] ?? 0)
            if n > unscanned {
                problems.append("\(n) short of \(names[p] ?? p) (\(p)) declared, but only \(unscanned) of its \(want) cartons are unscanned")
            }
        }
        for (p, want) in ordered.sorted(by: { $0.key < $1.key }) {
            let missing = want - (scanned[p] ?? 0) - max(0, r.short[p] ?? 0)
            if missing > 0 {
                problems.append("\(missing) carton\(missing == 1 ? "" : "s") of \(names[p] ?? p) (\(p)) not scanned: scan \(missing == 1 ? "it" : "them") with `tally van scan \(r.ticket) CODE...` or declare \(missing == 1 ? "it" : "them") short with --short \(p)=\(missing)")
            }
        }
        if !problems.isEmpty { throw VanError.refused("ticket \(r.ticket) was not delivered: " + problems.joined(separator: "; ")) }

        // The goods handed over, line by line; shortages taken from the product's lines in order.
        var shortLeft = r.short
        var handed: [Handover.Line] = []
        var value = Money.zero
        for l in lines {
            let p = l["product_code"].text ?? ""
            let qty = Int(l["quantity"].integer ?? 0)
            let short = min(qty, shortLeft[p] ?? 0)
            shortLeft[p, default: 0] -= short
            let price = Money(minorUnits: l["unit_price"].integer ?? 0)
            handed.append(Handover.Line(product: p, name: l["product_name"].text ?? "", ordered: qty, delivered: qty - short, short: short, unitPrice: price))
            value = value + Money(minorUnits: price.minorUnits * Int64(qty - short))
        }
        guard handed.contains(where: { $0.delivered > 0 }) else {
            throw VanError.refused("nothing would be handed over on ticket \(r.ticket): every carton is declared short; record a refusal instead with `tally van refuse \(r.ticket) --reason CODE`")
        }

        // Goods and money both settled.
        let payment = t["payment"].text ?? ""
        var cash = Money.zero
        var partial: String?
        var owed = Money.zero
        let qr = r.qr ?? .zero, onAccount = r.onAccount ?? .zero
        let qrRef = r.qrRef?.trimmingCharacters(in: .whitespaces)
        if payment == PaymentKind.cash.rawValue {
            guard r.cash != nil || r.qr != nil || r.onAccount != nil else {
                throw VanError.refused("ticket \(r.ticket) is paid in cash: collect \(value) and record it with --cash \(value) "
                    + "(or --qr AMOUNT --qr-ref REF for WeChat or Alipay, --on-account AMOUNT for a credit customer)")
            }
            let c = r.cash ?? .zero
            for (what, m) in [("cash", c), ("QR", qr), ("on-account", onAccount)] where m < .zero {
                throw VanError.refused("the \(what) amount cannot be negative (\(m))")
            }
            if qr > .zero && (qrRef ?? "").isEmpty {
                throw VanError.refused("a QR payment needs the payment's reference from the shop's phone: add --qr-ref REF")
            }
            let paid = c + qr + onAccount
            guard paid <= value else {
                throw VanError.refused("\(paid) is more than the \(value) due on ticket \(r.ticket); give the change back and record \(value)")
            }
            if paid < value {
                guard let reason = r.partialReason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty else {
                    throw VanError.refused("\(paid) is less than the \(value) due on ticket \(r.ticket); collect the full amount, or record a part "
                        + "payment with --partial --reason TEXT (the rest, \(value - paid), is then owed by the shop)")
                }
                partial = reason
                owed = value - paid
            }
            cash = c
        } else if let c = r.cash, c != .zero {
            throw VanError.refused("ticket \(r.ticket) is paid electronically; collect no cash (remove --cash \(c))")
        } else if qr != .zero || onAccount != .zero {
            throw VanError.refused("ticket \(r.ticket) is paid electronically by the depot's account; take nothing at the door")
        }

        let at = now
        let promised = t["promised_by"].text
        let late = promised.flatMap(Self.milliseconds).map { nowMilliseconds > $0 } ?? false
        let customer = t["customer"].text ?? ""
        let signer = r.signer?.trimmingCharacters(in: .whitespaces)
        var handover = Handover(ticket: r.ticket, day: day, route: route, customer: customer,
                                customerName: try replica.row("customers", key: customer)?["name"].text ?? "",
                                payment: payment, lines: handed, value: value, cash: cash, partialReason: partial,
                                signer: signer?.isEmpty == false ? signer : nil, signature: signatureHash,
                                device: device, at: at, promisedBy: promised, late: late)
        if qr > .zero { (handover.qr, handover.qrRef) = (qr, qrRef) }
        if onAccount > .zero { handover.onAccount = onAccount }
        if owed > .zero { handover.owed = owed }
        let json = handover.canonicalJSON()
        let hash = Handover.hash(of: json)
        let id = try replica.write { tx in
            try tx.putBlob(r.signature)
            let id = try record(tx, .deliver, subject: r.ticket, day: day, at: at, ticket: r.ticket, [
                "amount": .integer(cash.minorUnits), "due": .integer(value.minorUnits), "ref": .text(handover.signature),
                "reason": partial.map(Value.text) ?? .null, "note": handover.signer.map(Value.text) ?? .null,
                "qty": .integer(Int64(handed.reduce(0) { $0 + $1.delivered })),
                "detail": .text(json), "hash": .text(hash)])
            // A refusal taken back leaves the column at `refused` (the lattice does not go back);
            // the ledger says delivered, and everything reads the outcome from the ledger.
            let status = try tx.row("tickets", key: r.ticket)?["status"].text
            if status != "delivered" && status != "refused" {
                try tx.update("tickets", key: r.ticket, ["status": "delivered"])
            }
            return id
        }
        return DeliveryRecord(event: id, handover: handover, hash: hash)
    }
}
