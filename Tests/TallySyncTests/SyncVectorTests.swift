import Foundation
import Testing
import TallyDepot
import TallyProtocol
import TallyReplica
import TallyRoutes

/// The machine-readable spec: `Protocol/schemas/*.schema.json` and the example exchanges in
/// `Protocol/vectors/sync/*.json`.
///
/// The exchanges are recorded from `DepotService` with a fixed clock and fixed site ids, so they
/// are reproducible. Regenerate after a deliberate protocol change (and review the diff):
///
///     TALLY_WRITE_SYNC_VECTORS=1 swift test --skip-build --filter SyncVectorTests
@Suite struct SyncVectorTests {
    static let protocolDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Protocol").standardized
    static let vectorDir = protocolDir.appendingPathComponent("vectors/sync")
    static let schemaDir = protocolDir.appendingPathComponent("schemas")

    static let epoch: UInt64 = 1_700_000_000_000
    static let siteA = SiteID(hex: "0000000000000000000000000000000a")!  // safe: constant
    static let siteB = SiteID(hex: "0000000000000000000000000000000b")!  // safe: constant
    static let siteDepot = SiteID(hex: "000000000000000000000000000000dd")!  // safe: constant

    /// One recorded request and answer.
    struct Exchange {
        var file: String
        var description: String
        var method: String
        var path: String
        var device: String?
        var requestHeaders: [String: String]
        var requestType: String?
        var requestBody: [UInt8]?  // canonical JSON
        var status: Int
        var responseHeaders: [String: String]
        var responseType: String
        var responseBody: [UInt8]  // canonical JSON, inflated
    }

