/// Reads rows inside another operation of the same replica (a filter deciding which changes
/// a device may see, say), without opening a second access to the file.
public struct RowReader {
    let engine: EngineState

    /// The stored row, live or deleted; nil if never seen.
    public func row(_ table: String, key: String) throws(ReplicaError) -> Row? {
        guard let plan = engine.planByName[table] else { return nil }
        return Row(plan: plan, key: key, state: try plan.load(key))
    }

    /// The text in one column of a stored row (live or deleted); nil for no row, no text, or
    /// no such column. Reads only that column when it is the table's scope column.
    public func text(_ table: String, key: String, column: String) throws(ReplicaError) -> String? {
        guard let plan = engine.planByName[table], let i = plan.columnIndex[column] else { return nil }
        if i == plan.scopeColumn { return try plan.storedOwner(key) }
        let state = try plan.load(key)
        return state.exists ? state.values[i].text : nil
    }
}

extension Replica {
    /// Runs `body` with a reader of this replica's rows, in one read transaction.
    public func read<T>(_ body: (RowReader) throws -> T) throws(ReplicaError) -> T {
        try withRead { _, e in try body(RowReader(engine: e)) }
    }
}
