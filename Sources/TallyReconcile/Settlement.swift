import TallyRoutes

/// One device's business day, settled: the stable JSON contract of `tally reconcile --format json`
/// (docs/RECONCILE.md).
public struct Settlement: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        /// The device has not closed the day (or not synced its close).
        case pending
        /// Deposited equals collected.
        case balanced
        /// More deposited than collected.
        case over
        /// Less deposited than collected.
        case short
        /// An accountant approved the day; it is locked.
        case approved
    }

    public struct Tickets: Sendable, Codable, Equatable {
        public var planned: Int
        public var delivered: Int
        public var refused: Int
        public var open: Int
    }

    public struct Cash: Sendable, Codable, Equatable {
        /// Cash tickets delivered, at the import's prices of the goods handed over (less
        /// shortages), less returns at the same prices.
        public var expected: Money
        /// Cash collected at handovers less cash paid back for returns, net of voids.
        public var collected: Money
        /// Cash paid in at the bank.
        public var deposited: Money
        /// Cash the device brought from its previous day's close (`close-day --carry`).
        public var carriedIn: Money
        /// Cash the driver carried over to the next day at the close, on purpose.
        public var carriedOut: Money
        /// Cash the driver declared missing at the close (`close-day --missing`): part of the variance.
        public var declaredMissing: Money
        /// Deposited plus carried over, minus collected and carried in.
        public var variance: Money

        public init(expected: Money, collected: Money, deposited: Money, carriedIn: Money = .zero, carriedOut: Money = .zero,
                    declaredMissing: Money = .zero, variance: Money) {
            self.expected = expected
            self.collected = collected
            self.deposited = deposited
            self.carriedIn = carriedIn
            self.carriedOut = carriedOut
            self.declaredMissing = declaredMissing
            self.variance = variance
        }

        enum CodingKeys: String, CodingKey {
            case expected, collected, deposited, variance
            case carriedIn = "carried_in", carriedOut = "carried_out", declaredMissing = "declared_missing"
        }
    }

    public struct Load: Sendable, Codable, Equatable {
        /// Cartons on the manifest for the route and day.
        public var manifest: Int
        /// Cartons counted at load-out (nil: no load-out recorded).
        public var loaded: Int?
        public var delivered: Int
        public var returned: Int
        /// Declared short at shops.
        public var short: Int
        /// Cartons counted back at the depot (nil: no load-in recorded).
        public var back: Int?
    }

    public var device: String
    /// The van's route; empty for a service window.
    public var route: String
    /// The window's kind, for a service window (whose cash is its fees).
    public var window: String?
    public var status: Status
    public var tickets: Tickets
    public var cash: Cash
    public var load: Load
    public var approval: Approval?
    public var exceptions: [SettlementException]
    /// What shops came to owe through this device's deliveries that day, and what they paid off.
    public var receivables: Receivable = .init(opened: .zero, settled: .zero)

    /// Money owed by shops: opened at a handover (an unpaid rest, or on account), settled by a
    /// later payment (`collect`).
    public struct Receivable: Sendable, Codable, Equatable {
        public var opened: Money
        public var settled: Money
    }

    /// Where the device works, for a person: the route, or "window KIND".
    public var unit: String { window.map { "window \($0)" } ?? route }
}

/// A difference or a problem a person must look at, with a stable kind.
public struct SettlementException: Sendable, Codable, Equatable {
    public var kind: ExceptionKind
    public var ticket: String?
    public var event: String?
    public var detail: String

    public init(_ kind: ExceptionKind, ticket: String? = nil, event: String? = nil, _ detail: String) {
        self.kind = kind
        self.ticket = ticket
        self.event = event
        self.detail = detail
    }
}

/// The kinds of exception; the raw values are part of the JSON contract.
public enum ExceptionKind: String, Sendable, Codable, CaseIterable {
    case missingSignature = "missing_signature"
    case cartonMismatch = "carton_mismatch"
    case shortDelivery = "short_delivery"
    case cashMismatch = "cash_mismatch"
    case returnExceedsDelivery = "return_exceeds_delivery"
    case conflict
    case lateEvent = "late_event"
    case unsyncedDevice = "unsynced_device"
    case depositUnmatched = "deposit_unmatched"
    case loadVariance = "load_variance"
    case clockSkew = "clock_skew"
    /// Entries of the device's signed chain are missing at the depot (held until they arrive).
    case chainGap = "chain_gap"
    /// An entry stamped far from its business day: the device's clock was wrong when it was
    /// recorded (years ahead or behind), so its time says nothing.
    case clockSuspect = "clock_suspect"
    /// The device took a new identity that day (its file went back to an older copy, or its
    /// clock had run ahead): what it recorded after was sent again under the new identity.
    case deviceRecovered = "device_recovered"
    /// A delivery binds lines, quantities or prices other than the ticket as the depot imported
    /// it (the device's copy was altered): settled at the import's figures.
    case contentMismatch = "content_mismatch"
    /// Something changed an approved day's figures or exceptions after the approval (a manifest
    /// corrected, a bank line, a late entry): the approved figures stay, the change is listed.
    case lateChange = "late_change"
    /// One signature image on deliveries to two different shops: it proves neither.
    case signatureReused = "signature_reused"
    /// Cash the driver declared missing at the day's close, with the reason given.
    case cashMissing = "cash_missing"
    /// An entry recorded after the device closed its day (a deposit made after the close).
    case afterClose = "after_close"
    /// A refusal voided on the van (the shop took the goods after all): shown with what the
    /// ticket became, both entries kept.
    case refusalTakenBack = "refusal_taken_back"
    /// A shop came to owe money at a handover (an unpaid rest, or on account): it stays on its
    /// balance, across days, until paid (`tally reconcile receivables`).
    case receivableOpened = "receivable_opened"
    /// A shop paid what it owed on an earlier ticket.
    case receivableSettled = "receivable_settled"
}

/// An accountant's approval of a device's day.
public struct Approval: Sendable, Codable, Equatable {
    public var device: String
    public var day: String
    public var by: String
    public var at: String
    public var note: String
    /// The variance approved.
    public var variance: Money
    /// How many ledger entries the day held when approved.
    public var entries: Int
}

/// One day's reconciliation of every device.
public struct Reconciliation: Sendable, Codable, Equatable {
    public struct Totals: Sendable, Codable, Equatable {
        public var expected: Money
        public var collected: Money
        public var deposited: Money
        public var variance: Money
    }

    public var date: String
    public var currency: String
    public var settlements: [Settlement]
    public var totals: Totals
    /// Bank lines of the day no deposit matched.
    public var unmatchedBankLines: [BankLine]

    enum CodingKeys: String, CodingKey {
        case date, currency, settlements, totals
        case unmatchedBankLines = "unmatched_bank_lines"
    }
}
