import TallyReplica
import TallyRoutes

/// The depot's check of every ledger entry a device pushes (`Protocol/SIGNING.md`): written
/// under the device's own name and signed with the key it registered at its join. An entry
/// changed after it was signed, or signed by another key, is refused with the whole push and
/// audited. A missing predecessor is not refused: the entry is held and its gap shows (as
/// `chain_gap`) in reconciliation and `tally audit verify` until the predecessor arrives.
enum SignatureCheck {

    static func refusal(_ c: Change, device: DeviceRecord) -> String? {
        guard c.table == EventChain.table, !c.values.isEmpty, let publicKey = device.publicKey else { return nil }
        var values: [String: Value] = [:]
        for v in c.values { values[v.column] = v.value }
        if let writer = values["device"]?.text, writer != device.name {
            return "entry \(c.key) names \(writer) as its device, but \(device.name) pushed it"
        }
        guard let sig = values["sig"]?.text else {
            return "entry \(c.key) is not signed, but \(device.name) registered a signing key at its join"
        }
        guard SignedEvent.verify(SignedEvent.bytes(id: c.key, values), sig: sig, publicKey: publicKey) else {
            return "entry \(c.key) does not match its signature: it was changed after it was signed, or signed by another key"
        }
        return nil
    }
}
