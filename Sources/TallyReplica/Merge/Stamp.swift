/// The clock of one column's current value: who wrote it and when. The site is the replica's
/// local index of the writer's site id (compact on disk); comparisons go through the site id
/// itself so every replica breaks ties the same way.
struct Stamp: Equatable {
    var hlc: UInt64
    var site: Int

    static let none = Stamp(hlc: 0, site: 0)
    /// On a lattice column: the value is in conflict; the full set is in `tally_conflicts`.
    static let latticeConflict = Stamp(hlc: 1, site: 0)

    /// Encodes one stamp per column, 12 bytes each (hlc, then site index; big-endian).
    static func encode(_ stamps: [Stamp]) -> [UInt8] {
        var w = ByteWriter(capacity: stamps.count * 12)
        for s in stamps {
            w.u64(s.hlc)
            w.u32(UInt32(truncatingIfNeeded: s.site))
        }
        return w.bytes
    }

    /// Decodes `count` stamps; entries missing from an older, shorter blob are `.none`.
    static func decode(_ bytes: [UInt8], count: Int) -> [Stamp] {
        var out = [Stamp](repeating: .none, count: count)
        var i = 0
        var o = 0
        while i < count && o + 12 <= bytes.count {
            var h: UInt64 = 0
            for k in 0..<8 { h = h << 8 | UInt64(bytes[o + k]) }
            var s: UInt32 = 0
            for k in 8..<12 { s = s << 8 | UInt32(bytes[o + k]) }
            out[i] = Stamp(hlc: h, site: Int(s))
            i += 1
            o += 12
        }
        return out
    }
}
