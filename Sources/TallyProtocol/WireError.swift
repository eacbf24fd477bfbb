/// The JSON body of every 4xx and 5xx answer: a stable code for programs, a sentence for
/// people saying what happened and what to do.
public struct WireError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var status: Int

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { message }

    struct Body: Codable { var error: Inner }
    struct Inner: Codable { var code: String; var message: String }
}

extension WireError {
    public static func badRequest(_ m: String) -> WireError { WireError(400, "bad_request", m) }
    public static func badEncoding(_ m: String) -> WireError { WireError(400, "bad_encoding", m) }
    public static func rebaselineRequired(_ m: String) -> WireError { WireError(409, rebaselineCode, m) }
    /// The code of `rebaselineRequired`, which a device answers by setting itself up again.
    public static let rebaselineCode = "rebaseline_required"
    public static func unsupportedProtocol(_ m: String) -> WireError { WireError(400, "unsupported_protocol", m) }
    public static let missingCredential = WireError(401, "missing_credential", "this request needs the device's credential (Authorization: Bearer …); run `tally join` again if it was lost")
    public static let badCredential = WireError(401, "bad_credential", "the depot does not know this credential; check it was pasted whole, or ask the depot for a new one")
    public static let revoked = WireError(401, "credential_revoked", "this device's credential was revoked at the depot; ask the depot staff to enroll the device again")
    public static func forbidden(_ m: String) -> WireError { WireError(403, "forbidden", m) }
    public static func outOfScope(_ m: String) -> WireError { WireError(403, "out_of_scope", m) }
    /// A push writing what the order system decides (prices, quantities, products, codes,
    /// routes: `Writer.depot`): the whole push is refused and audited.
    public static func ownedByDepot(_ m: String) -> WireError { WireError(403, ownedByDepotCode, m) }
    public static let ownedByDepotCode = "depot_owned"
    /// A ledger entry that does not match its signature (altered after signing, or signed by
    /// another key): the whole push is refused and audited.
    public static func badSignature(_ m: String) -> WireError { WireError(403, "bad_signature", m) }
    public static func notFound(_ m: String) -> WireError { WireError(404, "not_found", m) }
    public static func conflict(_ m: String) -> WireError { WireError(409, "conflict", m) }
    /// A push numbering a change like one the depot already holds with other content: the
    /// device's file went back to an older copy. The device takes a new identity.
    public static func sequenceReused(_ m: String) -> WireError { WireError(409, sequenceReusedCode, m) }
    public static let sequenceReusedCode = "sequence_reused"
    /// A pull cursor past what the depot has ever held, under the epoch the device says it was
    /// given in: no depot gave it. The device pulls again without its claim (the depot then
    /// serves from what it holds).
    public static func impossibleCursor(_ m: String) -> WireError { WireError(409, impossibleCursorCode, m) }
    public static let impossibleCursorCode = "impossible_cursor"
    /// A request that did not arrive whole in time (too slow a body, or past the deadline):
    /// dropped, nothing was done.
    /// A device treats it as unreachable: its changes wait for the next sync.
    public static func requestTimeout(_ m: String) -> WireError { WireError(408, "request_timeout", m) }
    public static func tooLarge(_ m: String) -> WireError { WireError(413, "too_large", m) }
    public static func invalidChange(_ m: String) -> WireError { WireError(422, "invalid_change", m) }
    public static func clockDrift(_ m: String) -> WireError { WireError(422, "clock_drift", m) }
    public static func upgradeRequired(_ m: String) -> WireError { WireError(426, "upgrade_required", m) }
    public static func internalError(_ m: String) -> WireError { WireError(500, "internal", m) }
    /// Too many requests at once: sent with `Retry-After` (seconds); nothing was done.
    public static func busy(_ m: String) -> WireError { WireError(503, "busy", m) }
    /// The depot's own disk or database failed (full, read-only, failing): nothing of the
    /// request was kept, and it is not the device's fault. Sent with `Retry-After`; the device
    /// keeps its changes and syncs later.
    public static func storage(_ m: String) -> WireError { WireError(503, storageCode, m) }
    /// The code of `storage`, which a device answers by keeping its changes for later.
    public static let storageCode = "storage"
}
