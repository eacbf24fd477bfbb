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
