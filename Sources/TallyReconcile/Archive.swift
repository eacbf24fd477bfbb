import Foundation
import TallyReplica
import TallyRoutes

/// The rules ask for tickets bound weekly and route summaries monthly. An archive is a folder
/// of CSV and HTML files with `SHA256SUMS`, a manifest of every file's SHA-256 that
/// `verify` checks: a changed, missing or added file is found.
public enum Archive {
    public static let manifestName = "SHA256SUMS"

    /// A period: `2026-W48` (ISO week, Monday to Sunday) or `2026-11` (a month).
    public static func days(of period: String) throws -> [String] {
        let p = Array(period.utf8)
        if p.count == 8, p[4] == UInt8(ascii: "-"), p[5] == UInt8(ascii: "W"), let y = Int(period.prefix(4)), let w = Int(period.suffix(2)), (1...53).contains(w) {
            // ISO week 1 holds January 4th; weeks start on Monday.
            guard let jan4 = IsoTime.parse("\(y)-01-04T00:00:00Z") else { throw ReconcileError("'\(period)' is not a week like 2026-W48") }
            let weekday = Int((jan4 / 86_400_000 + 3) % 7)  // 0 = Monday (1970-01-01 was a Thursday)
            let monday = jan4 - UInt64(weekday) * 86_400_000 + UInt64(w - 1) * 7 * 86_400_000
            return (0..<7).map { String(IsoTime.format(monday + UInt64($0) * 86_400_000, offsetMinutes: 0).prefix(10)) }
        }
        if p.count == 7, p[4] == UInt8(ascii: "-"), IsoTime.isDate(period + "-01") {
            return (1...31).map { period + "-" + ($0 < 10 ? "0" : "") + String($0) }.filter(IsoTime.isDate)
        }
        throw ReconcileError("'\(period)' is not a week like 2026-W48 or a month like 2026-11")
    }

    /// Writes the week's tickets (every ticket with its outcome and proof) or the month's route
    /// summaries, with each day's settlement report, into `folder` (created; must not exist).
    /// Returns the files written.
    public static func write(_ reconciler: Reconciler, period: String, weekly: Bool, to folder: String, generatedAt: String) throws -> [String] {
        let fm = FileManager.default
        guard !fm.fileExists(atPath: folder) else { throw ReconcileError("\(folder) already exists; an archive is written once, into a new folder") }
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var files: [String: [UInt8]] = [:]
        let bom = CSVText.bom
        var summary = [["date", "device", "route", "status", "planned", "delivered", "refused", "open", "expected", "collected", "deposited", "variance", "exceptions"]]
        var tickets = [["date", "route", "ticket", "customer", "payment", "amount_due", "outcome", "value", "cash", "device", "at", "signer", "handover_sha256", "signature_sha256"]]
        let matching = try DepositMatching(deposits: reconciler.allDeposits(), bank: reconciler.store.bankLines())
        for day in try days(of: period) {
            let rec = try reconciler.reconcile(date: day, route: nil, matching: matching)
            guard !rec.settlements.isEmpty else { continue }
            for s in rec.settlements {
                summary.append([day, s.device, s.route, s.status.rawValue, String(s.tickets.planned), String(s.tickets.delivered), String(s.tickets.refused),
                                String(s.tickets.open), s.cash.expected.description, s.cash.collected.description, s.cash.deposited.description,
                                s.cash.variance.description, String(s.exceptions.count)])
            }
            if weekly {
                files["settlement-\(day).html"] = Array(try HTMLReport.render(rec, replica: reconciler.replica, generatedAt: generatedAt).utf8)
                var outcome: [String: (String, Handover?, String)] = [:]
                try reconciler.replica.select("""
                    SELECT ticket, kind, detail, hash, reason FROM events WHERE day = ?1 AND kind IN ('deliver', 'refuse') AND tally_cl % 2 = 1
                      AND \(LedgerSQL.notVoided)
                    """, [.text(day)]) { r in
                    let t = r[0].text ?? ""
                    if r[1].text == "deliver" {
                        outcome[t] = ("delivered", Handover.decode(r[2].text), r[3].text ?? "")
                    } else if outcome[t] == nil {
                        outcome[t] = ("refused: \(r[4].text ?? "")", nil, "")
                    }
                }
                try reconciler.replica.select("SELECT ticket, route, customer, payment, amount_due FROM tickets WHERE date = ?1 AND tally_cl % 2 = 1 ORDER BY route, stop",
                                              [.text(day)]) { r in
                    let t = r[0].text ?? ""
                    let o = outcome[t]
                    let h = o?.1
                    tickets.append([day, r[1].text ?? "", t, r[2].text ?? "", r[3].text ?? "", Money(minorUnits: r[4].integer ?? 0).description,
                                    o?.0 ?? "open", h?.value.description ?? "", h?.cash.description ?? "", h?.device ?? "", h?.at ?? "",
                                    h?.signer ?? "", o?.2 ?? "", h?.signature ?? ""])
                }
            }
        }
        files["route-summaries.csv"] = bom + Array(CSVText.encode(summary).utf8)
        if weekly { files["tickets.csv"] = bom + Array(CSVText.encode(tickets).utf8) }
        var manifest = ""
        for name in files.keys.sorted() {
            let bytes = files[name]!  // safe: iterating its keys
            guard fm.createFile(atPath: (folder as NSString).appendingPathComponent(name), contents: Data(bytes)) else {
                throw ReconcileError("cannot write \(name) into \(folder)")
            }
            manifest += "\(BlobHash.sha256Hex(bytes))  \(name)\n"
        }
        fm.createFile(atPath: (folder as NSString).appendingPathComponent(manifestName), contents: Data(manifest.utf8))
        return files.keys.sorted() + [manifestName]
    }

    /// Checks every file against the manifest; returns the problems (none: intact).
    public static func verify(_ folder: String) throws -> [String] {
        let fm = FileManager.default
        guard let text = fm.contents(atPath: (folder as NSString).appendingPathComponent(manifestName)).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw ReconcileError("\(folder) has no \(manifestName); it is not a Tally archive")
        }
        var problems: [String] = []
        var listed = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { problems.append("unreadable manifest line: \(line)"); continue }
            let name = parts[1].trimmingCharacters(in: .whitespaces)
            listed.insert(name)
            guard let data = fm.contents(atPath: (folder as NSString).appendingPathComponent(name)) else {
                problems.append("\(name) is missing")
                continue
            }
            if BlobHash.sha256Hex(Array(data)) != parts[0] { problems.append("\(name) was changed since the archive was made") }
        }
        for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where name != manifestName && !listed.contains(name) {
            problems.append("\(name) was added after the archive was made")
        }
        return problems
    }
}
