/// Who may write a part of the state: a column, or a table's rows (creating and deleting them).
///
/// The engine knows no order system, only that some parts are the depot's to decide: a device
/// refuses its own local writes to them (`ReplicaError.ownedByDepot`), and the depot refuses a
/// push that writes them, whatever the device's file says. Changes the depot sends still apply
/// on a device: merging is not writing.
public enum Writer: String, Sendable, Hashable, Codable {
    /// Any replica: the default, and what a schema without the attribute means.
    case anyone
    /// Only the depot's replica.
    case depot

    /// The attribute as a schema's JSON holds it: absent means `anyone`.
    static func decode<K: CodingKey>(from c: KeyedDecodingContainer<K>, forKey key: K) throws -> Writer {
        guard let raw = try c.decodeIfPresent(String.self, forKey: key) else { return .anyone }
        guard let w = Writer(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "unknown writer '\(raw)'; use anyone or depot")
        }
        return w
    }
}

/// The part of a write that only the depot may make.
public enum DepotOwnedPart: Sendable, Hashable, CustomStringConvertible {
    /// Creating the row, bringing it back after a delete, or deleting it.
    case row
    /// Setting this column.
    case column(String)

    public var description: String {
        switch self {
        case .row: "creating or deleting the row"
        case .column(let c): c
        }
    }
}

extension TableSchema {
    /// What in a write of this table only the depot may make, or nil when any replica may.
    ///
    /// `causalLength` is the row's causal length after the write and `stored` before it (0 for
    /// a row never seen): a write that moves it on creates, re-creates or deletes the row,
    /// which only the depot may do to a table it writes the rows of. A column the depot writes
    /// may not be set at all, even to the value it holds. One rule for both places that
    /// enforce it: a device's local writes and the depot's check of a push.
    public func depotOwnedPart(setting columns: some Sequence<String>, causalLength: Int64, stored: Int64) -> DepotOwnedPart? {
        if writer == .depot && causalLength > stored { return .row }
        for name in columns {
            if let i = columnIndex(name), self.columns[i].writer == .depot { return .column(name) }
        }
        return nil
    }

    /// Whether the depot decides anything of this table: its rows or one of its columns.
    public var hasDepotOwnedParts: Bool { writer == .depot || columns.contains { $0.writer == .depot } }
}
