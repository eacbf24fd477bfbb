/// A stored row as callers see it.
public struct Row: Sendable, Hashable {
    public var table: String
    public var key: String
    /// Declared columns in declaration order.
    public var values: [ColumnValue]
    /// False for a deleted row (a tombstone kept so deletes converge).
    public var isLive: Bool
    /// The row's causal length (odd: live, even: deleted).
    public var causalLength: Int64

    public subscript(column: String) -> Value {
        values.first { $0.column == column }?.value ?? .null
    }

    public init(table: String, key: String, values: [ColumnValue], isLive: Bool, causalLength: Int64) {
        self.table = table
        self.key = key
        self.values = values
        self.isLive = isLive
        self.causalLength = causalLength
    }

    init?(plan: TablePlan, key: String, state: RowState) {
        guard state.exists else { return nil }
        table = plan.schema.name
        self.key = key
        values = zip(plan.schema.columns, state.values).map { ColumnValue($0.name, $1) }
        isLive = state.isLive
        causalLength = state.cl
    }
}