    /// Runs the example session on a fresh depot: a van joins, pushes, pushes again, another van
    /// of the route pulls in pages of two, a blob is offered, and two requests are refused.
    static func record() throws -> [Exchange] {
        let clock = ManualWallClock(milliseconds: epoch)
        let h = try ServiceHarness(clock: clock, site: siteDepot)
        var out: [Exchange] = []
        var credentials: [String: String] = [:]

        func exchange<B: Encodable>(_ file: String, _ description: String, _ method: String, _ path: String, device: String?,
                                    _ body: B?, requestType: String?, responseType: String) throws {
            var headers = ["Tally-Clock": String(clock.nowMilliseconds()), "Accept-Encoding": "deflate"]
            var bytes: [UInt8] = []
            var plain: [UInt8]?
            if let body {
                plain = try WireCodec.encode(body, compress: false)
                bytes = try WireCodec.encode(body, compress: true)
                headers["Content-Type"] = "application/json"
                headers["Content-Encoding"] = "deflate"
            }
            if let device, let c = credentials[device] { headers["Authorization"] = "Bearer \(c)" }
            let r = h.service.handle(DepotRequest(method: method, path: path, headers: headers, body: bytes))
            let inflated = r.headers["content-encoding"] == "deflate" ? try Deflate.decompress(r.body, limit: WireLimits.maxInflated) : r.body
            var shown = headers
            if let device { shown["Authorization"] = "Bearer <credential of \(device)>" }
            out.append(Exchange(file: file, description: description, method: method, path: path, device: device,
                                requestHeaders: shown, requestType: requestType,
                                requestBody: plain, status: r.status, responseHeaders: r.headers, responseType: responseType,
                                responseBody: inflated))
        }
        let none: String? = nil

        for name in ["van-a", "van-b"] {
            credentials[name] = try h.service.registry.enroll(name: name, role: .van, scope: "R07").1.token
        }
        let a = try Replica.create(at: h.scratch.path("van-a.sqlite"), schema: RouteSchema.current, site: siteA, options: .quiet(wallClock: clock))
        // A fixed signing key (Ed25519 signatures are deterministic): van-a signs its entries.
        try a.setSettings(["sync.signing_key": String(repeating: "5a", count: 32)])
        let key = try #require(try DeviceKey.stored(in: a))
        try key.store(in: a)

        try exchange("01-version.json", "GET /version answers without a credential.", "GET", "/version", device: nil, none,
                     requestType: nil, responseType: "VersionInfo")
        try exchange("02-join.json", "van-a (enrolled as a van of route R07) binds its replica's site id and learns its scope and the schema.",
                     "POST", "/v1/join", device: "van-a", JoinRequest(site: siteA, publicKey: key.publicKey), requestType: "JoinRequest",
                     responseType: "JoinResponse")
        _ = h.service.handle(DepotRequest(method: "POST", path: "/v1/join", headers: ["Authorization": "Bearer \(credentials["van-b"]!)"],  // safe: set above
                                          body: try WireCodec.encode(JoinRequest(site: siteB), compress: false)))

        // The depot imports the ticket (what the order system decides is the depot's to write)
        // and van-a holds it as a pull would bring it.
        clock.advance(by: 1_000)
        try h.depot.write { tx in
            try tx.insert("tickets", key: "R07-T1", ["date": .text("2023-11-14"), "route": .text("R07"), "stop": .integer(1),
                                                     "customer": .text("R07-C3"), "payment": .text("cash"), "amount_due": .integer(1250),
                                                     "status": .text("planned")])
        }
        try a.apply(try h.depot.ownChanges(after: 0, limit: 10), trustClocks: true)
        clock.advance(by: 1_000)
        try a.write { tx in try tx.update("tickets", key: "R07-T1", ["note": .text("前门")]) }
        clock.advance(by: 1_000)
        try a.write { tx in try tx.update("tickets", key: "R07-T1", ["status": .text("delivered")]) }
        clock.advance(by: 1_000)
        try a.write { tx in
            try EventChain.insert(tx, id: "EV-R07-0001", ["route": .text("R07"), "ticket": .text("R07-T1"), "kind": .text("cash"),
                                                          "amount": .integer(1250), "device": .text("van-a"), "at": .text("2023-11-14T22:13:23Z")],
                                  key: key)
        }
        let push = PushRequest(schemaVersion: 1, site: siteA, changes: try a.ownChanges(after: 0, limit: 100))
        clock.advance(by: 500)
        try exchange("03-push.json", "van-a pushes its three changes: a note on its ticket, the ticket's status moved, a cash event.",
                     "POST", "/v1/push", device: "van-a", push, requestType: "PushRequest", responseType: "PushResponse")
        try exchange("04-push-replay.json", "The same push again (an answer lost on the way): nothing new, the same ack.",
                     "POST", "/v1/push", device: "van-a", push, requestType: "PushRequest", responseType: "PushResponse")
        let first = PullRequest(schemaVersion: 1, cursor: VersionVector(), limit: 2)
        try exchange("05-pull-page.json", "van-b (route R07) pulls from the start, two changes a page: more follow.",
                     "POST", "/v1/pull", device: "van-b", first, requestType: "PullRequest", responseType: "PullResponse")
        let cursor = try WireCodec.decode(PullResponse.self, from: out.last!.responseBody, compressed: false).cursor  // safe: just appended
        try exchange("06-pull-last-page.json", "van-b pulls again from the cursor it was given: the last page.",
                     "POST", "/v1/pull", device: "van-b", PullRequest(schemaVersion: 1, cursor: cursor, limit: 2),
                     requestType: "PullRequest", responseType: "PullResponse")
        let hash = try a.putBlob(Array("signature: 王".utf8))
        try exchange("07-blobs-missing.json", "van-a offers a blob (a signature image) by its SHA-256; the depot lacks it.",
                     "POST", "/v1/blobs/missing", device: "van-a", BlobList(hashes: [hash]), requestType: "BlobList", responseType: "BlobList")
        clock.advance(by: 1_000)
        try a.write { tx in try tx.insert("tickets", key: "R08-T4", ["route": .text("R08"), "status": .text("planned")]) }
        try exchange("08-error-out-of-scope.json", "van-a writes a ticket of route R08: the whole push is refused and audited.",
                     "POST", "/v1/push", device: "van-a", PushRequest(schemaVersion: 1, site: siteA, changes: try a.ownChanges(after: 3, limit: 10)),
                     requestType: "PushRequest", responseType: "Error")
        var newer = PullRequest(schemaVersion: 1, cursor: VersionVector(), limit: 100)
        newer.protocolVersion = 2
        try exchange("09-error-unsupported-protocol.json", "A device speaking protocol 2 to a protocol-1 depot: update the depot.",
                     "POST", "/v1/pull", device: "van-b", newer, requestType: nil, responseType: "Error")
        clock.advance(by: 1_000)
        try a.write { tx in try tx.update("tickets", key: "R07-T1", ["amount_due": .integer(5)]) }
        try exchange("10-error-depot-owned.json",
                     "van-a changes what its ticket is due: only the depot's import writes that; the whole push is refused and audited.",
                     "POST", "/v1/push", device: "van-a", PushRequest(schemaVersion: 1, site: siteA, changes: try a.ownChanges(after: 4, limit: 10)),
                     requestType: "PushRequest", responseType: "Error")
        return out
    }

