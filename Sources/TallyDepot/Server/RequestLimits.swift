/// How slowly, how long and from how many connections a client may send: what keeps a client
/// without a credential, or one that trickles bytes, from holding the depot's places
/// (`tally depot serve --request-deadline --min-body-rate --max-connections-per-address`).
public struct RequestLimits: Sendable, Equatable {
    /// Seconds a request may take to arrive whole, head and body, counted from its first byte
    /// (or from the end of the previous answer on the connection); past it the request is
    /// dropped with `408`. The depot's own work on it is not counted.
    public var deadline: Double
    /// Bytes per second a body must average once `grace` has passed; 0 turns the floor off.
    public var minBodyRate: Double
    /// Seconds a body may take before the floor applies: a line that stalls a few seconds is
    /// not dropped, and a body that came fast earns credit for later stalls.
    public var grace: Double
    /// Open connections one address may have; more are closed at once. 0: no limit. Loopback
    /// (127.0.0.1, ::1: a reverse proxy on the depot's machine) is not limited.
    public var maxConnectionsPerAddress: Int

    /// A device's own request gives up at 300 s (`DepotClient.requestTimeout`): nothing legitimate
    /// takes longer to arrive.
    public static let defaultDeadline: Double = 300
    /// 1 KB/s: a GPRS line carries 2–5 KB/s; a client under that is stalling on purpose.
    public static let defaultMinBodyRate: Double = 1024
    public static let defaultGrace: Double = 10
    /// Vans behind one carrier's NAT share an address; each syncs over one connection.
    public static let defaultMaxConnectionsPerAddress = 32

    public init(deadline: Double = RequestLimits.defaultDeadline, minBodyRate: Double = RequestLimits.defaultMinBodyRate,
                grace: Double = RequestLimits.defaultGrace,
                maxConnectionsPerAddress: Int = RequestLimits.defaultMaxConnectionsPerAddress) {
        self.deadline = max(1, deadline)
        self.minBodyRate = max(0, minBodyRate)
        self.grace = max(0, grace)
        self.maxConnectionsPerAddress = max(0, maxConnectionsPerAddress)
    }

    /// Addresses the per-address limit leaves alone: the depot's own machine.
    static func isExempt(_ address: String) -> Bool {
        address == "127.0.0.1" || address == "::1" || address == "::ffff:127.0.0.1"
    }
}
