import TallyReplica

/// The tables a van, a service window and the depot replicate: customers, tickets, their lines
/// and cartons, and the event ledger every operation appends to. Later versions only append
/// tables and columns, so an older replica opens and upgrades in place.
///
/// Every row a van may see carries its `route`: the depot's scope policy serves and accepts a
/// van's rows by that column.
public enum RouteSchema {
    /// Ticket status: planned < loaded < attempted < delivered | refused. `delivered` and
    /// `refused` are incomparable: two devices that disagree produce a conflict for a person.
    public static let ticketStatus: PartialOrder = {
        do {
            return try PartialOrder(
                values: ["planned", "loaded", "attempted", "delivered", "refused"],
                covers: [("planned", "loaded"), ("loaded", "attempted"), ("attempted", "delivered"), ("attempted", "refused")])
        } catch {
            fatalError("ticket status order: \(error)")  // safe: a constant, checked by every test run
        }
    }()

    public static let current: Schema = {
        do {
            return try Schema(version: 3, tables: [
                TableSchema("customers", key: "code", kind: .record, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("name", .text),
                    ColumnSchema("address", .text),
                    ColumnSchema("phone", .text),
                ]),
                TableSchema("tickets", key: "ticket", kind: .record, columns: [
                    ColumnSchema("date", .text),
                    ColumnSchema("route", .text),
                    ColumnSchema("stop", .integer),
                    ColumnSchema("customer", .text),
                    ColumnSchema("payment", .text),
                    ColumnSchema("amount_due", .integer),
                    ColumnSchema("status", .text, .lattice(ticketStatus)),
                    ColumnSchema("note", .text),
                    ColumnSchema("promised_by", .text),
                    ColumnSchema("cartons", .integer),
                ]),
                TableSchema("events", key: "id", kind: .ledger, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("ticket", .text),
                    ColumnSchema("kind", .text),
                    ColumnSchema("amount", .integer),
                    ColumnSchema("device", .text),
                    ColumnSchema("at", .text),
                    ColumnSchema("ref", .text),
                    // Version 3: what route operations record (see `EventKind`).
                    ColumnSchema("day", .text),
                    ColumnSchema("product", .text),
                    ColumnSchema("qty", .integer),
                    ColumnSchema("due", .integer),
                    ColumnSchema("reason", .text),
                    ColumnSchema("note", .text),
                    ColumnSchema("detail", .text),
                    ColumnSchema("hash", .text),
                ]),
                // One row per ticket line, keyed "TICKET/LINE". Deletable: a corrected manifest
                // may drop a line of a ticket no device has touched.
                TableSchema("ticket_lines", key: "id", kind: .record, deletable: true, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("ticket", .text),
                    ColumnSchema("line_no", .integer),
                    ColumnSchema("box", .integer),
                    ColumnSchema("product_code", .text),
                    ColumnSchema("product_name", .text),
                    ColumnSchema("quantity", .integer),
                    ColumnSchema("unit_price", .integer),
                ]),
                // Every carton's printed code, and the ticket it belongs to: what a scan checks.
                TableSchema("cartons", key: "code", kind: .record, deletable: true, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("ticket", .text),
                    ColumnSchema("product_code", .text),
                ]),
            ])
        } catch {
            fatalError("route schema: \(error)")  // safe: a constant, checked by every test run
        }
    }()
}
