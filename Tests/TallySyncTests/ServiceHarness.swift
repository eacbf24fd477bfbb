import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// A depot's protocol handler in this process, without sockets: `DepotService.handle`.
final class ServiceHarness: @unchecked Sendable {  // safe: used by one test at a time
    let scratch: Scratch
    let clock: any WallClock
    let service: DepotService
    let schema: Schema

    init(schema: Schema = RouteSchema.current, clock: any WallClock = SystemWallClock(), site: SiteID? = nil) throws {
        scratch = try Scratch("service")
        self.clock = clock
        self.schema = schema
        let options = ReplicaOptions.quiet(wallClock: clock)
        let folder = DepotFolder(scratch.path("depot"))
        try folder.create(schema: schema, options: options)
        if let site {
            // A fixed site id for the depot's own writes (vectors): recreate the replica with it.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: folder.replicaPath + suffix) }
            _ = try Replica.create(at: folder.replicaPath, schema: schema, site: site, options: options)
        }
        let replica = try folder.replica(schema: schema, options: options)
        service = DepotService(replica: replica, registry: try folder.registry(clock: clock),
                               scope: ColumnScopePolicy(schema: schema), clock: clock, logger: options.logger, version: "0.1.0",
                               scratch: scratch.url.path)
    }

    var depot: Replica { service.replica }

    /// The route schema with every part writable by anyone (`Writer.anyone`): for tests of
    /// paging whose vans make their own tickets. Who may write what is `OwnershipTests`' subject.
    static let routeSchemaWithoutOwnership: Schema = {
        var s = RouteSchema.current
        for t in s.tables.indices {
            s.tables[t].writer = .anyone
            for c in s.tables[t].columns.indices { s.tables[t].columns[c].writer = .anyone }
        }
        return s
    }()

    /// A device: enrolled, its replica created, joined (site bound) through the service.
    final class Device: @unchecked Sendable {  // safe: used by one test at a time
        let name: String
        let credential: String
        let replica: Replica
        let scope: String?
        init(name: String, credential: String, replica: Replica, scope: String?) {
            self.name = name
            self.credential = credential
            self.replica = replica
            self.scope = scope
        }
    }

    /// `signed`: the device makes a signing key and registers it at its join, as `tally join`
    /// does (its replica then holds the key, `DeviceKey.stored(in:)`); a device without one
    /// writes no ledger entries the depot takes.
    func device(_ name: String, role: DeviceRole = .van, scope: String? = nil, site: SiteID = .random(), signed: Bool = true) throws -> Device {
        let (_, credential) = try service.registry.enroll(name: name, role: role, scope: scope)
        let replica = try Replica.create(at: scratch.path("\(name).sqlite"), schema: schema, site: site, options: .quiet(wallClock: clock))
        let d = Device(name: name, credential: credential.token, replica: replica, scope: scope)
        let key = signed ? DeviceKey.generate() : nil
        try key?.store(in: replica)
        let answer = call("POST", "/v1/join", d, JoinRequest(site: site, publicKey: key?.publicKey))
        #expect(answer.status == 200, "join \(name): \(String(decoding: answer.body, as: UTF8.self))")
        return d
    }

    func request<B: Encodable>(_ method: String, _ path: String, _ device: Device?, _ body: B, compress: Bool = false,
                               acceptDeflate: Bool = false) -> DepotRequest {
        var headers = ["Content-Type": "application/json", "Tally-Clock": String(clock.nowMilliseconds())]
        if let device { headers["Authorization"] = "Bearer \(device.credential)" }
        if compress { headers["Content-Encoding"] = "deflate" }
        if acceptDeflate { headers["Accept-Encoding"] = "deflate" }
        let bytes = (try? WireCodec.encode(body, compress: compress)) ?? []
        return DepotRequest(method: method, path: path, headers: headers, body: bytes)
    }

    func call<B: Encodable>(_ method: String, _ path: String, _ device: Device?, _ body: B, compress: Bool = false) -> DepotResponse {
        service.handle(request(method, path, device, body, compress: compress))
    }

    func push(_ device: Device, _ changes: [Change]) throws -> PushResponse {
        let r = call("POST", "/v1/push", device, PushRequest(schemaVersion: schema.version, site: device.replica.site, changes: changes), compress: true)
        guard r.status == 200 else { throw TestFailure("push by \(device.name): \(r.status) \(String(decoding: r.body, as: UTF8.self))") }
        return try WireCodec.decode(PushResponse.self, from: r.body, compressed: false)
    }

    /// Pushes every own change of the device.
    @discardableResult
    func pushAll(_ device: Device) throws -> PushResponse {
        try push(device, try device.replica.ownChanges(after: 0, limit: WireLimits.maxChanges))
    }

    func pull(_ device: Device, cursor: VersionVector, limit: Int) throws -> PullResponse {
        let r = call("POST", "/v1/pull", device, PullRequest(schemaVersion: schema.version, cursor: cursor, limit: limit))
        guard r.status == 200 else { throw TestFailure("pull by \(device.name): \(r.status) \(String(decoding: r.body, as: UTF8.self))") }
        return try WireCodec.decode(PullResponse.self, from: r.body, compressed: false)
    }

    /// Pulls to the end, applying every page; returns the pages.
    @discardableResult
    func pullAll(_ device: Device, from start: VersionVector = VersionVector(), limit: Int) throws -> (pages: [PullResponse], cursor: VersionVector) {
        var cursor = start
        var pages: [PullResponse] = []
        for _ in 0..<10_000 {
            let page = try pull(device, cursor: cursor, limit: limit)
            try device.replica.apply(page.changes, trustClocks: true)
            pages.append(page)
            cursor = page.cursor
            if !page.more { break }
        }
        return (pages, cursor)
    }

    static func errorCode(_ r: DepotResponse) -> String? {
        WireCodec.decodeError(r.body, status: r.status)?.code
    }
}