    /// The vector file's JSON for an exchange.
    static func fileJSON(_ x: Exchange) throws -> JSONValue {
        var request: [String: JSONValue] = ["method": .string(x.method), "path": .string(x.path)]
        if let body = x.requestBody {
            request["body"] = try JSONValue.parse(body)
            request["deflated"] = .string(Data(Deflate.compress(body)).base64EncodedString())
        }
        request["headers"] = .object(x.requestHeaders.mapValues { JSONValue.string($0) })
        if let t = x.requestType { request["schema"] = .string("\(t).schema.json") }
        let response: [String: JSONValue] = [
            "status": .int(Int64(x.status)),
            "headers": .object(x.responseHeaders.mapValues { JSONValue.string($0) }),
            "schema": .string("\(x.responseType).schema.json"),
            "body": try JSONValue.parse(x.responseBody),
            "deflated": .string(Data(Deflate.compress(x.responseBody)).base64EncodedString()),
        ]
        return .object(["name": .string(String(x.file.dropLast(5))), "description": .string(x.description),
                        "request": .object(request), "response": .object(response)])
    }

    static func decodeAs(_ type: String, _ bytes: [UInt8]) throws -> [UInt8] {
        func roundTrip<T: Codable>(_: T.Type) throws -> [UInt8] {
            try WireCodec.encode(try WireCodec.decode(T.self, from: bytes, compressed: false), compress: false)
        }
        switch type {
        case "JoinRequest": return try roundTrip(JoinRequest.self)
        case "JoinResponse": return try roundTrip(JoinResponse.self)
        case "PushRequest": return try roundTrip(PushRequest.self)
        case "PushResponse": return try roundTrip(PushResponse.self)
        case "PullRequest": return try roundTrip(PullRequest.self)
        case "PullResponse": return try roundTrip(PullResponse.self)
        case "BlobList": return try roundTrip(BlobList.self)
        case "VersionInfo": return try roundTrip(VersionInfo.self)
        case "Error":
            guard let e = WireCodec.decodeError(bytes, status: 400) else { throw TestFailure("not an error body") }
            return WireCodec.errorBody(e)
        default: throw TestFailure("no Swift type for \(type)")
        }
    }

    // MARK: - Tests

    @Test func vectorsMatchTheDepotAndDecodeIntoTheSwiftTypes() throws {
        let recorded = try Self.record()
        if ProcessInfo.processInfo.environment["TALLY_WRITE_SYNC_VECTORS"] == "1" {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try FileManager.default.createDirectory(at: Self.vectorDir, withIntermediateDirectories: true)
            // Empty arrays and objects on one line, as people write them.
            let empty = try NSRegularExpression(pattern: "([\\[{])\\n\\s*\\n?\\s*([\\]}])")
            for x in recorded {
                let text = String(decoding: try e.encode(try Self.fileJSON(x)), as: UTF8.self)
                let tidy = empty.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1$2")
                try Data((tidy + "\n").utf8).write(to: Self.vectorDir.appendingPathComponent(x.file))
            }
            print("wrote \(recorded.count) vectors to \(Self.vectorDir.path)")
        }
        let validator = try SchemaValidator(directory: Self.schemaDir)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.vectorDir.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files == recorded.map(\.file), "the vector files are the recorded exchanges; regenerate with TALLY_WRITE_SYNC_VECTORS=1")

