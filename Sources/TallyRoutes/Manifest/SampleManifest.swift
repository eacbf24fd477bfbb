import TallyReplica

/// A made-up but realistic manifest (Chinese shop names, tobacco cartons, cash and electronic
/// customers), seeded so the same arguments always give the same file. For the demo, trying
/// Tally out, tests and benchmarks.
public struct SampleManifest: Sendable {
    public struct Product: Sendable {
        public var code: String
        public var name: String
        public var price: Money
    }

    public static let products: [Product] = [
        Product(code: "6901028075015", name: "中华(硬)", price: Money(minorUnits: 45_000)),
        Product(code: "6901028075022", name: "玉溪(软)", price: Money(minorUnits: 23_000)),
        Product(code: "6901028001915", name: "芙蓉王(硬)", price: Money(minorUnits: 26_000)),
        Product(code: "6901028000116", name: "红塔山(经典)", price: Money(minorUnits: 9_500)),
        Product(code: "6901028075831", name: "云烟(紫)", price: Money(minorUnits: 11_000)),
        Product(code: "6901028221443", name: "黄鹤楼(软蓝)", price: Money(minorUnits: 19_000)),
        Product(code: "6901028046893", name: "利群(新版)", price: Money(minorUnits: 14_000)),
        Product(code: "6901028180580", name: "南京(炫赫门)", price: Money(minorUnits: 13_000)),
    ]
    static let surnames = ["张", "李", "王", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"]
    static let shops = ["记便利店", "家超市", "氏烟酒行", "记副食店", "家小卖部", "记百货", "氏商行", "家烟酒店"]
    static let streets = ["幸福路", "人民路", "解放街", "建设路", "和平街", "中山路", "新华路", "文化街", "胜利路", "长江路"]

    public var date: String
    public var routes: [String]
    public var ticketsPerRoute: Int
    public var seed: UInt64

    public init(date: String, routes: [String] = ["R01", "R02", "R03"], ticketsPerRoute: Int = 30, seed: UInt64 = 1) {
        self.date = date
        self.routes = routes
        self.ticketsPerRoute = ticketsPerRoute
        self.seed = seed
    }

    /// The manifest as CSV text, UTF-8 with CRLF line ends, header first.
    public func csv() -> String {
        var rng = SeededGenerator(seed: seed)
        var out = Manifest.columns.joined(separator: ",") + "\r\n"
        var ticketNo = 0
        let stamp = String(date.replacingOccurrences(of: "-", with: "").suffix(6))
        for (r, route) in routes.enumerated() {
            for stop in 1...max(1, ticketsPerRoute) {
                ticketNo += 1
                let ticket = "T\(date.replacingOccurrences(of: "-", with: "").suffix(4))\(String(format: "%04d", ticketNo))"
                let customer = "C\(r + 1)\(String(format: "%04d", stop))"
                let name = Self.surnames[Int(rng.next() % UInt64(Self.surnames.count))] + Self.shops[Int(rng.next() % UInt64(Self.shops.count))]
                let address = Self.streets[Int(rng.next() % UInt64(Self.streets.count))] + "\(1 + rng.next() % 200)号"
                let phone = "138\(String(format: "%08d", Int(rng.next() % 100_000_000)))"
                let payment = rng.next() % 5 < 3 ? "cash" : "electronic"
                let hour = 9 + (stop - 1) * 9 / max(1, ticketsPerRoute)
                let promised = "\(date)T\(String(format: "%02d", min(hour + 2, 20))):00:00+08:00"
                var chosen: [Product] = []
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    let p = Self.products[Int(rng.next() % UInt64(Self.products.count))]
                    if !chosen.contains(where: { $0.code == p.code }) { chosen.append(p) }
                }
                for (box, p) in chosen.enumerated() {
                    let qty = 1 + Int(rng.next() % 4)
                    // The date in every code: a carton is printed once, so no two days share one.
                    let codes = (1...qty).map { "\(customer)-\(p.code)-\(stamp)-\(String(format: "%04d", $0))" }.joined(separator: ";")
                    out += [date, route, ticket, String(stop), customer, name, address, phone, payment, promised, String(box + 1),
                            p.code, p.name, String(qty), p.price.description, codes].joined(separator: ",") + "\r\n"
                }
            }
        }
        return out
    }
}
