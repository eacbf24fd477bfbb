import Foundation

extension Manifest {
    /// Reads and checks a whole manifest. Every problem is collected with its line number;
    /// any problem refuses the whole file.
    public static func parse(_ bytes: [UInt8]) throws(ManifestError) -> Manifest {
        let records: [CSVReader.Record]
        // An order system on a Chinese Windows may write GB18030/GBK: read it as UTF-8.
        do { records = try CSVReader.records(TextEncoding.utf8(bytes)?.bytes ?? bytes) } catch {
            throw ManifestError(problems: [.init(line: error.line, reason: error.reason)])
        }
        guard let header = records.first else {
            throw ManifestError(problems: [.init(line: 1, reason: "the file is empty; it needs a header line: \(columns.joined(separator: ","))")])
        }
        var problems: [ManifestError.Problem] = []
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() { index[n] = i }
        let missing = columns.filter { index[$0] == nil }
        if !missing.isEmpty {
            throw ManifestError(problems: [.init(line: header.line, reason: "the header lacks the column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")); the header is: \(columns.joined(separator: ","))")])
        }

        var tickets: [ManifestTicket] = []
        var ticketIndex: [String: Int] = [:]
        var ticketLine: [String: Int] = [:]
        var cartonSeen: [String: (line: Int, ticket: String)] = [:]
        for r in records.dropFirst() {
            func problem(_ reason: String) { problems.append(.init(line: r.line, reason: reason)) }
            guard r.fields.count == names.count else {
                problem("\(r.fields.count) fields where the header has \(names.count); check for a missing or extra comma")
                continue
            }
            func f(_ name: String) -> String { r.fields[index[name]!].trimmingCharacters(in: .whitespaces) }  // safe: every column checked above
            let before = problems.count
            let date = f("date")
            if !Self.isDate(date) { problem("date '\(date)' is not a date like 2026-11-28") }
            let route = f("route"), ticket = f("ticket"), customer = f("customer_code")
            if route.isEmpty { problem("route is empty") }
            if ticket.isEmpty { problem("ticket is empty") }
            if customer.isEmpty { problem("customer_code is empty") }
            let stop = Int(f("stop"))
            if stop == nil || stop! < 1 { problem("stop '\(f("stop"))' is not a stop number (1, 2, 3…)") }  // safe: nil checked first
            let payment = PaymentKind(rawValue: f("payment").lowercased())
            if payment == nil { problem("payment '\(f("payment"))' is neither cash nor electronic") }
            let promised = f("promised_by")
            if !Self.isTimeWithOffset(promised) { problem("promised_by '\(promised)' is not a time with offset like 2026-11-28T12:00:00+08:00") }
            let box = Int(f("box"))
            if box == nil || box! < 0 { problem("box '\(f("box"))' is not a whole number") }  // safe: nil checked first
            let product = f("product_code")
            if product.isEmpty { problem("product_code is empty") }
            let quantity = Int(f("quantity"))
            if quantity == nil { problem("quantity '\(f("quantity"))' is not a whole number of cartons") }
            else if quantity! <= 0 { problem("quantity \(quantity!) must be at least 1") }  // safe: nil checked first
            var price: Money?
            do {
                let p = try Money(parsing: f("unit_price"))
                if p.minorUnits < 0 { problem("unit_price \(p) is negative") } else { price = p }
            } catch {
                problem("unit_price: \(error)")
            }
            let cartons = f("carton_codes").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let q = quantity, q > 0, cartons.count != q {
                problem("\(cartons.count) carton code\(cartons.count == 1 ? "" : "s") for a quantity of \(q); list one code per carton, separated by ;")
            }
            for code in cartons {
                if !customer.isEmpty && !code.hasPrefix(customer) {
                    problem("carton \(code) does not carry the customer code \(customer)")
                }
                if let seen = cartonSeen[code] {
                    problem(seen.ticket == ticket
                        ? "carton \(code) is listed twice (also on line \(seen.line))"
                        : "carton \(code) is already on ticket \(seen.ticket) (line \(seen.line)); a carton belongs to one ticket")
                } else {
                    cartonSeen[code] = (r.line, ticket)
                }
            }
            guard problems.count == before, let stop, let payment, let box, let quantity, let price else { continue }
            // Amounts are Int64 fen: a line or a ticket that would not fit is refused, not wrapped.
            let (lineAmount, lineOverflow) = price.minorUnits.multipliedReportingOverflow(by: Int64(quantity))
            let ticketSoFar = ticketIndex[ticket].map { tickets[$0].lines.reduce(Int64(0)) { $0 &+ $1.amount.minorUnits } } ?? 0
            if lineOverflow || lineAmount > Self.maxTicketAmount || ticketSoFar > Self.maxTicketAmount - lineAmount {
                problem("the amount of ticket \(ticket) is too large (over \(Money(minorUnits: Self.maxTicketAmount))); check unit_price and quantity")
                continue
            }
            let line = ManifestLine(line: r.line, box: box, productCode: product, productName: f("product_name"),
                                    quantity: quantity, unitPrice: price, cartons: cartons)
            let t = ManifestTicket(date: date, route: route, ticket: ticket, stop: stop, customerCode: customer,
                                   customerName: f("customer_name"), address: f("address"), phone: f("phone"),
                                   payment: payment, promisedBy: promised, lines: [line])
            if let i = ticketIndex[ticket] {
                var existing = tickets[i]
                var other = t
                other.lines = existing.lines
                if other != existing {
                    problem("ticket \(ticket) has other ticket fields (date, route, stop, customer, payment or promised time) than on line \(ticketLine[ticket] ?? 0); they must repeat exactly")
                    continue
                }
                existing.lines.append(line)
                tickets[i] = existing
            } else {
                ticketIndex[ticket] = tickets.count
                ticketLine[ticket] = r.line
                tickets.append(t)
            }
        }
        if records.count == 1 { problems.append(.init(line: header.line, reason: "the file has a header but no tickets")) }
        if !problems.isEmpty { throw ManifestError(problems: problems) }
        return Manifest(tickets: tickets)
    }

    /// The largest amount a ticket may carry: far above any real delivery, far below where sums of
    /// a whole year's tickets could overflow `Int64` fen.
    public static let maxTicketAmount: Int64 = 100_000_000_000  // 1,000,000,000.00 yuan

    /// A calendar date like 2026-11-28.
    public static func isDate(_ s: String) -> Bool { IsoTime.isDate(s) }

    static func isTimeWithOffset(_ s: String) -> Bool { IsoTime.parse(s) != nil }
}
