import TallyReplica

extension EventChain {
    /// The head of `device`'s chain as `replica` holds it ("<number> <hash>"), nil when it holds
    /// no signed entry of it: where a device that took a new identity goes on signing, so that
    /// its chain at the depot stays one unbroken line.
    public static func currentHead(of device: String, in replica: Replica) throws -> String? {
        let names = SignedEvent.columns + ["sig"]
        var found: Row?
        try replica.select("SELECT id, \(names.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table) "
                           + "WHERE device = ?1 AND chain IS NOT NULL AND tally_cl % 2 = 1 ORDER BY chain DESC, id DESC LIMIT 1",
                           [.text(device)]) { v in
            found = Row(table: table, key: v[0].text ?? "", values: names.indices.map { ColumnValue(names[$0], v[$0 + 1]) },
                        isLive: true, causalLength: 1)
        }
        guard let row = found, let n = row["chain"].integer else { return nil }
        return "\(n) \(SignedEvent.hash(SignedEvent.bytes(of: row)))"
    }

    /// Sets the chain head the next sealed entry follows (`currentHead(of:in:)`), in the transaction
    /// that seals it.
    public static func resume(_ tx: WriteTransaction, after head: String) throws {
        try tx.setSetting(Self.head, head)
    }

    /// The setting that holds the chain head in a device's replica (not carried into a new
    /// identity's file: `currentHead(of:in:)` says where it goes on).
    public static let headSetting = head

    /// The columns `seal` fills in: a replayed entry drops them to be sealed again.
    public static let sealColumns: Set<String> = ["chain", "prev", "sig"]
}
