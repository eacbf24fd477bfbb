/// What a replica stores and how each part merges. The replica engine knows nothing of tickets
/// or money: the domain declares its tables here and the engine enforces the merge rules.
///
/// A schema only grows: a later version may append tables and append columns to a table, never
/// rename, reorder or drop them, so older replicas keep merging with newer ones.
public struct Schema: Sendable, Hashable, Codable {
    /// Increases whenever tables or columns are appended.
    public var version: Int
    public var tables: [TableSchema]

    public init(version: Int, tables: [TableSchema]) throws(SchemaError) {
        self.version = version
        self.tables = tables
        try validate()
    }

    public func table(named name: String) -> TableSchema? { tables.first { $0.name == name } }

    public func validate() throws(SchemaError) {
        var seen = Set<String>()
        for t in tables {
            try Self.checkName(t.name, what: "table")
            guard seen.insert(t.name).inserted else { throw SchemaError("the table '\(t.name)' is declared twice") }
            try t.validate()
        }
    }

    /// True when `self` keeps every table and column of `older`, in the same places, with the same
    /// merge rules: the only change a schema may make to the data. Who may write a part
    /// (`Writer`) is not data: a schema may declare it later, and the stored one is then
    /// upgraded in place.
    public func extends(_ older: Schema) -> Bool {
        guard version >= older.version, tables.count >= older.tables.count else { return false }
        for (new, old) in zip(tables, older.tables) {
            guard new.name == old.name, new.key == old.key, new.kind == old.kind, new.deletable == old.deletable,
                  new.columns.count >= old.columns.count,
                  zip(new.columns, old.columns).allSatisfy({ $0.holdsTheSameData(as: $1) })
            else { return false }
        }
        return true
    }

    static func checkName(_ name: String, what: String) throws(SchemaError) {
        let ok = !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            && !("0"..."9").contains(name.unicodeScalars.first!)  // safe: checked non-empty above
        guard ok else { throw SchemaError("the \(what) name '\(name)' must be lowercase letters, digits and _, starting with a letter") }
        guard !name.hasPrefix("tally_") else { throw SchemaError("the \(what) name '\(name)' is reserved: names starting with tally_ are the engine's") }
    }
}

/// How a table's rows merge.
public enum TableKind: String, Sendable, Hashable, Codable {
    /// Insert-only immutable rows (events: scans, handovers, cash). The same key with the same
    /// content is a no-op; the same key with other content is an integrity violation.
    case ledger
    /// Rows whose columns change, each column merging by its own rule.
    case record
}

public enum ColumnType: String, Sendable, Hashable, Codable {
    case text, integer, blob
}

/// How a column of a `record` table merges.
public enum MergeRule: Sendable, Hashable {
    /// Last writer wins, by (hlc, site): descriptive fields only, never money.
    case register
    /// A monotonic state in a declared partial order, merged by its join.
    case lattice(PartialOrder)
}

public struct ColumnSchema: Sendable, Hashable, Codable {
    public var name: String
    public var type: ColumnType
    public var merge: MergeRule
    /// Who may set this column (`Writer`): anyone unless declared.
    public var writer: Writer

    public init(_ name: String, _ type: ColumnType, _ merge: MergeRule = .register, writer: Writer = .anyone) {
        self.name = name
        self.type = type
        self.merge = merge
        self.writer = writer
    }

    public var order: PartialOrder? { if case .lattice(let o) = merge { o } else { nil } }

    /// Same name, type and merge rule: what `Schema.extends` keeps fixed.
    func holdsTheSameData(as other: ColumnSchema) -> Bool { name == other.name && type == other.type && merge == other.merge }

    private enum CodingKeys: String, CodingKey { case name, type, merge, order, writer }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decode(ColumnType.self, forKey: .type)
        switch try c.decodeIfPresent(String.self, forKey: .merge) ?? "register" {
        case "register": merge = .register
        case "lattice": merge = .lattice(try c.decode(PartialOrder.self, forKey: .order))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .merge, in: c, debugDescription: "unknown merge rule '\(other)'; use register or lattice")
        }
        writer = try Writer.decode(from: c, forKey: .writer)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(type, forKey: .type)
        switch merge {
        case .register: try c.encode("register", forKey: .merge)
        case .lattice(let o):
            try c.encode("lattice", forKey: .merge)
            try c.encode(o, forKey: .order)
        }
        // Left out when anyone writes it: the schema's JSON stays what older devices know.
        if writer != .anyone { try c.encode(writer, forKey: .writer) }
    }
}

public struct TableSchema: Sendable, Hashable, Codable {
    public var name: String
    /// Name of the text primary-key column.
    public var key: String
    public var kind: TableKind
    /// Whether rows may be deleted (and re-created); ledger tables never.
    public var deletable: Bool
    /// Who may create and delete rows (`Writer`); each column says who may set it.
    public var writer: Writer
    public var columns: [ColumnSchema]

    public init(_ name: String, key: String = "id", kind: TableKind, deletable: Bool = false, writer: Writer = .anyone,
                columns: [ColumnSchema]) {
        self.name = name
        self.key = key
        self.kind = kind
        self.deletable = deletable
        self.writer = writer
        self.columns = columns
    }

    private enum CodingKeys: String, CodingKey { case name, key, kind, deletable, writer, columns }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        key = try c.decode(String.self, forKey: .key)
        kind = try c.decode(TableKind.self, forKey: .kind)
        deletable = try c.decode(Bool.self, forKey: .deletable)
        writer = try Writer.decode(from: c, forKey: .writer)
        columns = try c.decode([ColumnSchema].self, forKey: .columns)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(key, forKey: .key)
        try c.encode(kind, forKey: .kind)
        try c.encode(deletable, forKey: .deletable)
        if writer != .anyone { try c.encode(writer, forKey: .writer) }
        try c.encode(columns, forKey: .columns)
    }

    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    func validate() throws(SchemaError) {
        try Schema.checkName(key, what: "key column")
        var seen: Set<String> = [key]
        for col in columns {
            try Schema.checkName(col.name, what: "column")
            guard seen.insert(col.name).inserted else { throw SchemaError("the column '\(name).\(col.name)' is declared twice") }
            if case .lattice = col.merge {
                if kind == .ledger { throw SchemaError("'\(name).\(col.name)': ledger rows never change, so a lattice column makes no sense there") }
                if col.type != .text { throw SchemaError("'\(name).\(col.name)': lattice columns hold text values") }
            }
        }
        if kind == .ledger && deletable { throw SchemaError("'\(name)' is a ledger: its rows are never deleted; record a compensating event instead") }
        if columns.count > 1000 { throw SchemaError("'\(name)' has more than 1000 columns") }
    }
}

/// A schema that cannot be used, with what to change.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
