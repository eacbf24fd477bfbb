/// A reason code a driver gives for a refusal or a return. Codes are short, lowercase and stable
/// (reports group by them); the Chinese label is what the driver sees on the handheld.
public struct ReasonCode: Sendable, Codable, Equatable {
    public var code: String
    public var chinese: String
    public var english: String
    /// May explain a refusal at the shop.
    public var refusal: Bool
    /// May explain goods taken back after delivery.
    public var `return`: Bool
    /// Needs a note saying what happened.
    public var needsNote: Bool

    /// Every code, in the order `tally reasons` lists them.
    public static let all: [ReasonCode] = [
        ReasonCode(code: "closed", chinese: "店铺关门/无人收货", english: "shop closed, nobody to receive", refusal: true, return: false, needsNote: false),
        ReasonCode(code: "no_money", chinese: "客户无款支付", english: "customer cannot pay", refusal: true, return: false, needsNote: false),
        ReasonCode(code: "not_ordered", chinese: "客户称未订货", english: "customer says it was not ordered", refusal: true, return: true, needsNote: false),
        ReasonCode(code: "damaged", chinese: "货物破损", english: "goods damaged", refusal: true, return: true, needsNote: false),
        ReasonCode(code: "wrong_goods", chinese: "货品与订单不符", english: "goods do not match the order", refusal: true, return: true, needsNote: false),
        ReasonCode(code: "late", chinese: "超过约定时间送达", english: "arrived after the promised time", refusal: true, return: false, needsNote: false),
        ReasonCode(code: "quality", chinese: "质量问题", english: "quality problem", refusal: false, return: true, needsNote: true),
        ReasonCode(code: "over_ordered", chinese: "订货过多", english: "ordered too much", refusal: false, return: true, needsNote: false),
        ReasonCode(code: "other", chinese: "其他", english: "other (say what in the note)", refusal: true, return: true, needsNote: true),
    ]

    public static func named(_ code: String) -> ReasonCode? { all.first { $0.code == code.lowercased() } }
}
