/// For each site, the highest sequence number up to which a replica holds every change of that
/// site, with no gap. Two replicas exchange exact deltas by sending what lies above the other's
/// vector.
public struct VersionVector: Sendable, Hashable, Codable, CustomStringConvertible {
    public private(set) var entries: [SiteID: UInt64]

    public init(_ entries: [SiteID: UInt64] = [:]) { self.entries = entries.filter { $0.value > 0 } }

    public subscript(site: SiteID) -> UInt64 {
        get { entries[site] ?? 0 }
        set { entries[site] = newValue == 0 ? nil : newValue }
    }

    /// Total number of changes the vector accounts for.
    public var total: UInt64 { entries.values.reduce(0, +) }

    /// True when every entry is at least the other's.
    public func dominates(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.key] >= $0.value }
    }

    /// Entry-wise maximum.
    public func merged(with other: VersionVector) -> VersionVector {
        VersionVector(entries.merging(other.entries, uniquingKeysWith: max))
    }

    /// Entry-wise minimum: what both have (a site missing from either counts 0).
    public func meet(_ other: VersionVector) -> VersionVector {
        var out: [SiteID: UInt64] = [:]
        for (site, seq) in entries { out[site] = min(seq, other[site]) }
        return VersionVector(out)
    }

    /// Sites in id order, for display and canonical encoding.
    public var sorted: [(site: SiteID, seq: UInt64)] {
        entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public var description: String {
        "{" + sorted.map { "\($0.site.hex.prefix(8)):\($0.seq)" }.joined(separator: ", ") + "}"
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: UInt64].self)
        var e: [SiteID: UInt64] = [:]
        for (k, v) in raw {
            guard let s = SiteID(hex: k) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "version vector key '\(k)' is not a 32-hex-digit site id"))
            }
            e[s] = v
        }
        self.init(e)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(Dictionary(uniqueKeysWithValues: entries.map { ($0.key.hex, $0.value) }))
    }
}
