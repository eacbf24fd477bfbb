import Foundation
import TallyProtocol
import TallyReplica

extension SyncClient {
    /// Compares what the depot says it holds of this device (`GET /v1/hello`) with what the
    /// device holds, before anything is pushed, and returns the acknowledgement to push from.
    ///
    /// - The depot holds more of this device than the device itself: the file went back to an
    ///   older copy; the device takes a new identity (`recover`).
    /// - The depot holds less than it acknowledged before, or shows a new epoch: it was restored
    ///   from an older backup; the device pushes from what it holds and offers every blob again.
    /// - The device's clock stamped its changes far ahead of the depot's: taken a new identity
    ///   if the clock is right now, refused with what to do if it is still wrong.
    /// Never moves the acknowledgement up: changes the depot acknowledged but this file numbered
    /// again are pushed, and the depot compares their content.
    func takeStock(_ hello: HelloResponse, ack: UInt64, summary: inout SyncSummary) throws(SyncError) -> UInt64 {
        // The depot binds this credential to another identity: one this device left (the depot
        // was restored from before), or one it took later (this file went back past it).
        if let bound = hello.site, bound != replica.site.hex {
            let previous = try Self.local { try replica.setting(SyncSettings.previousSites) }?.split(separator: " ").map(String.init) ?? []
            logger.warning("the depot binds this device to another identity", metadata: ["depot": "\(bound)", "file": "\(replica.site.hex)"])
            throw .recoveryNeeded(previous.contains(bound) ? .depotRestored : .fileWentBack)
        }
        let own = try Self.local { try replica.contiguousSeq(of: replica.site) }
        if hello.ack > own {
            logger.warning("the depot holds more of this device than its file", metadata: ["depot": "\(hello.ack)", "file": "\(own)"])
            throw .recoveryNeeded(.fileWentBack)
        }
        let bound = HybridClock.defaultMaxDrift
        let stamped = try Self.local { try replica.clockValue() }.milliseconds
        if stamped > hello.time + bound {
            let now = wall.nowMilliseconds()
            if now > hello.time + bound { throw .clockWrong(deviceMilliseconds: now, depotMilliseconds: hello.time) }
            throw .recoveryNeeded(.clockAhead)
        }
        var settings: [String: String?] = [SyncSettings.depotEpoch: hello.epoch]
        let known = try Self.local { try replica.setting(SyncSettings.depotEpoch) }
        var from = ack
        if hello.ack < ack {
            // What it lost must still be in this file's log to be pushed again; a file set up
            // again from the depot since (its own earlier changes came as rows, without their
            // log) records them again under a new identity instead.
            let next = try Self.local { try replica.ownChanges(after: hello.ack, limit: 1) }.first?.seq
            if next != hello.ack + 1 {
                logger.warning("the depot has lost changes this file holds as rows only", metadata: ["depot_ack": "\(hello.ack)", "ours": "\(ack)"])
                throw .recoveryNeeded(.depotRestored)
            }
            logger.warning("the depot has lost changes of this device; pushing them again", metadata: ["depot_ack": "\(hello.ack)", "ours": "\(ack)"])
            from = hello.ack
            settings[SyncSettings.ack] = String(from)
            settings[SyncSettings.blobMark] = "0"  // images uploaded with those changes may be gone too
            summary.depotRestored = true
        }
        if let known, known != hello.epoch {
            logger.warning("the depot was restored from a backup; offering every blob again")
            settings[SyncSettings.blobMark] = "0"
            summary.depotRestored = true
        }
        let confirmed = hello.time
        try Self.local {
            try replica.setSettings(settings)
            try replica.setClockCeiling(confirmedMilliseconds: confirmed)
        }
        return from
    }
}
