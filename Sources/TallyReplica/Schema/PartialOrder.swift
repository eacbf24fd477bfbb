/// A finite partial order over text values, declared by its covering pairs
/// (`planned < loaded`, `attempted < delivered`, `attempted < refused`).
///
/// Lattice columns merge by keeping the maximal elements of everything seen. One maximal element
/// is the column's value; several (say `delivered` and `refused`) are a conflict that every
/// replica holds alike until a value above all of them is written.
public struct PartialOrder: Sendable, Hashable, Codable {
    /// Every value, in declaration order; the order breaks ties when a conflict needs one value
    /// to show.
    public let values: [String]
    /// Covering pairs `[lower, upper]`.
    public let covers: [[String]]

    private let index: [String: Int]
    /// `above[i]` holds every j with values[i] < values[j] (transitive closure).
    private let above: [Set<Int>]

    public init(values: [String], covers: [(String, String)]) throws(SchemaError) {
        try self.init(values: values, coverPairs: covers.map { [$0.0, $0.1] })
    }

    private init(values: [String], coverPairs: [[String]]) throws(SchemaError) {
        var index: [String: Int] = [:]
        for (i, v) in values.enumerated() {
            if index[v] != nil { throw SchemaError("the value '\(v)' is listed twice in a lattice order") }
            index[v] = i
        }
        var up = Array(repeating: Set<Int>(), count: values.count)
        for pair in coverPairs {
            guard pair.count == 2, let a = index[pair[0]], let b = index[pair[1]] else {
                throw SchemaError("a lattice cover \(pair) names a value that is not in the order")
            }
            up[a].insert(b)
        }
        // Transitive closure; refuse cycles, which would make the order no order.
        var closure = up
        var changed = true
        while changed {
            changed = false
            for i in 0..<values.count {
                var next = closure[i]
                for j in closure[i] { next.formUnion(closure[j]) }
                if next != closure[i] { closure[i] = next; changed = true }
            }
        }
        for i in 0..<values.count where closure[i].contains(i) {
            throw SchemaError("the lattice order has a cycle through '\(values[i])'")
        }
        self.values = values
        self.covers = coverPairs
        self.index = index
        self.above = closure
    }

    public func contains(_ value: String) -> Bool { index[value] != nil }

    public func position(of value: String) -> Int? { index[value] }

    /// a ≤ b in the order.
    public func lessOrEqual(_ a: String, _ b: String) -> Bool {
        guard let i = index[a], let j = index[b] else { return false }
        return i == j || above[i].contains(j)
    }

    /// The maximal elements of a set of values, sorted by declaration order: the join of
    /// antichains. Unknown values are dropped.
    public func maximal(_ set: some Sequence<String>) -> [String] {
        let ids = Set(set.compactMap { index[$0] })
        return ids.filter { i in !ids.contains { j in above[i].contains(j) } }
            .sorted()
            .map { values[$0] }
    }

    private enum CodingKeys: String, CodingKey { case values, covers }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(values: c.decode([String].self, forKey: .values),
                      coverPairs: c.decode([[String]].self, forKey: .covers))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(values, forKey: .values)
        try c.encode(covers, forKey: .covers)
    }

    public static func == (a: PartialOrder, b: PartialOrder) -> Bool {
        a.values == b.values && a.covers == b.covers
    }

    public func hash(into h: inout Hasher) {
        h.combine(values)
        h.combine(covers)
    }
}
