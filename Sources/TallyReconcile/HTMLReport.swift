import Foundation
import TallyReplica
import TallyRoutes

/// The day's settlement as one self-contained HTML file an accountant can open or print: totals,
/// the per-van table, every exception, and each delivery's proof with its signature image
/// embedded. No scripts, no external files.
public enum HTMLReport {
    /// Above this many deliveries the proofs are left out (the file would be too large to open);
    /// the report says so and how to narrow it (`--route`).
    public static let maxProofs = 5_000

    public static func render(_ rec: Reconciliation, replica: Replica, generatedAt: String) throws -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8">
            <title>结算 Settlement \(esc(rec.date))</title>
            <style>
            body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222}
            table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left}
            td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
            .short{color:#b00020;font-weight:bold}.over{color:#8a5a00;font-weight:bold}.balanced,.approved{color:#176b2c}.pending{color:#666}
            .proof{border:1px solid #ccc;padding:.6em 1em;margin:1em 0;page-break-inside:avoid}
            .proof img{max-width:320px;max-height:120px;border:1px solid #eee;background:#fafafa}
            code{font-size:.85em;word-break:break-all}
            @media print{body{margin:0}}
            </style></head><body>
            <h1>结算 Settlement of \(esc(rec.date)) (\(esc(rec.currency)))</h1>
            <p>Generated \(esc(generatedAt)). Amounts in yuan. Variance = deposited − collected.</p>
            <h2>Totals 合计</h2>
            <table><tr><th class="n">expected 应收</th><th class="n">collected 实收</th><th class="n">deposited 存款</th><th class="n">variance 差额</th></tr>
            <tr><td class="n">\(rec.totals.expected)</td><td class="n">\(rec.totals.collected)</td><td class="n">\(rec.totals.deposited)</td><td class="n">\(rec.totals.variance)</td></tr></table>
            <h2>Vans 车辆</h2>
            <table><tr><th>device</th><th>route</th><th>status</th><th class="n">tickets</th><th class="n">delivered</th><th class="n">refused</th><th class="n">open</th>
            <th class="n">expected</th><th class="n">collected</th><th class="n">deposited</th><th class="n">variance</th><th class="n">exceptions</th></tr>

            """
        for s in rec.settlements {
            h += "<tr><td>\(esc(s.device))</td><td>\(esc(s.unit))</td><td class=\"\(s.status.rawValue)\">\(s.status.rawValue)</td>"
                + "<td class=\"n\">\(s.tickets.planned)</td><td class=\"n\">\(s.tickets.delivered)</td><td class=\"n\">\(s.tickets.refused)</td><td class=\"n\">\(s.tickets.open)</td>"
                + "<td class=\"n\">\(s.cash.expected)</td><td class=\"n\">\(s.cash.collected)</td><td class=\"n\">\(s.cash.deposited)</td><td class=\"n\">\(s.cash.variance)</td>"
                + "<td class=\"n\">\(s.exceptions.count)</td></tr>\n"
        }
        h += "</table>\n<h2>Exceptions 异常</h2>\n"
        let all = rec.settlements.flatMap { s in s.exceptions.map { (s, $0) } }
        if all.isEmpty {
            h += "<p>None.</p>\n"
        } else {
            h += "<table><tr><th>device</th><th>kind</th><th>ticket</th><th>entry</th><th>detail</th></tr>\n"
            for (s, x) in all {
                h += "<tr><td>\(esc(s.device))</td><td>\(x.kind.rawValue)</td><td>\(esc(x.ticket ?? ""))</td><td><code>\(esc(x.event ?? ""))</code></td><td>\(esc(x.detail))</td></tr>\n"
            }
            h += "</table>\n"
        }
        for s in rec.settlements where s.approval != nil {
            let a = s.approval!  // safe: checked in the where clause
            h += "<p>\(esc(s.device)) approved by \(esc(a.by)) at \(esc(a.at)), variance \(a.variance)\(a.note.isEmpty ? "" : ": " + esc(a.note)).</p>\n"
        }
        if !rec.unmatchedBankLines.isEmpty {
            h += "<h2>Bank lines no deposit matched 未匹配银行流水</h2>\n<table><tr><th>date</th><th>account</th><th class=\"n\">amount</th><th>reference</th></tr>\n"
            for b in rec.unmatchedBankLines {
                h += "<tr><td>\(esc(b.date))</td><td>\(esc(b.account))</td><td class=\"n\">\(b.amount)</td><td>\(esc(b.reference))</td></tr>\n"
            }
            h += "</table>\n"
        }

        // Proofs of delivery.
        let routes = Set(rec.settlements.map(\.route))
        var proofs: [(String, Handover, String)] = []
        var total = 0
        try replica.select("SELECT id, detail, hash, route FROM events WHERE day = ?1 AND kind = 'deliver' AND tally_cl % 2 = 1 ORDER BY route, ticket",
                           [.text(rec.date)]) { r in
            guard routes.contains(r[3].text ?? "") else { return }
            total += 1
            guard proofs.count < maxProofs, let detail = r[1].text,
                  let handover = Handover.decode(detail) else { return }
            proofs.append((r[0].text ?? "", handover, r[2].text ?? ""))
        }
        h += "<h2>Proofs of delivery 交付凭证 (\(total))</h2>\n"
        if total > proofs.count {
            h += "<p>\(total) deliveries: the first \(proofs.count) are shown. Narrow the report with --route for the rest.</p>\n"
        }
        for (id, p, hash) in proofs {
            h += "<div class=\"proof\"><b>\(esc(p.ticket))</b> · \(esc(p.customerName)) (\(esc(p.customer))) · route \(esc(p.route)) · \(esc(p.device)) · \(esc(p.at))"
                + (p.late ? " · <span class=\"short\">late</span>" : "") + "\n<table><tr><th>product</th><th>name</th><th class=\"n\">ordered</th><th class=\"n\">delivered</th><th class=\"n\">short</th><th class=\"n\">unit price</th></tr>\n"
            for l in p.lines {
                h += "<tr><td>\(esc(l.product))</td><td>\(esc(l.name))</td><td class=\"n\">\(l.ordered)</td><td class=\"n\">\(l.delivered)</td><td class=\"n\">\(l.short)</td><td class=\"n\">\(l.unitPrice)</td></tr>\n"
            }
            h += "</table>value \(p.value) · \(esc(p.payment)) · cash \(p.cash)\(p.partialReason.map { " (part payment: \(esc($0)))" } ?? "") · signed by \(esc(p.signer ?? "—"))<br>\n"
            if let image = try replica.blob(p.signature) {
                h += "<img alt=\"signature of \(esc(p.ticket))\" src=\"data:\(mime(image));base64,\(Data(image).base64EncodedString())\"><br>\n"
            } else {
                h += "<span class=\"short\">signature image not at the depot</span><br>\n"
            }
            h += "<code>entry \(esc(id)) · handover sha256 \(esc(hash)) · signature sha256 \(esc(p.signature))</code></div>\n"
        }
        h += "</body></html>\n"
        return h
    }

    static func mime(_ b: [UInt8]) -> String {
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "image/png" }
        if b.starts(with: [0xFF, 0xD8]) { return "image/jpeg" }
        if b.starts(with: Array("<svg".utf8)) || b.starts(with: Array("<?xml".utf8)) { return "image/svg+xml" }
        return "application/octet-stream"
    }

    /// HTML-escapes text from the books (shop names, notes, reasons).
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
