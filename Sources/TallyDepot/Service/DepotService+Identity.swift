import Foundation
import TallyProtocol
import TallyReplica

extension DepotService {
    /// The depot's identity, kept in its replica (`depot.epoch`): made when first asked, made anew
    /// by `tally depot restore` (`DepotBackup.restore`).
    static let epochSetting = "depot.epoch"

    /// A new random epoch: 128 bits, hex.
    public static func newEpoch() -> String { SiteID.random().hex }

    /// The depot's epoch, made and stored the first time it is asked for.
    func epoch() throws -> String {
        if let e = try replica.setting(Self.epochSetting) { return e }
        let e = Self.newEpoch()
        try replica.setSettings([Self.epochSetting: e])
        return e
    }

    /// `GET /v1/hello`: what the depot holds of this device, its identity and its clock, asked
    /// first at each sync so that a device sees a restored depot (or its own file gone back to
    /// an older copy) before it pushes.
    func hello(_ r: DepotRequest) throws -> DepotResponse {
        let device = try registry.authenticate(r.bearer)
        let ack = try device.site.flatMap(SiteID.init(hex:)).map { try replica.contiguousSeq(of: $0) } ?? 0
        return try json(HelloResponse(epoch: try epoch(), ack: ack, time: clock.nowMilliseconds(), site: device.site), r)
    }
}

extension DepotService {
    /// Whether a join moves this device's credential to a new site because the device takes a
    /// new identity (`JoinRequest.replaces`): only from the site bound now, only with the
    /// signing key registered for it. What the old identity pushed stays at the depot.
    func recoveryRebind(_ device: DeviceRecord, old: SiteID?, to site: SiteID, _ req: JoinRequest) throws -> Bool {
        guard let replaces = req.replaces, old != site else { return false }  // a first join, or this one again
        guard let old, old.hex == replaces.lowercased(), site != old else {
            throw WireError.conflict("this device says it leaves the identity \(replaces.prefix(8))…, which is not the one the depot has for it; "
                + "ask the depot staff to look at `tally depot audit`")
        }
        if let registered = device.publicKey, registered != req.publicKey {
            registry.audit(device: device.name, action: "refused_recovery", detail: "a new identity asked for with another signing key")
            throw WireError.forbidden("a device taking a new identity keeps its signing key; this join carries another one. "
                + "The attempt is in the depot's audit log.")
        }
        registry.resetCursors(of: device.name)
        return true
    }
}
