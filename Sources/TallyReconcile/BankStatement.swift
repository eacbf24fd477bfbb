import Foundation
import TallyReplica
import TallyRoutes

/// One line of a bank statement: money paid into the company's account.
public struct BankLine: Sendable, Codable, Equatable, Hashable {
    /// Stable identity: the line's fields and its occurrence in the file, so that importing the
    /// same statement again adds nothing, and two identical payments on one day stay two.
    public var id: String
    public var date: String
    public var account: String
    public var amount: Money
    public var reference: String
    /// CSV line it came from (absent when read back from the store).
    public var line: Int?
}

/// A statement read: its credit lines, and what was passed over.
public struct ReadStatement: Sendable, Equatable {
    public var lines: [BankLine]
    public var encoding: TextEncoding
    /// Lines above the header (the bank's title, the account, the period).
    public var above: Int
    /// Lines with nothing credited (debits of a two-column export).
    public var debits: Int
    /// Lines after the last payment (totals, "合计", the bank's footer).
    public var footer: Int
}

/// The bank's statement as the bank exports it: CSV in UTF-8 or GB18030/GBK, the header row
/// found below the bank's title lines by the columns a `BankFormat` names, thousands separators
/// and `/` dates read, the footer's totals passed over. Every line paid into an account other
/// than the depot's designated one (指定帐号) is refused.
public enum BankStatement {
    public static let columns = ["date", "account", "amount", "reference"]

    public static func parse(_ bytes: [UInt8]) throws(ManifestError) -> [BankLine] {
        try read(bytes, format: .plain, designated: nil).lines
    }

    /// Reads and checks a whole statement; every problem is reported with its line, and any
    /// problem refuses the whole file.
    public static func read(_ bytes: [UInt8], format: BankFormat, designated: String?) throws(ManifestError) -> ReadStatement {
        func refuse(_ line: Int, _ reason: String) -> ManifestError {
            ManifestError(problems: [.init(line: line, reason: reason)], what: "bank statement")
        }
        guard let (text, encoding) = TextEncoding.utf8(bytes) else {
            throw refuse(1, "the file is neither UTF-8 nor GB18030/GBK text; export the statement from the bank again as CSV")
        }
        let records: [CSVReader.Record]
        do { records = try CSVReader.records(text) } catch { throw refuse(error.line, error.reason) }
        guard !records.isEmpty else { throw refuse(1, "the file is empty; it needs a header line with \(format.columns.joined(separator: ", "))") }
        // The header: the first row naming every mapped column, below whatever title the bank puts.
        func names(_ r: CSVReader.Record) -> [String] { r.fields.map { BankFormat.cell($0).lowercased() } }
        guard let h = records.prefix(40).firstIndex(where: { r in format.columns.allSatisfy { names(r).contains($0.lowercased()) } }) else {
            let what = format.name == BankFormat.plain.name ? "it must be: \(columns.joined(separator: ","))"
                : "format \(format.name) expects the columns \(format.columns.joined(separator: ", ")); check the format or save another"
            throw refuse(records[0].line, "no header line names \(format.columns.joined(separator: ", ")); \(what)")
        }
        let header = names(records[h])
        func index(_ column: String) -> Int { header.firstIndex(of: column.lowercased()) ?? 0 }
        let (di, ai, ri) = (index(format.date), index(format.amount), index(format.reference))
        let ci = format.account.map(index)
        // An export of one account names it above the header ("账号:,6222…"): it is every line's account.
        let titled = Self.titleAccount(records[..<h])
        if let (line, account) = titled, let designated, account != designated {
            throw refuse(line, "the statement is of account \(account), not the depot's designated account \(designated); "
                + "export the designated account's statement, or check the account set with `tally reconcile bank-account`")
        }

        var problems: [ManifestError.Problem] = []
        var lines: [BankLine] = []
        var seen: [String: Int] = [:]
        var debits = 0
        var notLines: [CSVReader.Record] = []  // rows that are not payments: a footer if nothing follows them
        for r in records[(h + 1)...] {
            let fields = r.fields.map(BankFormat.cell)
            if fields.allSatisfy(\.isEmpty) { continue }
            func f(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
            guard let date = BankFormat.date(f(di)) else {
                if f(di).contains(where: \.isNumber) {
                    problems.append(.init(line: r.line, reason: "date '\(f(di))' is not a date like 2026-11-28 or 2026/11/28"))
                } else {
                    notLines.append(r)  // a total, a subtitle: no date at all
                }
                continue
            }
            for n in notLines {
                problems.append(.init(line: n.line, reason: "'\(BankFormat.cell(n.fields.first ?? ""))…' is not a statement line "
                    + "(no date in column \(format.date)) but payments follow it"))
            }
            notLines = []
            guard fields.count >= header.count else {
                problems.append(.init(line: r.line, reason: "\(fields.count) fields where the header has \(header.count); check for a missing comma"))
                continue
            }
            guard let amountText = BankFormat.amountText(f(ai)) else {
                debits += 1
                continue
            }
            let account = ci.map(f) ?? titled?.account ?? designated ?? ""
            let reference = f(ri)
            var ok = true
            if account.isEmpty { problems.append(.init(line: r.line, reason: "the account is empty")); ok = false }
            if let designated, !account.isEmpty, account != designated {
                problems.append(.init(line: r.line, reason: "paid into account \(account), not the depot's designated account \(designated); "
                    + "export the designated account's statement, or check the account set with `tally reconcile bank-account`"))
                ok = false
            }
            var amount = Money.zero
            do {
                amount = try Money(parsing: amountText)
                if amount <= .zero {
                    problems.append(.init(line: r.line, reason: "amount \(amount) is not a payment in; only credits belong in the statement"))
                    ok = false
                }
            } catch {
                problems.append(.init(line: r.line, reason: "amount '\(f(ai))': \(error.description)"))
                ok = false
            }
            guard ok else { continue }
            let key = "\(date)|\(account)|\(amount)|\(reference)"
            let n = seen[key, default: 0] + 1
            seen[key] = n
            lines.append(BankLine(id: BlobHash.sha256Hex(Array("\(key)|\(n)".utf8)), date: date, account: account, amount: amount,
                                  reference: reference, line: r.line))
        }
        if lines.isEmpty && problems.isEmpty { problems.append(.init(line: records[h].line, reason: "the file has a header but no payments in")) }
        if !problems.isEmpty { throw ManifestError(problems: problems, what: "bank statement") }
        return ReadStatement(lines: lines, encoding: encoding, above: h, debits: debits, footer: notLines.count)
    }

    /// The account a title line names (`账号:,6222…`, `帐号：6222…`, `Account No,6222…`), with its line.
    static func titleAccount(_ rows: ArraySlice<CSVReader.Record>) -> (line: Int, account: String)? {
        for r in rows {
            let cells = r.fields.map(BankFormat.cell)
            for (i, c) in cells.enumerated() where c.contains("账号") || c.contains("帐号") || c.lowercased().contains("account") {
                let inline = c.split(whereSeparator: { $0 == ":" || $0 == "：" }).dropFirst().joined()
                let candidate = [inline] + cells.dropFirst(i + 1)
                if let number = candidate.map({ $0.filter { !$0.isWhitespace } }).first(where: { !$0.isEmpty }),
                   number.count >= 6, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) {
                    return (r.line, number)
                }
            }
        }
        return nil
    }
}
