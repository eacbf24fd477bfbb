/// Reads rows inside another operation of the same replica (a filter deciding which changes
/// a device may see, say), without opening a second access to the file.
public struct RowReader {
    let engine: EngineState

    /// The stored row, live or deleted; nil if never seen.
    public func row(_ table: String, key: String) throws(ReplicaError) -> Row? {
        guard let plan = engine.planByName[table] else { return nil }
        return Row(plan: plan, key: key, state: try plan.load(key))
    }
}

extension Replica {
    /// Runs `body` with a reader of this replica's rows, in one read transaction.
    public func read<T>(_ body: (RowReader) throws -> T) throws(ReplicaError) -> T {
        try withRead { _, e in try body(RowReader(engine: e)) }
    }
}
