import ArgumentParser
import Foundation
import TallyDepot
import TallyReconcile
import TallyReplica
import TallyRoutes
import TallySync

/// Where settlement happens: on the depot's data folder (`--data`), or at a depot over HTTP with
/// an accountant's credential (`--depot URL --credential TOKEN`).
struct SettlementOptions: ParsableArguments {
    @Option(help: "The depot's data folder (on the depot itself).")
    var data: String?
    @Option(help: "The depot's URL, from an accountant's device (with --credential-file or TALLY_CREDENTIAL).")
    var depot: String?
    @OptionGroup var credential: CredentialInput
    @OptionGroup var trust: TrustOptions

    func validate() throws {
        guard (data == nil) != (depot == nil) else {
            throw ValidationError("give either --data DIR (on the depot) or --depot URL with an accountant's credential (--credential-file FILE)")
        }
        if depot != nil && !credential.isGiven {
            throw ValidationError("--depot needs an accountant's credential: --credential-file FILE, --credential-file -, or TALLY_CREDENTIAL")
        }
    }

    var folder: DepotFolder { DepotFolder(data ?? ".") }

    /// The remote depot, when settling over HTTP.
    func remote() throws -> SettlementClient? {
        guard let depot else { return nil }
        return try SettlementClient(url: try depotURL(depot), credential: try credential.required(for: "--depot"), trust: try trust.trust())
    }

    func store() throws -> SettlementStore {
        guard data != nil else { throw ValidationError("this runs on the depot itself: give --data DIR") }
        guard FileManager.default.fileExists(atPath: folder.replicaPath) else { throw DepotError.notADepot(folder.path) }
        return try SettlementStore(path: (folder.path as NSString).appendingPathComponent("settlement.sqlite"), clock: SystemWallClock())
    }

    func reconciler() throws -> Reconciler {
        let replica = try folder.replica(schema: RouteSchema.current, options: .cli())
        let registry = try folder.registry(clock: SystemWallClock())
        let devices = try registry.settlementDevices()
        let r = Reconciler(replica: replica, store: try store(), devices: devices)
        try r.prepareIndexes()
        return r
    }
}

/// Runs a settlement command body, turning sync errors into their exit statuses.
func settling(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as SyncError {
        Console.err("tally: \(e.description)")
        switch e {
        case .unreachable, .depotCannotStore: throw ExitCode(75)
        case .credentialRefused: throw ExitCode(77)
        default: throw ExitCode(1)
        }
    } catch {
        throw fail(error)
    }
}

struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Settle each van's day: cash due, collected, deposited, and every difference explained.",
        subcommands: [ReconcileDay.self, ReconcileImportBank.self, ReconcileBankFormat.self, ReconcileBankAccount.self, ReconcileReceivables.self],
        defaultSubcommand: ReconcileDay.self)
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable { case table, csv, json, html }

struct ReconcileDay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "day", abstract: "The day's settlements (the default: `tally reconcile --data DIR --date D`).",
        discussion: "Status: pending (not closed or not synced), balanced, over, short (deposited against collected), approved. The JSON is a stable contract: docs/RECONCILE.md. From an accountant's device: --depot URL --credential TOKEN (table, csv, json).")
    @OptionGroup var settlement: SettlementOptions
    @Option(help: "The business day, like 2026-11-28.")
    var date: String
    @Option(help: "Only this route.")
    var route: String?
    @Option(help: "table, csv (opens in Excel), json, or html (one self-contained file with each delivery's proof and signature).")
    var format: ReportFormat = .table
    @Option(help: "Write to this file instead of the terminal.")
    var out: String?

    func run() async throws {
        try await settling {
            let text: String
            let rec: Reconciliation
            if let remote = try settlement.remote() {
                guard format != .html else { throw ValidationError("--format html is made on the depot itself (it embeds the signature images): use --data there") }
                rec = try await remote.reconcile(date: date, route: route)
                text = format == .json ? try ReconcileText.json(rec) : format == .csv ? ReconcileText.csv(rec) : ReconcileText.table(rec)
            } else {
                let reconciler = try settlement.reconciler()
                rec = try reconciler.reconcile(date: date, route: route)
                switch format {
                case .html: text = try HTMLReport.render(rec, replica: reconciler.replica, generatedAt: IsoTime.format(SystemWallClock().nowMilliseconds()))
                case .json: text = try ReconcileText.json(rec)
                case .csv: text = ReconcileText.csv(rec)
                case .table: text = ReconcileText.table(rec)
                }
            }
            if let out {
                let bytes = (format == .csv ? CSVText.bom : []) + Array(text.utf8)
                guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else {
                    throw ValidationError("cannot write \(out); check the folder exists and is writable")
                }
                Console.out("wrote \(out): \(rec.settlements.count) settlement\(rec.settlements.count == 1 ? "" : "s") for \(date)")
            } else if format == .csv {
                FileHandle.standardOutput.write(Data(CSVText.bom + Array(text.utf8)))
            } else {
                Console.out(text)
            }
        }
    }
}

