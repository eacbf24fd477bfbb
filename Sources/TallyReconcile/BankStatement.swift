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

/// The bank's statement as CSV: `date,account,amount,reference`, UTF-8 with or without BOM.
public enum BankStatement {
    public static let columns = ["date", "account", "amount", "reference"]

    /// Reads and checks a whole statement; every problem is reported with its line, and any
    /// problem refuses the whole file.
    public static func parse(_ bytes: [UInt8]) throws(ManifestError) -> [BankLine] {
        let records: [CSVReader.Record]
        do { records = try CSVReader.records(bytes) } catch { throw ManifestError(problems: [.init(line: error.line, reason: error.reason)]) }
        guard let header = records.first else {
            throw ManifestError(problems: [.init(line: 1, reason: "the file is empty; it needs a header line: \(columns.joined(separator: ","))")])
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() { index[n] = i }
        let missing = columns.filter { index[$0] == nil }
        if !missing.isEmpty {
            throw ManifestError(problems: [.init(line: header.line, reason: "the header lacks \(missing.joined(separator: ", ")); it must be: \(columns.joined(separator: ","))")])
        }
        var problems: [ManifestError.Problem] = []
        var lines: [BankLine] = []
        var seen: [String: Int] = [:]
        for r in records.dropFirst() {
            guard r.fields.count == names.count else {
                problems.append(.init(line: r.line, reason: "\(r.fields.count) fields where the header has \(names.count)"))
                continue
            }
            func f(_ n: String) -> String { r.fields[index[n]!].trimmingCharacters(in: .whitespaces) }  // safe: checked above
            let date = f("date"), account = f("account"), reference = f("reference")
            var ok = true
            if !IsoTime.isDate(date) { problems.append(.init(line: r.line, reason: "date '\(date)' is not a date like 2026-11-28")); ok = false }
            if account.isEmpty { problems.append(.init(line: r.line, reason: "account is empty")); ok = false }
            var amount = Money.zero
            do {
                amount = try Money(parsing: f("amount"))
                if amount <= .zero { problems.append(.init(line: r.line, reason: "amount \(amount) is not a payment in; only credits belong in the statement")); ok = false }
            } catch {
                problems.append(.init(line: r.line, reason: "amount: \(error.description)")); ok = false
            }
            guard ok else { continue }
            let fields = "\(date)|\(account)|\(amount)|\(reference)"
            let n = seen[fields, default: 0] + 1
            seen[fields] = n
            lines.append(BankLine(id: BlobHash.sha256Hex(Array("\(fields)|\(n)".utf8)), date: date, account: account, amount: amount,
                                  reference: reference, line: r.line))
        }
        if records.count == 1 { problems.append(.init(line: header.line, reason: "the file has a header but no lines")) }
        if !problems.isEmpty { throw ManifestError(problems: problems, what: "bank statement") }
        return lines
    }
}
