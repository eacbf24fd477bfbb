/// The fees a service window takes in cash. A fee is a ledger entry (`fee`) settled like a
/// van's cash: deposited, matched to the bank, approved.
public enum WindowFee: String, Sendable, Codable, CaseIterable {
    case mealCard = "meal_card"
    case water
    case electricity

    public var chinese: String {
        switch self {
        case .mealCard: "饭卡充值"
        case .water: "水费"
        case .electricity: "电费"
        }
    }

    /// The codes, for an error message.
    public static var codes: String { allCases.map { "\($0.rawValue) (\($0.chinese))" }.joined(separator: ", ") }
}
