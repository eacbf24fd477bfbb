import Foundation
import TallyReplica

/// Compaction of the depot's change log: only below what every device has applied.
///
/// Devices pull from the log by cursor; a new device starts from a snapshot of the state, not
/// the log. So a change every joined device has pulled past is needed by no one and can go,
/// and with it a deleted row's tombstone once its delete is gone. The horizon is the lowest
/// cursor over the joined, unrevoked devices, site by site; a device that never pulled holds
/// it at zero. It is recorded, so that a device coming back with an older cursor (a file
/// restored from an old copy) is refused rather than silently missing changes.
public enum DepotCompaction {
    static let horizonSetting = "compact.horizon"

    public struct Report: Sendable, Codable, Equatable {
        public var devices: Int
        /// Devices that have never pulled, holding the horizon at zero.
        public var neverPulled: [String]
        /// Devices away longer than the set-aside limit, not holding the horizon back.
        public var setAside: [String]
        public var horizon: VersionVector
        public var freed: CompactionReport
        public var dryRun: Bool
    }

    /// `setAsideAfter`: devices not heard from for longer (seconds, by `now`) do not hold the
    /// horizon back. When one comes back below it, it is set up again from a snapshot and its
    /// record changes made meanwhile are held for review (`DepotService.staleWrites`).
    /// `setAside` names devices not to wait for whatever their age (a van in the workshop).
    public static func run(replica: Replica, registry: DeviceRegistry, dryRun: Bool,
                           setAsideAfter: TimeInterval? = nil, setAside: Set<String> = [], now: Date = Date()) throws -> Report {
        let all = try registry.cursors()
        if let unknown = setAside.subtracting(all.map(\.device)).sorted().first {
            throw DepotError.refused("no joined, active device is named \(unknown); `tally depot devices` lists them")
        }
        let away = all.filter { d in
            setAside.contains(d.device) || setAsideAfter.map { limit in d.lastSeen.map { now.timeIntervalSince($0) > limit } ?? true } ?? false
        }
        let cursors = all.filter { d in !away.contains { $0.device == d.device } }
        let h = cursors.map { $0.cursor ?? VersionVector() }.reduce(nil as VersionVector?) { $0?.meet($1) ?? $1 } ?? VersionVector()
        // The horizon is recorded before the history goes: stopped in between, the depot
        // refuses a cursor it could still serve, never serves one a page with a hole in it.
        if !dryRun {
            let merged = (try self.horizon(of: replica)).map { $0.merged(with: h) } ?? h
            try replica.setSettings([horizonSetting: String(decoding: try JSONEncoder().encode(merged), as: UTF8.self)])
        }
        let freed = try replica.compact(below: h, dryRun: dryRun)
        return Report(devices: cursors.count, neverPulled: cursors.filter { $0.cursor == nil }.map(\.device),
                      setAside: away.map(\.device), horizon: h, freed: freed, dryRun: dryRun)
    }

    /// The first site (the device's own aside) where `cursor` lies below the compacted
    /// `horizon`: a device reading on from there would miss changes the depot no longer has.
    public static func gap(in cursor: VersionVector, below horizon: VersionVector, own: SiteID?) -> (site: SiteID, seq: UInt64)? {
        horizon.sorted.first { $0.site != own && cursor[$0.site] < $0.seq }
    }

    /// The highest horizon compacted so far, if any.
    public static func horizon(of replica: Replica) throws -> VersionVector? {
        guard let json = try replica.setting(horizonSetting) else { return nil }
        return try JSONDecoder().decode(VersionVector.self, from: Data(json.utf8))
    }
}