        for x in recorded {
            let v = try JSONValue.parse(Array(try Data(contentsOf: Self.vectorDir.appendingPathComponent(x.file))))
            let req = try #require(v["request"]), res = try #require(v["response"])
            #expect(req["method"]?.string == x.method && req["path"]?.string == x.path, "\(x.file)")

            // Each body: plain and compressed forms agree, decode into the Swift type and back to
            // the same canonical bytes, and conform to the schema.
            for (part, body, deflated, schema) in [("request", req["body"], req["deflated"], req["schema"]),
                                                   ("response", res["body"], res["deflated"], res["schema"])] {
                guard let body else { #expect(part == "request" && x.requestBody == nil, "\(x.file): no \(part) body"); continue }
                let where_ = "\(x.file) \(part)"
                let compressed = try #require(deflated?.string.flatMap { Data(base64Encoded: $0) }, "\(where_): deflated is base64")
                let inflated = try Deflate.decompress(Array(compressed), limit: WireLimits.maxInflated)
                #expect(try JSONValue.parse(inflated) == body, "\(where_): the compressed form inflates to the plain form")
                if let schemaName = schema?.string {
                    let type = String(schemaName.dropLast(".schema.json".count))
                    let canonical = try Self.decodeAs(type, inflated)
                    #expect(canonical == inflated, "\(where_): \(type) decodes and encodes back to the same bytes")
                    let errors = validator.validate(body, against: schemaName)
                    #expect(errors.isEmpty, "\(where_) against \(schemaName): \(errors)")
                } else {
                    // A deliberately invalid request (protocol 2): still valid JSON, outside the schema.
                    #expect(!validator.validate(body, against: "PullRequest.schema.json").isEmpty, "\(where_) should break the schema")
                }
            }

            // The file is what the depot does today.
            if let body = x.requestBody { #expect(req["body"] == (try JSONValue.parse(body)), "\(x.file): request differs from the recording") }
            #expect(res["status"]?.int == Int64(x.status), "\(x.file): status")
            let live = try JSONValue.parse(x.responseBody)
            if x.status < 400 {
                #expect(res["body"] == live, "\(x.file): the depot now answers \(live)")
            } else {
                #expect(res["body"]?["error"]?["code"] == live["error"]?["code"], "\(x.file): the depot now answers \(live)")
                #expect(res["body"]?["error"]?["message"]?.string?.isEmpty == false)
            }
        }
        let statuses = recorded.map(\.status)
        #expect(statuses == [200, 200, 200, 200, 200, 200, 200, 403, 400, 403])
    }

    @Test func schemasAreWellFormedAndTheValidatorBites() throws {
        let validator = try SchemaValidator(directory: Self.schemaDir)
        #expect(validator.schemaNames == ["AlarmRequest", "BlobList", "Change", "Error", "HelloResponse", "JoinRequest", "JoinResponse",
                                          "PullRequest", "PullResponse",
                                          "PushRequest", "PushResponse", "SettlementRequest", "VersionInfo", "VersionVector"].map { "\($0).schema.json" })
        func json(_ s: String) throws -> JSONValue { try JSONValue.parse(Array(s.utf8)) }
        let site = String(repeating: "0", count: 31) + "a"
        let good = #"{"table": "tickets", "key": "T1", "cl": 1, "values": {"note": "x", "stop": 3, "ref": null, "sig": {"blob": "AAE="}}, "hlc": "018bcfe568000000", "site": "\#(site)", "seq": 1}"#
        #expect(validator.validate(try json(good), against: "Change.schema.json").isEmpty)
        for (bad, why) in [
            (good.replacingOccurrences(of: "018bcfe568000000", with: "018bcfe56800000"), "a 15-digit clock"),
            (good.replacingOccurrences(of: #""cl": 1"#, with: #""cl": 0"#), "causal length 0"),
            (good.replacingOccurrences(of: #""stop": 3"#, with: #""stop": 3.5"#), "a floating-point value"),
            (good.replacingOccurrences(of: #""seq": 1"#, with: #""seq": 1, "extra": true"#), "an unknown field"),
            (good.replacingOccurrences(of: #""note""#, with: #""Note""#), "a column name in capitals"),
            (good.replacingOccurrences(of: #"{"blob": "AAE="}"#, with: #"{"blob": "AAE=", "x": 1}"#), "a blob with more fields"),
        ] {
            #expect(!validator.validate(try json(bad), against: "Change.schema.json").isEmpty, "\(why) must break Change")
        }
        #expect(!validator.validate(try json(#"{"error": {"code": "bad_request", "message": ""}}"#), against: "Error.schema.json").isEmpty)
        #expect(!validator.validate(try json(#"{"error": {"code": "teapot", "message": "x"}}"#), against: "Error.schema.json").isEmpty)
        #expect(!validator.validate(try json(#"{"abc": 1}"#), against: "VersionVector.schema.json").isEmpty)
        #expect(validator.validate(try json(#"{"\#(site)": 12}"#), against: "VersionVector.schema.json").isEmpty)

        // Every message Swift encodes conforms: the join answer's schema is the real route schema.
        let join = JoinResponse(device: "van-a", role: "van", route: "R07", schema: RouteSchema.current)
        let joinJSON = try JSONValue.parse(try WireCodec.encode(join, compress: false))
        #expect(validator.validate(joinJSON, against: "JoinResponse.schema.json").isEmpty)
        let acct = JoinResponse(device: "accounts", role: "accountant", route: nil, schema: RouteSchema.current)
        #expect(validator.validate(try JSONValue.parse(try WireCodec.encode(acct, compress: false)), against: "JoinResponse.schema.json").isEmpty)
        let settle = SettlementRequest(date: "2026-11-28", device: "van-07", note: "司机次日补交", unclosed: false)
        #expect(validator.validate(try JSONValue.parse(try WireCodec.encode(settle, compress: false)), against: "SettlementRequest.schema.json").isEmpty)
        #expect(!validator.validate(try json(#"{"protocol": 1, "date": "28/11/2026"}"#), against: "SettlementRequest.schema.json").isEmpty)
        let info = VersionInfo(tally: "0.1.0", schemaVersion: 1)
        #expect(validator.validate(try JSONValue.parse(try WireCodec.encode(info, compress: false)), against: "VersionInfo.schema.json").isEmpty)
        for e in [WireError.missingCredential, .badCredential, .revoked, .tooLarge("x"), .clockDrift("y"), .upgradeRequired("z")] {
            #expect(validator.validate(try JSONValue.parse(WireCodec.errorBody(e)), against: "Error.schema.json").isEmpty, "\(e.code)")
        }
    }
}
