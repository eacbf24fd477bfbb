/// `POST /v1/settlement/reconcile`, `/approve`, `/reopen`: an accountant's device settling a day
/// over HTTP. The answers are the reconciliation JSON of docs/RECONCILE.md and an approval.
public struct SettlementRequest: Codable, Sendable, Equatable {
    public var protocolVersion: Int
    /// The business day, like 2026-11-28.
    public var date: String
    /// Reconcile: only this route.
    public var route: String?
    /// Approve, reopen: the van.
    public var device: String?
    public var note: String?
    /// Approve a day the van has not closed (needs a note).
    public var unclosed: Bool?

    public init(date: String, route: String? = nil, device: String? = nil, note: String? = nil, unclosed: Bool? = nil) {
        protocolVersion = ProtocolVersion.current
        self.date = date
        self.route = route
        self.device = device
        self.note = note
        self.unclosed = unclosed
    }

    enum CodingKeys: String, CodingKey { case protocolVersion = "protocol", date, route, device, note, unclosed }
}
