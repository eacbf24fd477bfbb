/// A window's day in figures, every difference explained or listed as unexplained: recorded in
/// its `close_day` entry, like a van's `DaySummary`.
public struct WindowDaySummary: Sendable, Codable, Equatable {
    public struct FeeTotal: Sendable, Codable, Equatable {
        public var fee: String
        public var count: Int
        public var amount: Money
    }

    public var day: String
    public var window: String
    public var device: String
    /// Numbers taken today.
    public var taken: Int
    /// Requests of today finished, by handling mode.
    public var finished: [String: Int]
    /// Requests this window owns that are still open (any day), by queue number.
    public var open: [String]
    public var overdue: [String]
    /// Sign-offs this window gave to other windows' joint requests.
    public var signOffs: Int
    public var satisfied: Int
    public var neutral: Int
    public var dissatisfied: Int
    public var fees: [FeeTotal]
    public var cashCollected: Money
    public var cashDeposited: Money
    public var cashOnHand: Money
    public var explained: [String]
    public var unexplained: [String]
}
