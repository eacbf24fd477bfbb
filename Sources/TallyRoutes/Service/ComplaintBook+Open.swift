import Foundation
import TallyReplica

extension ComplaintBook {
    /// Records a complaint on any van or window: a driver takes a shop's, a window a visitor's.
    /// A major one is escalated to a manager in the same transaction.
    ///
    /// What it is about is inferred unless forced: a ticket this replica knows, else a request it
    /// knows, else a device. (A window holds no tickets: it says `aboutKind: .ticket` itself.)
    @discardableResult
    public func open(_ r: ComplaintRequest) throws -> ComplaintView {
        let named = r.about.trimmingCharacters(in: .whitespaces)
        let by = r.byName.trimmingCharacters(in: .whitespaces)
        let text = r.text.trimmingCharacters(in: .whitespaces)
        guard !named.isEmpty else { throw ServiceError.refused("say what the complaint is about with --about TICKET|REQUEST|DEVICE") }
        guard !by.isEmpty else { throw ServiceError.refused("say who complains with --by NAME") }
        guard !text.isEmpty else { throw ServiceError.refused("write the complaint down with --text TEXT, in the complainant's words") }
        guard actor.route != nil || actor.window != nil else {
            throw ServiceError.refused("\(actor.device) is neither a van nor a window; complaints are recorded on a joined device")
        }
        let (kind, about) = try r.aboutKind.map { ($0, try $0 == .request ? requestID(named) ?? named : named) } ?? inferredKind(named)
        let ms = nowMilliseconds
        let at = IsoTime.formatPrecise(ms)
        let day = IsoTime.date(ofMilliseconds: ms)
        let id = try replica.write { tx in
            let id = try newID(tx, day: day)
            var row: [String: Value] = [
                "device": .text(actor.device), "day": .text(day), "opened_at": .text(at), "about_kind": .text(kind.rawValue),
                "about": .text(about), "by_name": .text(by), "phone": Self.optionalText(r.phone), "text": .text(text),
                "wants": Self.optionalText(r.wants), "major": .integer(r.major ? 1 : 0), "recorded_by": .text(actor.person),
            ]
            if let route = actor.route { row["route"] = .text(route) }
            if let window = actor.window { row["window"] = .text(window) }
            try tx.insert("complaints", key: id, row)
            if r.major {
                let why = r.why?.trimmingCharacters(in: .whitespaces) ?? ""
                try ServiceLedger.append(tx, by: actor, subject: id, action: ComplaintAction.escalate.rawValue, at: at,
                                         note: why.isEmpty ? "major complaint: escalated to a manager at once" : why)
            }
            return id
        }
        return try recorded(id, now: ms)
    }

    /// A ticket this replica knows, else a request it knows (by id, or by its queue number:
    /// the latest day's, stored as the request's id), else a device.
    func inferredKind(_ about: String) throws -> (ComplaintAboutKind, String) {
        if let t = try replica.row("tickets", key: about), t.isLive { return (.ticket, about) }
        if let id = try requestID(about) { return (.request, id) }
        return (.device, about)
    }

    /// The id of the request `about` names: its id, or its queue number (the latest day's).
    func requestID(_ about: String) throws -> String? {
        if let q = try replica.row("requests", key: about), q.isLive { return about }
        return try replica.rows("requests", where: "queue", is: .text(about)).filter(\.isLive)
            .max { ($0["day"].text ?? "") < ($1["day"].text ?? "") }?.key
    }

    /// `C-<DEVICE>-<YYYYMMDD>-<n>`: `n` follows this device's complaints of the day, so two
    /// devices never collide and nobody needs to be asked.
    func newID(_ tx: WriteTransaction, day: String) throws -> String {
        let mine = try tx.rows("complaints", where: "day", is: .text(day)).filter { $0["device"].text == actor.device }.count
        let base = "C-\(actor.device)-\(day.replacingOccurrences(of: "-", with: ""))-"
        var n = mine + 1
        while try tx.row("complaints", key: base + String(n)) != nil { n += 1 }
        return base + String(n)
    }

    /// A note as stored: trimmed text, or NULL when there is none.
    static func optionalText(_ s: String?) -> Value {
        guard let t = s?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return .null }
        return .text(t)
    }
}
