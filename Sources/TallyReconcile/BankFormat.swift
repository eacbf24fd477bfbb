import Foundation
import TallyRoutes

/// How one bank's statement export reads: which column holds the date, the amount credited,
/// the reference and (when the export lists several accounts) the account paid into. Saved at
/// the depot under a name (`tally reconcile bank-format ICBC --date 交易日期 ...`) and chosen at
/// import (`import-bank FILE --format ICBC`). The plain format is Tally's own CSV header.
public struct BankFormat: Sendable, Codable, Equatable {
    public var name: String
    public var date: String
    public var amount: String
    public var reference: String
    /// Nil: the export is of one account, the depot's designated one.
    public var account: String?

    public init(name: String, date: String, amount: String, reference: String, account: String?) {
        self.name = name
        self.date = date
        self.amount = amount
        self.reference = reference
        self.account = account
    }

    /// `date,account,amount,reference`.
    public static let plain = BankFormat(name: "plain", date: "date", amount: "amount", reference: "reference", account: "account")

    /// The columns the header row must hold.
    var columns: [String] { [date, amount, reference] + (account.map { [$0] } ?? []) }

    /// The date of a cell as banks write it: `2026-11-29`, `2026/11/29`, `2026.11.29`,
    /// `20261129`, `2026年11月29日`, with or without a time after it; nil otherwise.
    static func date(_ cell: String) -> String? {
        var t = cell.trimmingCharacters(in: .whitespaces)
        if let space = t.firstIndex(where: { $0 == " " || $0 == "T" }) { t = String(t[..<space]) }
        t = t.replacingOccurrences(of: "年", with: "-").replacingOccurrences(of: "月", with: "-").replacingOccurrences(of: "日", with: "")
        t = t.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: ".", with: "-")
        var parts = t.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, t.count == 8, t.allSatisfy(\.isASCII), t.allSatisfy(\.isNumber) {
            parts = [String(t.prefix(4)), String(t.dropFirst(4).prefix(2)), String(t.suffix(2))]
        }
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        let iso = String(format: "%04d-%02d-%02d", y, m, d)
        return IsoTime.isDate(iso) ? iso : nil
    }

    /// An amount as banks write it: thousands separators, a currency sign, full-width digits
    /// and spaces removed; nil when the cell is empty (a debit line of a two-column export).
    static func amountText(_ cell: String) -> String? {
        let widened = cell.unicodeScalars.map { s -> Character in
            (0xFF10...0xFF19).contains(s.value) ? Character(UnicodeScalar(s.value - 0xFF10 + 0x30)!) : Character(s)  // safe: a digit
        }
        var t = String(widened).trimmingCharacters(in: .whitespaces)
        for sign in ["¥", "￥", "CNY", "RMB", ",", "，", " "] { t = t.replacingOccurrences(of: sign, with: "") }
        return t.isEmpty || t == "-" ? nil : t
    }

    /// A cell as Excel exports text it must not reformat: `="6222..."`.
    static func cell(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("=\"") && t.hasSuffix("\"") && t.count >= 3 { t = String(t.dropFirst(2).dropLast()) }
        return t.trimmingCharacters(in: .whitespaces)
    }
}
