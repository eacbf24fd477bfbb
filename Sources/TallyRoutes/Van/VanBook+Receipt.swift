import Foundation
import TallyReplica

/// The proof of a delivery: what was handed over, for how much, signed by whom, and whether
/// all of it still checks out.
public struct Receipt: Sendable, Codable, Equatable {
    public struct Check: Sendable, Codable, Equatable {
        public var check: String
        public var ok: Bool
        public var detail: String
    }

    public var event: String
    public var handover: Handover
    public var hash: String
    /// Returns recorded against the delivery since.
    public var returns: [VanEvent]
    /// Filled in when verification was asked for.
    public var checks: [Check]?
    public var verified: Bool? { checks.map { $0.allSatisfy(\.ok) } }
}

extension VanBook {
    /// The receipt of a ticket's delivery; with `verify`, every binding is checked again: the
    /// entry's hash, its amounts, the ticket's content now, the signature image, and the
    /// device's Ed25519 signature of the entry (against `publicKey`, hex: the delivering
    /// device's registered key; by default this device's own).
    public func receipt(_ ticket: String, verify: Bool, publicKey: String? = nil) throws -> Receipt {
        let t = try ticketRow(ticket)
        let ledger = try ticketLedger(ticket)
        guard let d = ledger.active(.deliver, ticket: ticket).first else {
            if let r = ledger.active(.refuse, ticket: ticket).first {
                throw VanError.refused("ticket \(ticket) was refused (\(r.reason ?? "")), so it has no receipt")
            }
            throw VanError.refused("ticket \(ticket) has not been delivered yet, so it has no receipt")
        }
        guard let detail = d.detail, let handover = Handover.decode(detail) else {
            throw VanError.refused("delivery \(d.id) has no readable handover content: the entry is damaged; tell the depot")
        }
        var receipt = Receipt(event: d.id, handover: handover, hash: d.hash ?? "", returns: ledger.active(.return, ticket: ticket), checks: nil)
        guard verify else { return receipt }

        var checks: [Receipt.Check] = []
        let actual = Handover.hash(of: detail)
        checks.append(.init(check: "hash", ok: actual == d.hash,
                            detail: actual == d.hash ? "the handover content hashes to \(actual.prefix(16))…" : "the content hashes to \(actual.prefix(16))…, not the recorded \((d.hash ?? "").prefix(16))…: it was altered"))
        let entryOK = d.amount == handover.cash && d.due == handover.value && d.ref == handover.signature && d.ticket == handover.ticket && d.device == handover.device
        checks.append(.init(check: "amounts", ok: entryOK,
                            detail: entryOK ? "cash \(handover.cash) of \(handover.value) as bound" : "the entry's amounts (cash \(d.amount), value \(d.due)) differ from the handover it binds"))
        var differences: [String] = []
        if t["customer"].text != handover.customer { differences.append("customer is now \(t["customer"].text ?? "?")") }
        if t["payment"].text != handover.payment { differences.append("payment is now \(t["payment"].text ?? "?")") }
        let lines = try ticketLines(ticket)
        if lines.count != handover.lines.count { differences.append("the ticket now has \(lines.count) lines, \(handover.lines.count) were handed over") }
        for (l, h) in zip(lines, handover.lines) {
            if l["product_code"].text != h.product || Int(l["quantity"].integer ?? -1) != h.ordered || l["unit_price"].integer != h.unitPrice.minorUnits {
                differences.append("line \(l["line_no"].integer ?? 0) is now \(l["product_code"].text ?? "?") × \(l["quantity"].integer ?? 0) at \(Money(minorUnits: l["unit_price"].integer ?? 0)), was \(h.product) × \(h.ordered) at \(h.unitPrice)")
            }
        }
        checks.append(.init(check: "ticket", ok: differences.isEmpty,
                            detail: differences.isEmpty ? "the ticket still reads as handed over" : "the ticket changed after the handover: " + differences.joined(separator: "; ")))
        checks.append(issuedCheck(handover, ticket: t))
        if let image = try replica.blob(handover.signature) {
            let ok = BlobHash.sha256Hex(image) == handover.signature
            switch (ok, SignatureImage.check(image)) {
            case (false, _):
                checks.append(.init(check: "signature", ok: false, detail: "the stored signature image does not match its hash"))
            case (true, .failure(let problem)):
                checks.append(.init(check: "signature", ok: false, detail: "the signature file matches its hash but proves nothing: \(problem)"))
            case (true, .success(let info)):
                checks.append(.init(check: "signature", ok: true, detail: "signature image held, a \(info.format.rawValue.uppercased()) of "
                    + "\(info.width)×\(info.height), \(image.count) bytes, hash matches"))
            }
        } else {
            checks.append(.init(check: "signature", ok: false, detail: "the signature image \(handover.signature.prefix(16))… is not held on this device; sync to fetch it"))
        }
        // The entry itself, against the device's key: offline, nothing but the row and the key.
        if let row = try replica.row("events", key: d.id) {
            let key = publicKey ?? (d.device == device ? self.key?.publicKey : nil)
            if !row["sig"].isNull, let key {
                let ok = SignedEvent.verify(row: row, publicKey: key)
                checks.append(.init(check: "device signature", ok: ok,
                                    detail: ok ? "entry \(d.id) is signed by \(d.device)'s key \(key.prefix(16))…, entry \(row["chain"].integer ?? 0) of its chain"
                                        : "entry \(d.id) does not match \(d.device)'s signature: it was changed after it was signed"))
            } else if row["sig"].isNull {
                // Entries recorded before devices had keys carry no signature and are not checked.
                if key != nil { checks.append(.init(check: "device signature", ok: false, detail: "entry \(d.id) carries no signature")) }
            } else {
                checks.append(.init(check: "device signature", ok: false, detail: "the public key of \(d.device) is not known here; give it with --public-key HEX"))
            }
        }
        receipt.checks = checks
        return receipt
    }

    /// The handover against the ticket as the depot issued it: the order system's total
    /// (`amount_due`) is the sum of its lines, so lines whose quantities or prices were altered
    /// in this file before the handover (the sqlite3 shell: the engine refuses such writes on a
    /// device) add up to another figure. The depot judges every delivery against its own import
    /// in any case (`content_mismatch`); this is what the device can tell on its own.
    func issuedCheck(_ handover: Handover, ticket t: Row) -> Receipt.Check {
        let bound = handover.lines.reduce(Money.zero) { $0 + Money(minorUnits: $1.unitPrice.minorUnits * Int64($1.ordered)) }
        let issued = Money(minorUnits: t["amount_due"].integer ?? 0)
        guard bound == issued else {
            return .init(check: "issued", ok: false,
                         detail: "the content differs from the ticket as issued: its lines add up to \(bound), the ticket was issued for \(issued); "
                             + "this copy was altered, and the depot settles the ticket at its own figures")
        }
        return .init(check: "issued", ok: true, detail: "the lines add up to \(issued), as the ticket was issued")
    }
}
