/// What an entry of the event ledger records. The raw value is stored in `events.kind`.
///
/// Every entry is immutable; a mistake is corrected by a `void` that names the entry, never by
/// changing it.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    /// A carton code checked against its ticket (`ref` = code, `product`).
    case scan
    /// The count of what was loaded before leaving (`qty` = cartons, `detail` = counts per product).
    case loadOut = "load_out"
    /// The count of what came back at day end (`qty` = cartons, `detail` = counts per product:
    /// expected is loaded − delivered + returned).
    case loadIn = "load_in"
    /// The pre-trip vehicle check (`reason` = ok or fault, `note` = the fault).
    case vehicleCheck = "vehicle_check"
    /// A driving-log entry (`qty` = odometer in km, `note`).
    case odometer
    /// A handover: goods and money both settled, signed (`amount` = cash collected, `due` = value
    /// of the goods handed over, `detail` = the bound content, `hash` = its SHA-256, `ref` = the
    /// signature image's SHA-256).
    case deliver
    /// A refusal at the shop (`reason` = code, `note`).
    case refuse
    /// Goods taken back after delivery (`product`, `qty`, `due` = credit, `amount` = cash paid
    /// back on a cash ticket, `reason` = code).
    case `return`
    /// A compensating entry (`ref` = the voided entry, `note` = why).
    case void
    /// Cash paid in at the bank (`amount`, `ref` = bank reference, `hash` = slip image).
    case deposit
    /// The van's day summary (`detail` = the summary as JSON).
    case closeDay = "close_day"
    /// Cash carried to the driver's next day at the close, on purpose (`amount`, `note` = why):
    /// the next day's opening float. Recorded with the close, final like it.
    case carry
    /// Cash declared missing at the close (`amount`, `note` = why): short at settlement.
    case cashMissing = "cash_missing"
    /// A shop paying what it owed on an earlier ticket (its unpaid rest, or what went on its
    /// account): `ticket`, `amount` = cash taken, `due` = the sum paid off (cash and QR),
    /// `ref` = the QR payment's reference, `note`.
    case collect
    /// A fee taken in cash at a service window (`product` = the fee's code, `amount` = cash
    /// taken, `due` = the fee, `ref` = the request it was paid for, `note` = the payer).
    case fee

    /// How the entry reads in a list.
    public var label: String {
        switch self {
        case .scan: "scan 扫码"
        case .loadOut: "load-out 装车"
        case .loadIn: "load-in 回库"
        case .vehicleCheck: "vehicle check 车检"
        case .odometer: "driving log 行车记录"
        case .deliver: "delivery 交付"
        case .refuse: "refusal 拒收"
        case .return: "return 退货"
        case .void: "void 作废"
        case .deposit: "deposit 存款"
        case .closeDay: "day close 日结"
        case .fee: "fee 收费"
        case .collect: "balance collected 收欠款"
        case .carry: "carried over 结转"
        case .cashMissing: "declared missing 短缺申报"
        }
    }
}
