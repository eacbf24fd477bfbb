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

    /// A column only the depot writes.
    static func depot(_ name: String, _ type: ColumnType) -> ColumnSchema { ColumnSchema(name, type, writer: .depot) }

    public static let current: Schema = {
        do {
            return try Schema(version: 5, tables: [
                // What the order system decides (design invariant 6) is the depot's to write
                // (`Writer.depot`): which rows exist, prices, quantities, products, customer and
                // carton codes, payment kind, promised times and routes. A device writes what
                // happens on the road: statuses, notes, its ledger entries.
                TableSchema("customers", key: "code", kind: .record, writer: .depot, columns: [
                    depot("route", .text),
                    ColumnSchema("name", .text),
                    ColumnSchema("address", .text),
                    ColumnSchema("phone", .text),
                ]),
                TableSchema("tickets", key: "ticket", kind: .record, writer: .depot, columns: [
                    depot("date", .text),
                    depot("route", .text),
                    depot("stop", .integer),
                    depot("customer", .text),
                    depot("payment", .text),
                    depot("amount_due", .integer),
                    ColumnSchema("status", .text, .lattice(ticketStatus)),
                    ColumnSchema("note", .text),
                    depot("promised_by", .text),
                    depot("cartons", .integer),
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
                    // Version 4: a service window's entries (fees, deposits, day close) carry
                    // the window's kind here instead of a route.
                    ColumnSchema("window", .text),
                    // Version 5: each device's entries form a signed hash chain
                    // (`Protocol/SIGNING.md`): its number in the chain, the SHA-256 of the
                    // previous entry's signed bytes, and the Ed25519 signature of its own.
                    ColumnSchema("chain", .integer),
                    ColumnSchema("prev", .text),
                    ColumnSchema("sig", .text),
                ]),
                // One row per ticket line, keyed "TICKET/LINE". Deletable: a corrected manifest
                // may drop a line of a ticket no device has touched.
                TableSchema("ticket_lines", key: "id", kind: .record, deletable: true, writer: .depot, columns: [
                    depot("route", .text),
                    depot("ticket", .text),
                    depot("line_no", .integer),
                    depot("box", .integer),
                    depot("product_code", .text),
                    depot("product_name", .text),
                    depot("quantity", .integer),
                    depot("unit_price", .integer),
                ]),
                // Every carton's printed code, and the ticket it belongs to: what a scan checks.
                TableSchema("cartons", key: "code", kind: .record, deletable: true, writer: .depot, columns: [
                    depot("route", .text),
                    depot("ticket", .text),
                    depot("product_code", .text),
                ]),
                // Version 4: service windows and complaints (`Protocol/SERVICE.md`).
                // A visitor's request at a service window, keyed "DAY/QUEUE". Written only by
                // the window that took the number (its first-contact owner); every window reads it.
                TableSchema("requests", key: "id", kind: .record, columns: [
                    ColumnSchema("window", .text),
                    ColumnSchema("device", .text),
                    ColumnSchema("day", .text),
                    ColumnSchema("queue", .text),
                    ColumnSchema("service", .text),
                    ColumnSchema("taken_at", .text),
                    ColumnSchema("mode", .text),
                    ColumnSchema("departments", .text),
                    ColumnSchema("visitor", .text),
                    ColumnSchema("phone", .text),
                    ColumnSchema("subject", .text),
                    ColumnSchema("opened_at", .text),
                    ColumnSchema("due_by", .text),
                ]),
                // A complaint, from a shop about a delivery (recorded on a van: `route`) or from
                // a visitor about a window (recorded at a window: `window`).
                TableSchema("complaints", key: "id", kind: .record, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("window", .text),
                    ColumnSchema("device", .text),
                    ColumnSchema("day", .text),
                    ColumnSchema("opened_at", .text),
                    ColumnSchema("about_kind", .text),
                    ColumnSchema("about", .text),
                    ColumnSchema("by_name", .text),
                    ColumnSchema("phone", .text),
                    ColumnSchema("text", .text),
                    ColumnSchema("wants", .text),
                    ColumnSchema("major", .integer),
                    ColumnSchema("recorded_by", .text),
                ]),
                // The steps taken on requests and complaints: an append-only ledger, one entry
                // per step per device, keyed "DEVICE/SUBJECT/ACTION[#n]". A request's or a
                // complaint's state is the join of its steps (`ServiceSteps`).
                TableSchema("service_steps", key: "id", kind: .ledger, columns: [
                    ColumnSchema("route", .text),
                    ColumnSchema("window", .text),
                    ColumnSchema("subject", .text),
                    ColumnSchema("action", .text),
                    ColumnSchema("department", .text),
                    ColumnSchema("person", .text),
                    ColumnSchema("device", .text),
                    ColumnSchema("at", .text),
                    ColumnSchema("day", .text),
                    ColumnSchema("value", .text),
                    ColumnSchema("note", .text),
                ]),
                // The working-day calendar the depot keeps: dates that differ from Monday to
                // Friday (`holiday` on a weekday, `workday` on a weekend). Reference data.
                TableSchema("calendar", key: "date", kind: .record, deletable: true, writer: .depot, columns: [
                    depot("kind", .text),
                    depot("note", .text),
                ]),
            ])
        } catch {
            fatalError("route schema: \(error)")  // safe: a constant, checked by every test run
        }
    }()
}
