/// A van's day in figures, with every difference either explained or listed as unexplained.
/// Recorded in the `close_day` entry and synced to the depot for settlement.
public struct DaySummary: Sendable, Codable, Equatable {
    public struct PartialPayment: Sendable, Codable, Equatable {
        public var ticket: String
        public var due: Money
        public var collected: Money
        public var reason: String
    }

    public var day: String
    public var route: String
    public var device: String
    public var tickets: Int
    public var delivered: Int
    public var refused: Int
    /// Tickets neither delivered nor refused.
    public var open: [String]
    public var late: [String]
    public var returns: Int
    public var cartonsReturned: Int
    public var cartonsExpected: Int
    public var cartonsScanned: Int
    public var cartonsShort: Int
    /// Value of the goods handed over, all payment kinds.
    public var valueDelivered: Money
    /// Value credited for returns.
    public var credited: Money
    /// Cash that should have been collected: cash tickets delivered, at the value handed over.
    public var cashDue: Money
    public var cashCollected: Money
    /// Cash paid back for returns on cash tickets.
    public var cashPaidBack: Money
    public var cashDeposited: Money
    public var cashOnHand: Money
    /// Brought from the van's previous day (its close carried it over); absent when none.
    public var cashCarriedIn: Money?
    /// Carried over to the next day at this close; absent when none.
    public var cashCarriedOver: Money?
    /// Declared missing at this close; absent when none.
    public var cashMissing: Money?
    public var partialPayments: [PartialPayment]
    public var loadDifferences: [LoadCount]
    public var vehicleCheck: String?
    public var odometerStart: Int64?
    public var odometerEnd: Int64?
    /// Differences with their explanation (a part payment's reason, a shortage declared).
    public var explained: [String]
    /// Differences nobody has explained yet: what the accountant will ask about.
    public var unexplained: [String]
}