struct ReconcileImportBank: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-bank", abstract: "Import the bank's statement as the bank exports it, all or nothing.",
        discussion: """
            CSV in UTF-8 or GB18030/GBK. Without --format: the header date,account,amount,reference. With --format NAME \
            (saved with `tally reconcile bank-format`): the bank's own columns, found below its title lines; thousands \
            separators, / dates and the footer's totals are read; lines with nothing credited are passed over. Every line \
            must be paid into the designated account when one is set (`tally reconcile bank-account`). Every bad line is \
            reported with its line number and nothing is imported. Importing the same statement twice adds nothing. \
            Deposits are matched by reference, then by amount and date.
            """)
    @Argument(help: "The statement CSV.")
    var file: String
    @Option(help: "The bank's export format, saved with `tally reconcile bank-format NAME ...`.")
    var format: String?
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Imported: Encodable {
        var lines: Int
        var added: Int
        var encoding: String
        var debits: Int
        var footer: Int
    }

    func execute() throws {
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file); check the path") }
        let store = try settlement.store()
        var chosen = BankFormat.plain
        if let format {
            guard let f = try store.bankFormat(named: format) else {
                let known = try store.bankFormats().map(\.name).joined(separator: ", ")
                throw ValidationError("no bank format '\(format)' is saved (saved: \(known)); save it with "
                    + "`tally reconcile bank-format \(format) --date COLUMN --amount COLUMN --reference COLUMN`")
            }
            chosen = f
        }
        let read = try BankStatement.read(Array(bytes), format: chosen, designated: try store.designatedAccount())
        let added = try store.importBank(read.lines, file: (file as NSString).lastPathComponent)
        let r = Imported(lines: read.lines.count, added: added, encoding: read.encoding.rawValue, debits: read.debits, footer: read.footer)
        if json { try Console.json(r); return }
        var passed: [String] = []
        if read.debits > 0 { passed.append("\(read.debits) line\(read.debits == 1 ? "" : "s") with nothing credited") }
        if read.footer > 0 { passed.append("\(read.footer) footer line\(read.footer == 1 ? "" : "s")") }
        Console.out("imported \(file) (\(read.encoding.rawValue)): \(r.lines) bank line\(r.lines == 1 ? "" : "s"), "
            + (added == 0 ? "nothing new (already imported)" : "\(added) new")
            + (passed.isEmpty ? "" : "; passed over " + passed.joined(separator: " and ")))
    }
}

struct SettleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle", abstract: "Approve or reopen a van's settled day; set the tolerance.",
        subcommands: [SettleApprove.self, SettleReopen.self, SettleTolerance.self])
}

struct SettleApprove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a van's day; it is locked, and entries arriving later go to review.",
        discussion: "Refused while the van has not closed the day (unless --unclosed with a note). A variance above the tolerance needs --note. From an accountant's device: --depot URL --credential TOKEN.")
    @Argument(help: "The device, e.g. van-07.")
    var device: String
    @Option(help: "The business day.")
    var date: String
    @Option(help: "Why it is approved (required above the tolerance).")
    var note: String?
    @Option(help: "Who approves, on the depot (default: $USER; over HTTP the accountant's device name).")
    var by: String?
    @Flag(help: "Approve a day the van has not closed (needs --note); what it syncs later goes to review as late_event.")
    var unclosed = false
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await settling {
            let a: Approval
            if let remote = try settlement.remote() {
                a = try await remote.approve(device: device, date: date, note: note, unclosed: unclosed)
            } else {
                let who = by ?? ProcessInfo.processInfo.environment["USER"] ?? "accountant"
                a = try settlement.reconciler().approve(device: device, date: date, by: who, note: note, unclosed: unclosed)
            }
            if json { try Console.json(a); return }
            Console.out("\(device) \(date) approved by \(a.by) at \(HumanTime.local(a.at)), variance \(a.variance), "
                + "\(a.entries) entries locked; its figures and exceptions are frozen")
        }
    }
}

struct SettleReopen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reopen", abstract: "Reopen an approved day, with the reason.")
    @Argument(help: "The device.")
    var device: String
    @Option(help: "The business day.")
    var date: String
    @Option(help: "Why it is reopened.")
    var note: String
    @Option(help: "Who reopens, on the depot (default: $USER).")
    var by: String?
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await settling {
            if let remote = try settlement.remote() {
                try await remote.reopen(device: device, date: date, note: note)
            } else {
                try settlement.reconciler().reopen(device: device, date: date, by: by ?? ProcessInfo.processInfo.environment["USER"] ?? "accountant", note: note)
            }
            if json { try Console.json(["device": device, "date": date, "state": "reopened"]); return }
            Console.out("\(device) \(date) reopened")
        }
    }
}

