/// The fees the distributor's service hall takes in cash at a window. A fee is a ledger entry
/// (`fee`) settled like a van's cash: deposited, matched to the bank, approved.
public enum WindowFee: String, Sendable, Codable, CaseIterable {
    /// The deposit on turnover crates a shop keeps (周转箱押金).
    case crateDeposit = "crate_deposit"
    /// A replacement customer card (客户卡补办工本费).
    case card
    /// A second delivery the shop asked for after missing the first (二次配送费).
    case redelivery

    public var chinese: String {
        switch self {
        case .crateDeposit: "周转箱押金"
        case .card: "客户卡工本费"
        case .redelivery: "二次配送费"
        }
    }

    /// The codes, for an error message.
    public static var codes: String { allCases.map { "\($0.rawValue) (\($0.chinese))" }.joined(separator: ", ") }
}
