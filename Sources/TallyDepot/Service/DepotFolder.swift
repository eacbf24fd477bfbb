import Foundation
import Logging
import TallyReplica

/// A depot's data folder: `depot.sqlite` (the depot's replica of everything) and
/// `registry.sqlite` (devices and the audit log).
public struct DepotFolder: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var replicaPath: String { (path as NSString).appendingPathComponent("depot.sqlite") }
    public var registryPath: String { (path as NSString).appendingPathComponent("registry.sqlite") }
    /// Where snapshots for joining devices are built and sent from (not backed up).
    public var scratchPath: String { (path as NSString).appendingPathComponent("scratch") }

    /// Creates the folder's files; refuses a folder that already holds a depot.
    public func create(schema: Schema, options: ReplicaOptions) throws {
        if FileManager.default.fileExists(atPath: replicaPath) || FileManager.default.fileExists(atPath: registryPath) {
            throw DepotError.refused("\(path) already holds a depot; use it as it is, or choose an empty folder")
        }
        try PrivateFiles.folder(path)
        _ = try Replica.create(at: replicaPath, schema: schema, options: Self.depotOptions(options))
        _ = try DeviceRegistry.create(at: registryPath, clock: options.wallClock)
    }

    public func registry(clock: any WallClock) throws -> DeviceRegistry {
        guard FileManager.default.fileExists(atPath: registryPath) else { throw DepotError.notADepot(path) }
        return try DeviceRegistry(path: registryPath, clock: clock)
    }

    public func replica(schema: Schema, options: ReplicaOptions) throws -> Replica {
        guard FileManager.default.fileExists(atPath: replicaPath) else { throw DepotError.notADepot(path) }
        return try Replica.open(at: replicaPath, schema: schema, options: Self.depotOptions(options))
    }

    /// The depot's replica records each change's owner in its log, so that a pull reads only
    /// the device's scope.
    static func depotOptions(_ options: ReplicaOptions) -> ReplicaOptions {
        var o = options
        o.scopeColumns = ColumnScopePolicy.scopeColumns
        o.sharedOwners = ColumnScopePolicy.sharedOwners
        return o
    }
}
