import Foundation
import Testing
import TallyDepot
import TallyReplica

/// Credentials: 256-bit secrets, rotated without a new join (the old one refused at once).
@Suite struct CredentialRotationTests {
    @Test func aRotatedCredentialRefusesTheOldOneAndTheDeviceCarriesOnWithTheNew() async throws {
        let scratch = try Scratch("rotate")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-a", route: "R07")
        #expect(van.credential.count == 10 + 44, "a 10-character id and a 44-character (256-bit) secret")
        _ = try writeEvents(van, count: 3, prefix: "EV-before")
        #expect(try await van.sync(scratch).status == 0)

        let rotate = try await Tool.run(["depot", "rotate", "van-a", "--data", depot.data, "--json"], in: scratch)
        #expect(rotate.status == 0, "\(rotate)")
        let token = try #require(rotate.stdout.split(separator: "\"").map(String.init).first { $0.count == 54 && $0 != van.credential })
        _ = try writeEvents(van, count: 2, prefix: "EV-after")
        let old = try await van.sync(scratch)
        #expect(old.status == 77, "the old credential is refused at once: \(old)")

        let set = try await Tool.run(["credential", token, "--replica", van.path], in: scratch)
        #expect(set.status == 0, "\(set)")
        let again = try await van.sync(scratch)
        #expect(again.status == 0, "\(again)")
        #expect(try depot.rows("events").count == 5, "nothing lost across the rotation")
        let log = try await Tool.run(["depot", "audit", "--data", depot.data], in: scratch)
        #expect(log.stdout.contains("rotate"))
        await depot.stop()
    }

    @Test func aCredentialIssuedBeforeLongerSecretsStillParses() {
        let legacy = "abcdefghij" + String(repeating: "A", count: 32)
        #expect(Credential(token: legacy)?.secret.count == 32)
        #expect(Credential(token: String(legacy.dropLast())) == nil)
    }
}
