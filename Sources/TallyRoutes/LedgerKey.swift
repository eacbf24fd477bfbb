import TallyReplica

/// Keys of entries only one device writes: `BASE`, then `BASE#2`, `BASE#3`… when the base is
/// taken (a delivery made again after a void, a second fee of the same kind). The device's name
/// leads every base, so no two devices ever write the same key.
enum LedgerKey {
    static func next(_ tx: WriteTransaction, _ table: String, _ base: String) throws -> String {
        var id = base
        var n = 1
        while try tx.row(table, key: id) != nil {
            n += 1
            id = "\(base)#\(n)"
        }
        return id
    }
}
