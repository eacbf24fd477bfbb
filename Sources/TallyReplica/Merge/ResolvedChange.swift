/// A change checked against the schema, with names turned into indices: what the merge code
/// works on.
struct ResolvedChange {
    var table: Int
    var key: String
    var cl: Int64
    /// (column index, value), sorted by column index.
    var columns: [(Int, Value)]
    var hlc: UInt64
    /// Local index of the writer's site.
    var site: Int
    var seq: UInt64

    var stamp: Stamp { Stamp(hlc: hlc, site: site) }

    /// The log row's `vals` blob.
    func encodedValues() -> [UInt8] {
        var w = ByteWriter(capacity: 16 * columns.count + 8)
        for (i, v) in columns {
            w.varint(UInt64(i))
            w.value(v)
        }
        return w.bytes
    }

    static func decodeValues(_ bytes: [UInt8]) throws(ReplicaError) -> [(Int, Value)] {
        var r = ByteReader(bytes)
        var out: [(Int, Value)] = []
        while !r.atEnd {
            let i = Int(try r.varint())
            out.append((i, try r.value()))
        }
        return out
    }
}
