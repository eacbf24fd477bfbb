import Testing
import TallyRoutes

@Suite struct MoneyTests {
    @Test(arguments: [("450", 45_000), ("450.5", 45_050), ("450.05", 45_005), ("-45.00", -4_500), ("0.01", 1), ("+3", 300)])
    func parses(_ text: String, _ fen: Int64) throws {
        #expect(try Money(parsing: text).minorUnits == fen)
    }

    @Test(arguments: ["", "abc", "1,000.00", "1.234", "1e3", ".5", "5.", "--1", "99999999999999999999"])
    func refuses(_ text: String) {
        #expect(throws: MoneyError.self) { try Money(parsing: text) }
    }

    @Test func prints() throws {
        #expect(Money(minorUnits: 123_450).description == "1234.50")
        #expect(Money(minorUnits: -5).description == "-0.05")
        #expect(Money(minorUnits: 0).description == "0.00")
        #expect(try Money(parsing: "0.1") + Money(parsing: "0.2") == Money(parsing: "0.30"))
    }
}
