import TallyReplica

extension WindowBook {
    /// Opens a request taken at this window: who asks, what for, and how it will be handled.
    /// `within`: working days promised for an appointment (3 when not said), or an optional
    /// limit on a joint request. `departments`: the window kinds a joint request needs.
    public func open(_ ref: String, mode: RequestMode, visitor: String, phone: String? = nil, subject: String,
                     departments: [String] = [], within: Int? = nil) throws -> RequestView {
        let day = try openDay()
        let row = try requestRow(ref)
        let current = RequestView(row: row, steps: try ServiceLedger.steps(replica, of: row.key), today: day)
        try ownerOnly(current, "open")
        guard current.state == .waiting else { throw ServiceError.refused("request \(current.queue) is already \(current.stateText)") }
        let who = visitor.trimmingCharacters(in: .whitespaces), what = subject.trimmingCharacters(in: .whitespaces)
        guard !who.isEmpty else { throw ServiceError.refused("say who the visitor is with --visitor NAME") }
        guard !what.isEmpty else { throw ServiceError.refused("say what the visitor asks for with --subject TEXT") }
        var depts: [String] = []
        for d in departments.map({ $0.trimmingCharacters(in: .whitespaces) }) where !d.isEmpty && !depts.contains(d) { depts.append(d) }
        var dueBy: String?
        switch mode {
        case .immediate:
            guard depts.isEmpty, within == nil else { throw ServiceError.refused("an immediate request is finished at the counter: it takes no departments and no time limit") }
        case .appointment:
            guard depts.isEmpty else { throw ServiceError.refused("an appointment is handled by this window; a request that needs other departments is joint (--joint)") }
            let days = within ?? 3
            guard (1...60).contains(days) else { throw ServiceError.refused("the time limit is a number of working days from 1 to 60") }
            dueBy = try WorkCalendar.load(replica).workingDay(after: day, count: days)
        case .joint:
            guard depts.count >= 2 else {
                throw ServiceError.refused("a joint request needs the sign-off of two or more departments: name them with --departments grants,housing")
            }
            if let within {
                guard (1...60).contains(within) else { throw ServiceError.refused("the time limit is a number of working days from 1 to 60") }
                dueBy = try WorkCalendar.load(replica).workingDay(after: day, count: within)
            }
        }
        let at = now
        var values: [String: Value] = ["mode": .text(mode.rawValue), "visitor": .text(who), "subject": .text(what), "opened_at": .text(at)]
        if let p = phone?.trimmingCharacters(in: .whitespaces), !p.isEmpty { values["phone"] = .text(p) }
        if !depts.isEmpty { values["departments"] = .text(depts.joined(separator: "|")) }
        if let dueBy { values["due_by"] = .text(dueBy) }
        try replica.write { tx in try tx.update("requests", key: row.key, values) }
        return try request(row.key)
    }

    /// This window's department signs its part of a joint request, whichever window owns it.
    public func sign(_ ref: String, note: String? = nil) throws -> RequestView {
        _ = try openDay()
        let r = try request(ref)
        guard r.mode == .joint else { throw ServiceError.refused("request \(r.queue) is \(r.mode?.rawValue ?? "not opened yet"), not joint: nothing to sign") }
        guard r.departments.contains(window) else {
            throw ServiceError.refused("request \(r.queue) needs \(r.departments.joined(separator: ", ")), not \(window): this window has nothing to sign on it")
        }
        if let s = r.signed[window] { throw ServiceError.refused("\(window) already signed \(r.queue) at \(s.at) on \(s.device) (\(s.person))") }
        guard r.state == .open else { throw ServiceError.refused("request \(r.queue) is \(r.stateText)") }
        let at = now
        try replica.write { tx in
            try ServiceLedger.append(tx, by: actor, subject: r.id, action: RequestAction.sign.rawValue, at: at, department: window, note: note)
        }
        return try request(r.id)
    }

    /// The owner finishes a request: an immediate or appointment request any time, a joint one
    /// only once every department has signed. The visitor's satisfaction may be recorded with it.
    public func finish(_ ref: String, satisfaction: Satisfaction? = nil, comment: String? = nil) throws -> RequestView {
        _ = try openDay()
        let r = try request(ref)
        try ownerOnly(r, "finish")
        switch r.state {
        case .waiting: throw ServiceError.refused("request \(r.queue) has not been opened; open it first with `tally window open \(r.queue) …`")
        case .done, .cancelled: throw ServiceError.refused("request \(r.queue) is already \(r.stateText)")
        case .open where r.mode == .joint:
            throw ServiceError.refused("request \(r.queue) is joint and \(r.unsigned.joined(separator: ", ")) ha\(r.unsigned.count == 1 ? "s" : "ve") not signed yet; sync to receive their sign-offs")
        case .open, .ready: break
        }
        let at = now
        try replica.write { tx in
            try ServiceLedger.append(tx, by: actor, subject: r.id, action: RequestAction.finish.rawValue, at: at)
            if let satisfaction {
                try ServiceLedger.append(tx, by: actor, subject: r.id, action: RequestAction.rate.rawValue, at: at, value: satisfaction.rawValue, note: comment)
            }
        }
        return try request(r.id)
    }

    /// Records the visitor's satisfaction with a finished request.
    public func rate(_ ref: String, _ satisfaction: Satisfaction, comment: String? = nil) throws -> RequestView {
        _ = try openDay()
        let r = try request(ref)
        try ownerOnly(r, "rate")
        guard r.state == .done else { throw ServiceError.refused("request \(r.queue) is \(r.stateText); satisfaction is asked once it is done") }
        if let s = r.satisfaction { throw ServiceError.refused("the visitor's satisfaction with \(r.queue) is already recorded (\(s.rawValue))") }
        let at = now
        try replica.write { tx in
            try ServiceLedger.append(tx, by: actor, subject: r.id, action: RequestAction.rate.rawValue, at: at, value: satisfaction.rawValue, note: comment)
        }
        return try request(r.id)
    }

    /// The owner cancels a request that will not be finished (the visitor withdrew or left).
    public func cancel(_ ref: String, reason: String) throws -> RequestView {
        _ = try openDay()
        let r = try request(ref)
        try ownerOnly(r, "cancel")
        let why = reason.trimmingCharacters(in: .whitespaces)
        guard !why.isEmpty else { throw ServiceError.refused("say why the request is cancelled with --reason TEXT") }
        guard r.state != .done && r.state != .cancelled else { throw ServiceError.refused("request \(r.queue) is already \(r.stateText)") }
        let at = now
        try replica.write { tx in
            try ServiceLedger.append(tx, by: actor, subject: r.id, action: RequestAction.cancel.rawValue, at: at, note: why)
        }
        return try request(r.id)
    }

    /// First-contact responsibility: only the window that took the number opens, finishes,
    /// rates or cancels the request.
    func ownerOnly(_ r: RequestView, _ what: String) throws {
        guard r.ownerDevice == device else {
            throw ServiceError.refused("request \(r.queue) belongs to \(r.ownerDevice) (window \(r.ownerWindow)), which took it; only that window can \(what) it")
        }
    }
}
