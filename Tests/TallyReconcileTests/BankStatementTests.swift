import Foundation
import Testing
import TallyRoutes
@testable import TallyReconcile

@Suite struct BankStatementTests {
    static let header = "date,account,amount,reference"

    static func csv(_ lines: [String]) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n").utf8) }

    @Test func readsLinesAndKeepsIdenticalPaymentsApart() throws {
        let lines = try BankStatement.parse(Self.csv([Self.header, "2026-11-28,6222,570.50,ICBC-1", "2026-11-28,6222,570.50,ICBC-1"]))
        #expect(lines.count == 2 && lines[0].amount == Money(minorUnits: 57_050))
        #expect(lines[0].id != lines[1].id)
        #expect(try BankStatement.parse(Self.csv([Self.header, "2026-11-28,6222,570.50,ICBC-1", "2026-11-28,6222,570.50,ICBC-1"])).map(\.id) == lines.map(\.id))
    }

    @Test func everyBadLineIsReportedWithItsNumber() {
        do {
            _ = try BankStatement.parse(Self.csv([Self.header, "2026-11-31,6222,1.00,A", "2026-11-28,,1.00,B", "2026-11-28,6222,1.005,C", "2026-11-28,6222,-5.00,D", "2026-11-28,6222"]))
            Issue.record("a bad statement was accepted")
        } catch {
            #expect(error.problems.map(\.line) == [2, 3, 4, 5, 6])
            #expect(error.description.contains("the bank statement was not imported"))
        }
    }

    @Test func aMissingColumnRefusesTheFile() {
        #expect(throws: ManifestError.self) { try BankStatement.parse(Self.csv(["date,account,amount", "2026-11-28,6222,1.00"])) }
    }
}

/// Statements as banks export them: GBK, Chinese headers under a title, thousands separators,
/// `/` dates, debit lines and a footer of totals; the designated account enforced.
struct BankExportTests {
    static let icbc = BankFormat(name: "ICBC", date: "交易日期", amount: "贷方发生额", reference: "摘要", account: nil)

    static func gbk(_ lines: [String]) throws -> [UInt8] {
        let text = lines.joined(separator: "\r\n") + "\r\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        p.arguments = ["-f", "UTF-8", "-t", "GB18030"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Array(bytes)
    }

    static let export = [
        "中国工商银行 对公账户明细",
        "账号:,6222020200112233,户名:,某某烟草配送中心",
        "交易日期,借方发生额,贷方发生额,余额,摘要,对方户名",
        "2026/11/29 10:12:03,,\"12,685.00\",\"112,685.00\",ICBC-0001,王师傅",
        "2026/11/29,500.00,,\"112,185.00\",手续费,",
        "2026-11-30,,\"3,250.50\",\"115,435.50\",现金缴存 CASH DEP 88213,",
        "合计,500.00,\"15,935.50\",,,",
    ]

    @Test func aGBKExportWithTitleDebitsAndFooterReads() throws {
        let bytes = try Self.gbk(Self.export)
        #expect(String(validating: bytes, as: UTF8.self) == nil, "the file really is GBK")
        let read = try BankStatement.read(bytes, format: Self.icbc, designated: "6222020200112233")
        #expect(read.encoding == .gb18030 && read.above == 2 && read.debits == 1 && read.footer == 1)
        #expect(read.lines.map(\.date) == ["2026-11-29", "2026-11-30"])
        #expect(read.lines.map(\.amount) == [Money(minorUnits: 1_268_500), Money(minorUnits: 325_050)])
        #expect(read.lines.map(\.reference) == ["ICBC-0001", "现金缴存 CASH DEP 88213"])
        #expect(read.lines.allSatisfy { $0.account == "6222020200112233" })
        #expect(read.lines.map(\.line) == [4, 6])
        // The same in UTF-8 with Excel's mark reads the same lines.
        let utf8 = [0xEF, 0xBB, 0xBF] + Array((Self.export.joined(separator: "\r\n") + "\r\n").utf8)
        #expect(try BankStatement.read(utf8, format: Self.icbc, designated: "6222020200112233").lines.map(\.id) == read.lines.map(\.id))
    }

    @Test func linesIntoAnotherAccountOrWithBadDatesAreRefusedWithTheirLine() throws {
        let format = BankFormat(name: "CCB", date: "日期", amount: "收入金额", reference: "用途", account: "本方账号")
        let lines = ["日期,本方账号,收入金额,用途", "2026/11/29,6222,100.00,A", "2026/11/29,9999,\"1,000.00\",B", "2026/13/01,6222,5.00,C",
                     "本页小计,,1105.00,"]
        do {
            _ = try BankStatement.read(Array(lines.joined(separator: "\n").utf8), format: format, designated: "6222")
            Issue.record("a statement with a line into another account was accepted")
        } catch {
            #expect(error.problems.map(\.line) == [3, 4], "\(error.problems)")
            #expect(error.description.contains("the bank statement was not imported"))
            #expect(error.problems.first?.reason.contains("not the depot's designated account 6222") == true)
        }
        // A total in the middle, with payments after it, is not passed over in silence.
        let middle = ["日期,本方账号,收入金额,用途", "2026/11/29,6222,100.00,A", "合计,,100.00,", "2026/11/30,6222,5.00,C"]
        #expect(throws: ManifestError.self) {
            try BankStatement.read(Array(middle.joined(separator: "\n").utf8), format: format, designated: "6222")
        }
        #expect(throws: ManifestError.self) { try BankStatement.read(Array(middle.joined(separator: "\n").utf8), format: Self.icbc, designated: nil) }
    }

    @Test func datesAndAmountsAsBanksWriteThem() {
        for (cell, iso) in [("2026/11/29", "2026-11-29"), ("2026.11.29", "2026-11-29"), ("20261129", "2026-11-29"), ("2026年11月29日", "2026-11-29"),
                            ("2026-11-29 08:00:00", "2026-11-29"), ("2026/2/3", "2026-02-03")] {
            #expect(BankFormat.date(cell) == iso, "\(cell)")
        }
        for bad in ["2026/11/31", "29/11/2026", "合计", "", "2026-11"] { #expect(BankFormat.date(bad) == nil, "\(bad)") }
        #expect(BankFormat.amountText("\"12,685.00\"".replacingOccurrences(of: "\"", with: "")) == "12685.00")
        #expect(BankFormat.amountText("￥１２，６８５.００") == "12685.00")
        #expect(BankFormat.amountText(" ") == nil && BankFormat.amountText("-") == nil)
        #expect(BankFormat.cell("=\"6222020200112233\"") == "6222020200112233")
    }
}
