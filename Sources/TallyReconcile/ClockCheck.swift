import TallyRoutes

/// What a device's clock says about its entries: an entry's own time far from the business day
/// it belongs to, and the days a device took a new identity.
enum ClockCheck {
    /// How far before its business day starts, or after it ends, an entry may be stamped before
    /// its time is suspect: a van works past midnight, deposits the next morning.
    static let slackMilliseconds: UInt64 = 86_400_000

    /// `clock_suspect` for each entry stamped more than a day outside its business day (a clock
    /// years ahead or behind when it was recorded). The entry still counts: only its time is
    /// doubtful.
    static func suspects(_ entries: [VanEvent], date: String) -> [SettlementException] {
        guard let start = IsoTime.parse(date + "T00:00:00+08:00") else { return [] }
        let earliest = start &- slackMilliseconds
        let latest = start + slackMilliseconds + slackMilliseconds
        return entries.compactMap { e in
            guard let at = IsoTime.parse(e.at), at < earliest || at > latest else { return nil }
            return SettlementException(.clockSuspect, ticket: e.ticket, event: e.id,
                                       "\(e.kind) \(e.id) is stamped \(e.at), far from its business day \(date): the device's clock was wrong "
                                       + "when it was recorded; the entry counts, its time does not (ask the driver when it happened)")
        }
    }

    /// `device_recovered` for each new identity the device took on `date` (Beijing time).
    static func recoveries(of device: DeviceInfo, on date: String) -> [SettlementException] {
        device.recoveries.compactMap { r in
            guard let ms = IsoTime.parse(r.at), IsoTime.format(ms).hasPrefix(date) else { return nil }
            return SettlementException(.deviceRecovered, "\(device.name) was set up again at \(IsoTime.format(ms)): \(r.detail); "
                                       + "what it recorded after its file went back (or its clock ran ahead) is in the books once")
        }
    }
}
