/// One write to one row, as it travels between replicas: the unit of the change log.
///
/// A change names its columns, so a replica on an older schema can still read it; it carries
/// the writer's clock (`hlc`), identity (`site`) and gapless per-site counter (`seq`), which
/// together make it globally unique and let version vectors compute exact deltas.
public struct Change: Sendable, Hashable, Codable {
    public var table: String
    public var key: String
    /// Causal length of the row after this write: odd means the row is live, even deleted.
    /// Merged by taking the maximum, so delete and re-insert converge in any order.
    public var cl: Int64
    /// The columns this write sets, sorted by name. Empty for a delete.
    public var values: [ColumnValue]
    public var hlc: HLC
    public var site: SiteID
    public var seq: UInt64

    public init(table: String, key: String, cl: Int64, values: [ColumnValue], hlc: HLC, site: SiteID, seq: UInt64) {
        self.table = table
        self.key = key
        self.cl = cl
        self.values = values.sorted { $0.column < $1.column }
        self.hlc = hlc
        self.site = site
        self.seq = seq
    }

    /// Whether this change deletes its row.
    public var isDelete: Bool { cl % 2 == 0 }

    public func value(_ column: String) -> Value? { values.first { $0.column == column }?.value }

    private enum CodingKeys: String, CodingKey { case table, key, cl, values, hlc, site, seq }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let hlcHex = try c.decode(String.self, forKey: .hlc)
        let siteHex = try c.decode(String.self, forKey: .site)
        guard let hlc = HLC(hex: hlcHex) else {
            throw DecodingError.dataCorruptedError(forKey: .hlc, in: c, debugDescription: "hlc must be 16 hex digits")
        }
        guard let site = SiteID(hex: siteHex) else {
            throw DecodingError.dataCorruptedError(forKey: .site, in: c, debugDescription: "site must be 32 hex digits")
        }
        let dict = try c.decode([String: Value].self, forKey: .values)
        self.init(table: try c.decode(String.self, forKey: .table),
                  key: try c.decode(String.self, forKey: .key),
                  cl: try c.decode(Int64.self, forKey: .cl),
                  values: dict.map { ColumnValue($0.key, $0.value) },
                  hlc: hlc, site: site,
                  seq: try c.decode(UInt64.self, forKey: .seq))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(table, forKey: .table)
        try c.encode(key, forKey: .key)
        try c.encode(cl, forKey: .cl)
        try c.encode(Dictionary(uniqueKeysWithValues: values.map { ($0.column, $0.value) }), forKey: .values)
        try c.encode(hlc.hex, forKey: .hlc)
        try c.encode(site.hex, forKey: .site)
        try c.encode(seq, forKey: .seq)
    }
}

/// A column name and the value written to it.
public struct ColumnValue: Sendable, Hashable {
    public var column: String
    public var value: Value
    public init(_ column: String, _ value: Value) {
        self.column = column
        self.value = value
    }
}
