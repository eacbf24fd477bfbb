import TallyReplica

/// Re-verifies devices' signed entry chains in a replica (`Protocol/SIGNING.md`): every
/// signature against the device's registered key, every link to the previous entry, the
/// numbering without gaps or forks. What `tally audit verify` prints, and what a device checks
/// of its own entries before it syncs.
public struct ChainAudit: Sendable, Codable, Equatable {
    public enum Problem: String, Sendable, Codable {
        /// The entry's bytes do not match its signature: changed after it was signed.
        case altered
        /// No signature, from a device that registered a key.
        case unsigned
        /// Entries before this one are missing (`missing` says which numbers).
        case chainGap = "chain_gap"
        /// `prev` is not the hash of the device's previous entry: reordered, or a predecessor
        /// replaced.
        case brokenLink = "broken_link"
        /// Two entries claim the same place in the chain (a replay, or a device cloned).
        case fork
        /// Entries of a device the depot holds no key for: they cannot be verified.
        case noKey = "no_key"
    }

    public struct Finding: Sendable, Codable, Equatable {
        public var device: String
        public var problem: Problem
        /// The entry concerned (the first after a gap).
        public var entry: String?
        public var chain: Int64?
        public var detail: String
    }

    public struct DeviceResult: Sendable, Codable, Equatable {
        public var device: String
        public var entries: Int
        public var verified: Int
        /// The highest chain number held.
        public var head: Int64

        public init(device: String, entries: Int, verified: Int, head: Int64) {
            self.device = device
            self.entries = entries
            self.verified = verified
            self.head = head
        }
    }

    public var devices: [DeviceResult]
    public var findings: [Finding]
    public var ok: Bool { findings.isEmpty }

