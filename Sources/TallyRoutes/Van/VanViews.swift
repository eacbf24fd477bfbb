/// A ticket as the van sees it.
public struct TicketView: Sendable, Codable, Equatable {
    public var ticket: String
    public var day: String
    public var stop: Int
    public var customer: String
    public var customerName: String
    public var payment: String
    public var amountDue: Money
    /// planned, loaded, delivered, refused, `delivered|refused` when two devices disagree, or
    /// `delivery voided`.
    public var status: String
    public var promisedBy: String?
    public var cashCollected: Money?
    public var cartonsScanned: Int
    public var cartonsExpected: Int
}

/// One line of a ticket and how many of its cartons are scanned.
public struct LineView: Sendable, Codable, Equatable {
    public var product: String
    public var name: String
    public var quantity: Int
    public var unitPrice: Money
    public var scanned: Int
}

/// What a scan found for one code.
public struct ScanOutcome: Sendable, Codable, Equatable {
    public enum Result: String, Sendable, Codable { case accepted, alreadyScanned = "already_scanned", wrongTicket = "wrong_ticket", unknown }
    public var code: String
    public var result: Result
    public var detail: String
}

/// A van command refused: what happened and what to do. Nothing was recorded.
public enum VanError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    case scanRefused([ScanOutcome])

    public var description: String {
        switch self {
        case .refused(let s): s
        case .scanRefused(let o):
            "nothing was recorded: " + o.map { "carton \($0.code) \($0.detail)" }.joined(separator: "; ")
        }
    }
}