struct SettleTolerance: TallyCommand {
    static let configuration = CommandConfiguration(commandName: "tolerance", abstract: "Show or set the variance an accountant may approve without a note.")
    @Argument(help: "The new tolerance, like 5.00.", transform: moneyArgument)
    var amount: Money?
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let store = try settlement.store()
        if let amount {
            guard amount >= .zero else { throw ValidationError("the tolerance cannot be negative") }
            try store.setTolerance(amount)
        }
        if json { try Console.json(["tolerance": try store.tolerance()]); return }
        Console.out("tolerance \(try store.tolerance())")
    }
}

struct ReconcileBankFormat: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "bank-format", abstract: "Save how a bank's statement export reads (its column names), or list the saved ones.",
        discussion: "Example: tally reconcile bank-format ICBC --date 交易日期 --amount 贷方发生额 --reference 摘要 --data depot")
    @Argument(help: "The format's name, like ICBC; none: list the saved formats.")
    var name: String?
    @Option(help: "The column holding the date.")
    var date: String?
    @Option(help: "The column holding the amount credited.")
    var amount: String?
    @Option(help: "The column holding the reference (摘要, 备注).")
    var reference: String?
    @Option(help: "The column holding the account paid into, when the export lists several.")
    var account: String?
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let store = try settlement.store()
        guard let name else {
            let all = try store.bankFormats()
            if json { try Console.json(all); return }
            var t = TextTable(["format", "date", "amount", "reference", "account"])
            for f in all { t.add([f.name, f.date, f.amount, f.reference, f.account ?? "(the designated account)"]) }
            Console.out(t.render())
            return
        }
        guard let date, let amount, let reference else {
            throw ValidationError("give the columns: --date COLUMN --amount COLUMN --reference COLUMN (and --account COLUMN if the export has one)")
        }
        guard name != BankFormat.plain.name else { throw ValidationError("'plain' is Tally's own format; give yours another name") }
        let f = BankFormat(name: name, date: date, amount: amount, reference: reference, account: account)
        try store.saveBankFormat(f)
        if json { try Console.json(f); return }
        Console.out("bank format \(name) saved: date \(date), amount \(amount), reference \(reference)"
            + (account.map { ", account \($0)" } ?? "; every line is taken as paid into the designated account"))
    }
}

struct ReconcileBankAccount: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "bank-account", abstract: "Show or set the depot's designated account (指定帐号): statement lines paid elsewhere are refused.")
    @Argument(help: "The account number; none: show it.")
    var account: String?
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        let store = try settlement.store()
        if let account {
            let a = account.trimmingCharacters(in: .whitespaces)
            guard !a.isEmpty, a.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-") }) else {
                throw ValidationError("'\(account)' is not an account number (digits, maybe with -)")
            }
            try store.setDesignatedAccount(a)
        }
        let current = try store.designatedAccount()
        if json { try Console.json(["account": current]); return }
        Console.out(current.map { "designated account \($0)" }
            ?? "no designated account set; set it with `tally reconcile bank-account NUMBER --data DIR`")
    }
}

struct ReconcileReceivables: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "receivables", abstract: "What shops owe, ticket by ticket, across days: opened at a handover, paid off later.")
    @Option(help: "As it stood at the end of this business day (default: now).")
    var date: String?
    @Flag(help: "Include balances already paid off.")
    var all = false
    @OptionGroup var settlement: SettlementOptions
    @Flag(help: "Print the result as JSON.")
    var json = false

    func execute() throws {
        if let date, !IsoTime.isDate(date) { throw ValidationError("'\(date)' is not a date like 2026-11-28") }
        guard settlement.data != nil else { throw ValidationError("this runs on the depot itself: give --data DIR") }
        let replica = try settlement.folder.replica(schema: RouteSchema.current, options: .cli())
        let list = try ReceivablesReport.balances(replica, asOf: date, includeSettled: all)
        if json { try Console.json(list); return }
        guard !list.isEmpty else { Console.out("no shop owes anything" + (date.map { " at the end of \($0)" } ?? "")); return }
        var t = TextTable(["ticket", "day", "shop", "code", "opened", "paid", "owed", "why"], rightAligned: [4, 5, 6])
        for b in list { t.add([b.ticket, b.day, b.customerName, b.customer, b.opened.description, b.paid.description, b.balance.description, b.why]) }
        let total = list.reduce(Money.zero) { $0 + $1.balance }
        let shops = Set(list.map(\.customer)).count
        Console.out(t.render() + "\nowed in all \(total) by \(shops) shop\(shops == 1 ? "" : "s")")
    }
}