    /// Verifies every device's entries (or one device's) with the keys given (device → public
    /// key hex; a device missing from `keys` is reported `no_key`). `lastEntries`: only each
    /// device's latest entries (a device's own check before a sync). `vouching`: an entry
    /// whose successor links to its hash is authenticated by the successor's signature (which
    /// covers that hash), so only the last entry of each unbroken run has its own signature
    /// checked; any content changed anywhere still shows, on the entry changed. Not vouched
    /// for: a `sig` value itself, which is outside the signed bytes; the full audit checks
    /// every one.
    public static func run(_ replica: Replica, keys: [String: String], device only: String? = nil,
                           lastEntries: Int? = nil, vouching: Bool = false) throws -> ChainAudit {
        // One device at a time, through a local index: memory holds one device's entries, not
        // the depot's whole ledger.
        try replica.ensureIndexes([("events", ["device", "chain"])])
        var devices: [String] = []
        if let only {
            devices = [only]
        } else {
            try replica.select("SELECT DISTINCT device FROM events WHERE tally_cl % 2 = 1 AND device IS NOT NULL ORDER BY device") { r in
                devices.append(r[0].text ?? "")
            }
        }
        var results: [DeviceResult] = []
        var findings: [Finding] = []
        for device in devices {
            let all: [Row]
            let rows: [Row]
            if let lastEntries {
                // Only the latest entries, found through the (device, chain) index: a device's
                // check at each sync does not read its whole history.
                // One query, the signed columns in their signed order: a device runs this at
                // every sync.
                let names = SignedEvent.columns + ["sig"]
                var latest: [Row] = []
                try replica.select("SELECT id, \(names.map { "\"\($0)\"" }.joined(separator: ", ")) FROM events WHERE device = ?1 AND chain IS NOT NULL AND tally_cl % 2 = 1 ORDER BY chain DESC, id DESC LIMIT ?2",
                                   [.text(device), .integer(Int64(lastEntries))]) { v in
                    latest.append(Row(table: EventChain.table, key: v[0].text ?? "",
                                      values: names.indices.map { ColumnValue(names[$0], v[$0 + 1]) }, isLive: true, causalLength: 1))
                }
                rows = latest.reversed()
                all = rows
            } else {
                all = try replica.rows("events", where: "device", is: .text(device))
                rows = all.filter { $0["chain"].integer != nil }.sorted { ($0["chain"].integer ?? 0, $0.key) < ($1["chain"].integer ?? 0, $1.key) }
            }
            let legacy = all.count - rows.count
            guard let key = keys[device] else {
                if !all.isEmpty {
                    findings.append(Finding(device: device, problem: .noKey, entry: nil, chain: nil,
                                            detail: "\(all.count) entries of \(device), which registered no signing key: not verifiable"))
                }
                results.append(DeviceResult(device: device, entries: all.count, verified: 0, head: rows.last?["chain"].integer ?? 0))
                continue
            }
            if legacy > 0 && lastEntries == nil {
                for r in all where r["chain"].integer == nil {
                    findings.append(Finding(device: device, problem: .unsigned, entry: r.key, chain: nil, detail: "entry \(r.key) carries no signature"))
                }
            }
            var verified = 0
            var previous: (chain: Int64, hash: String)? = nil
            var expected: Int64 = rows.first.map { lastEntries == nil ? 1 : $0["chain"].integer ?? 1 } ?? 1
            let signed = rows.map(SignedEvent.bytes(of:))
            let hashes = signed.map(SignedEvent.hash)
            // From the newest back: vouched for by an authentic successor, or checked.
            var authentic = [Bool](repeating: false, count: rows.count)
            for i in rows.indices.reversed() {
                let r = rows[i]
                let vouched = vouching && i + 1 < rows.count && authentic[i + 1]
                    && rows[i + 1]["chain"].integer == (r["chain"].integer ?? 0) + 1 && rows[i + 1]["prev"].text == hashes[i]
                authentic[i] = vouched || (r["sig"].text.map { SignedEvent.verify(signed[i], sig: $0, publicKey: key) } ?? false)
            }
            for (i, r) in rows.enumerated() {
                let n = r["chain"].integer ?? 0
                let hash = hashes[i]
                let prev = r["prev"].text ?? ""
                if authentic[i] {
                    verified += 1
                } else {
                    findings.append(Finding(device: device, problem: r["sig"].isNull ? .unsigned : .altered, entry: r.key, chain: n,
                                            detail: r["sig"].isNull ? "entry \(r.key) carries no signature"
                                                : "entry \(r.key) (\(Self.describe(r))) does not match its signature: changed after \(device) signed it"))
                }
                if let p = previous, p.chain == n {
                    findings.append(Finding(device: device, problem: .fork, entry: r.key, chain: n,
                                            detail: "entry \(r.key) claims place \(n) in \(device)'s chain, which another entry holds"))
                    continue
                }
                if n > expected {
                    findings.append(Finding(device: device, problem: .chainGap, entry: r.key, chain: n,
                                            detail: "entries \(expected)\(n - 1 > expected ? "–\(n - 1)" : "") of \(device) are missing before \(r.key): held until they arrive"))
                } else if let p = previous, p.chain == n - 1, prev != p.hash {
                    findings.append(Finding(device: device, problem: .brokenLink, entry: r.key, chain: n,
                                            detail: "entry \(r.key) does not follow entry \(n - 1) of \(device): reordered, or its predecessor was replaced"))
                } else if previous == nil, n == 1, prev != SignedEvent.genesis {
                    findings.append(Finding(device: device, problem: .brokenLink, entry: r.key, chain: n,
                                            detail: "entry \(r.key) is \(device)'s first but links to an earlier one"))
                }
                previous = (n, hash)
                expected = n + 1
            }
            results.append(DeviceResult(device: device, entries: all.count, verified: verified, head: rows.last?["chain"].integer ?? 0))
        }
        return ChainAudit(devices: results, findings: findings)
    }

    /// "deliver 925.00 of T11290002": enough to recognise an entry.
    static func describe(_ r: Row) -> String {
        let amount = Money(minorUnits: r["amount"].integer ?? 0)
        return [r["kind"].text, amount == .zero ? nil : amount.description, r["ticket"].text.map { "of \($0)" }].compactMap { $0 }.joined(separator: " ")
    }
}
