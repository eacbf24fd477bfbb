import ArgumentParser
import TallyReplica
import TallyRoutes

/// A low-level write for depot staff and tests: one row, columns given as name=value.
struct ReplicaWrite: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Write one row of a replica directly (column=value ...).",
        discussion: """
            Inserts a ledger entry, or creates or updates a record. Values are parsed by the \
            column's type: integers as whole numbers, text as given; `column=` sets NULL. \
            Everyday work uses the van and window commands; this is for staff and scripts.
            Example: tally replica write van.sqlite tickets T0001 status=delivered note=签收
            """)

    @Argument(help: "Path of the replica file.")
    var path: String
    @Argument(help: "The table.")
    var table: String
    @Argument(help: "The row's key.")
    var key: String
    @Argument(help: "column=value pairs.")
    var assignments: [String] = []
    @Flag(help: "Delete the row (tables that allow deletes).")
    var delete = false

    func execute() throws {
        let r = try Replica.open(at: path, options: .cli())
        guard let t = r.schema.table(named: table) else {
            throw ValidationError("there is no table '\(table)'; tables: \(r.schema.tables.map(\.name).joined(separator: ", "))")
        }
        var values: [String: Value] = [:]
        for a in assignments {
            guard let eq = a.firstIndex(of: "=") else { throw ValidationError("'\(a)' is not column=value") }
            let name = String(a[..<eq]), raw = String(a[a.index(after: eq)...])
            guard let col = t.columns.first(where: { $0.name == name }) else {
                throw ValidationError("\(table) has no column '\(name)'; columns: \(t.columns.map(\.name).joined(separator: ", "))")
            }
            if raw.isEmpty { values[name] = .null; continue }
            switch col.type {
            case .integer:
                guard let v = Int64(raw) else { throw ValidationError("\(table).\(name) takes a whole number, not '\(raw)'") }
                values[name] = .integer(v)
            case .text: values[name] = .text(raw)
            case .blob: values[name] = .blob(Array(raw.utf8))
            }
        }
        // On a device with a signing key a ledger entry is signed and chained like any other.
        let signer = table == EventChain.table ? try DeviceKey.stored(in: r) : nil
        let changes = try r.write { tx in
            if delete {
                try tx.delete(table, key: key)
            } else if let signer, try tx.row(table, key: key) == nil {
                try EventChain.insert(tx, id: key, values, key: signer)
            } else {
                try tx.upsert(table, key: key, values)
            }
            return tx.changes
        }
        Console.out(changes.isEmpty ? "nothing changed: \(table) \(key) already holds exactly that" : "recorded \(changes.count) change\(changes.count == 1 ? "" : "s") (seq \(changes.map { String($0.seq) }.joined(separator: ", ")))")
    }
}
