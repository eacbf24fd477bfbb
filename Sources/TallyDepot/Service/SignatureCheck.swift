import TallyReplica
import TallyRoutes

/// The depot's check of every ledger entry a device pushes (`Protocol/SIGNING.md`): written
/// under the device's own name and signed with the key it registered at its join. An entry
/// changed after it was signed, or signed by another key, is refused with the whole push and
/// audited. A missing predecessor is not refused: the entry is held and its gap shows (as
/// `chain_gap`) in reconciliation and `tally audit verify` until the predecessor arrives. A
/// device that registered no key writes no entries at all.
///
/// One signature check per unbroken run of the chain, not per entry: an entry's signed bytes
/// hold `prev`, the hash of its predecessor's signed bytes, so the device's signature on the
/// last entry of a run vouches for the content of every entry before it in that run. Each
/// entry whose successor in the push names its hash (and the next chain number) is covered by
/// that successor; any other entry's own signature is checked. An Ed25519 check costs about as
/// much as the rest of the push per entry; SHA-256 of the signed bytes costs little. Not
/// covered: the `sig` value itself of a covered entry (it is outside the signed bytes), which
/// only the device could have got wrong; `tally audit verify` checks every one.
enum SignatureCheck {

    /// The first entry of the push to refuse, and why.
    static func refusal(in changes: [Change], device: DeviceRecord) -> (Change, String)? {
        // Every device that records entries registers a key at its join (`tally join` makes
        // one): an entry from a device without one is an entry nobody can verify, and the
        // books would count it. Refused, not counted.
        guard let publicKey = device.publicKey else {
            guard let c = changes.first(where: { $0.table == EventChain.table && !$0.values.isEmpty }) else { return nil }
            return (c, "entry \(c.key) comes from \(device.name), which registered no signing key at its join, so nobody could "
                + "verify it; set the device up with `tally join` (after `tally depot rotate \(device.name)` for a new credential)")
        }
        var entries: [(change: Change, sig: String)] = []
        for c in changes where c.table == EventChain.table && !c.values.isEmpty {
            if let writer = c.value("device")?.text, writer != device.name {
                return (c, "entry \(c.key) names \(writer) as its device, but \(device.name) pushed it")
            }
            guard let sig = c.value("sig")?.text else {
                return (c, "entry \(c.key) is not signed, but \(device.name) registered a signing key at its join")
            }
            entries.append((c, sig))
        }
        // From the last entry back: covered by its successor, or checked on its own.
        var successor: (chain: Int64, prev: String)? = nil
        for e in entries.reversed() {
            let bytes = SignedEvent.bytes(id: e.change.key, columns: e.change.values)
            let chain = e.change.value("chain")?.integer
            let covered = successor.map { s in chain.map { $0 + 1 == s.chain } ?? false && s.prev == SignedEvent.hash(bytes) } ?? false
            if !covered && !SignedEvent.verify(bytes, sig: e.sig, publicKey: publicKey) {
                return (e.change, "entry \(e.change.key) does not match its signature: it was changed after it was signed, or signed by another key")
            }
            successor = chain.flatMap { c in e.change.value("prev")?.text.map { (c, $0) } }
        }
        return nil
    }
}

extension Change {
    /// The value this change sets for `column`, if it sets one.
    fileprivate func value(_ column: String) -> Value? { values.first { $0.column == column }?.value }
}
