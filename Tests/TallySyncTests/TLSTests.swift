import Foundation
import Testing
import TallyReplica
import TallySync

/// HTTPS end to end on loopback: the depot's own CA and certificate made in the test with
/// `tally depot tls`, a real depot serving them, devices that trust only that CA.
@Suite struct TLSTests {
    @Test func aDeviceSyncsOverHTTPSTrustingOnlyTheDepotsCA() async throws {
        let scratch = try Scratch("tls")
        let depot = try await DepotProcess(scratch)
        let made = try await Tool.run(["depot", "tls", "--data", depot.data, "--host", "127.0.0.1", "--host", "localhost"], in: scratch)
        #expect(made.status == 0, "\(made)")
        #expect(made.stdout.contains("made the depot's CA"))
        let tls = depot.data + "/tls"
        let ca = tls + "/ca.pem"
        for key in ["ca-key.pem", "depot-key.pem"] {
            let mode = try FileManager.default.attributesOfItem(atPath: "\(tls)/\(key)")[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(key) is readable by its owner only")
        }
        try await depot.start(extra: ["--tls-cert", tls + "/depot.pem", "--tls-key", tls + "/depot-key.pem"])
        #expect(depot.url.hasPrefix("https://127.0.0.1:"))

        // Joined with the depot's CA: syncs.
        let credential = try await depot.enroll("van-a", route: "R07")
        let van = scratch.path("van-a.sqlite")
        let join = try await Tool.run(["join", depot.url, "--credential", credential, "--replica", van, "--ca", ca], in: scratch)
        #expect(join.status == 0, "\(join)")
        let device = DeviceFile(name: "van-a", route: "R07", path: van, credential: credential)
        let ids = try writeEvents(device, count: 4, prefix: "EV-tls")
        let sync = try await device.sync(scratch)
        #expect(sync.status == 0, "\(sync)")
        #expect(Set(try depot.rows("events").map(\.key)) == Set(ids))

        // Without the CA (the system's CAs only) the depot's certificate is not trusted, and
        // nothing is created.
        let other = try await depot.enroll("van-b", route: "R08")
        let noCA = try await Tool.run(["join", depot.url, "--credential", other, "--replica", scratch.path("van-b.sqlite")], in: scratch)
        #expect(noCA.status == 1, "\(noCA)")
        #expect(noCA.stderr.contains("does not trust"), "\(noCA.stderr)")
        #expect(noCA.stderr.contains("--ca"), "the message says what to do: \(noCA.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("van-b.sqlite")))

        // Another depot's CA (someone in the middle with a certificate of their own): refused.
        let stranger = scratch.path("stranger")
        #expect(try await Tool.run(["depot", "init", "--data", stranger], in: scratch).status == 0)
        #expect(try await Tool.run(["depot", "tls", "--data", stranger, "--host", "127.0.0.1"], in: scratch).status == 0)
        let wrongCA = try await Tool.run(["join", depot.url, "--credential", other, "--replica", scratch.path("van-b.sqlite"),
                                          "--ca", stranger + "/tls/ca.pem"], in: scratch)
        #expect(wrongCA.status == 1 && wrongCA.stderr.contains("does not trust"), "\(wrongCA)")

        // A serving certificate renewed for another name (the CA kept): the device refuses it
        // as made for another name, and sends nothing.
        await depot.stop()
        let renamed = try await Tool.run(["depot", "tls", "--data", depot.data, "--host", "depot.example"], in: scratch)
        #expect(renamed.stdout.contains("kept the depot's CA"), "\(renamed)")
        try await depot.start(port: depot.port, extra: ["--tls-cert", tls + "/depot.pem", "--tls-key", tls + "/depot-key.pem"])
        _ = try writeEvents(device, count: 1, prefix: "EV-held")
        let wrongName = try await device.sync(scratch)
        #expect(wrongName.status == 1, "\(wrongName)")
        #expect(wrongName.stderr.contains("does not trust"), "\(wrongName.stderr)")
        #expect(try depot.rows("events").count == 4, "nothing crossed to a depot the device could not verify")

        // Renewed again for the right name, same CA: the device carries on with nothing new.
        await depot.stop()
        #expect(try await Tool.run(["depot", "tls", "--data", depot.data, "--host", "127.0.0.1"], in: scratch).status == 0)
        try await depot.start(port: depot.port, extra: ["--tls-cert", tls + "/depot.pem", "--tls-key", tls + "/depot-key.pem"])
        let resumed = try await device.sync(scratch)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(try depot.rows("events").count == 5, "the held entry arrives once")
        await depot.stop()
    }

    @Test func aDepotMovedToHTTPSKeepsItsDevicesAndTheirUnsyncedEntries() async throws {
        let scratch = try Scratch("tls-move")
        let depot = try await DepotProcess(scratch)
        try await depot.start()
        let van = try await DeviceFile.join(depot, "van-m", route: "R09")
        _ = try writeEvents(van, count: 3, prefix: "EV-plain")
        #expect(try await van.sync(scratch).status == 0)
        await depot.stop()

        #expect(try await Tool.run(["depot", "tls", "--data", depot.data, "--host", "127.0.0.1"], in: scratch).status == 0)
        let tls = depot.data + "/tls"
        try await depot.start(port: depot.port, extra: ["--tls-cert", tls + "/depot.pem", "--tls-key", tls + "/depot-key.pem"])
        _ = try writeEvents(van, count: 2, prefix: "EV-moved")
        let stale = try await van.sync(scratch)
        #expect(stale.status != 0, "plain HTTP to the HTTPS port does not sync: \(stale)")

        let moved = try await Tool.run(["trust", "--url", depot.url, "--ca", tls + "/ca.pem", "--replica", van.path], in: scratch)
        #expect(moved.status == 0, "\(moved)")
        let synced = try await van.sync(scratch)
        #expect(synced.status == 0, "\(synced)")
        #expect(try depot.rows("events").count == 5, "the entries written in between arrive, once")
        // Trust changed again with only a URL: the CA given before stays.
        #expect(try await Tool.run(["trust", "--url", depot.url, "--replica", van.path], in: scratch).status == 0)
        #expect(try await van.sync(scratch).status == 0, "the device still trusts the depot's CA")
        await depot.stop()
    }

    @Test func plainHTTPIsRefusedOffLoopbackUnlessAllowed() async throws {
        let scratch = try Scratch("plain")
        // The device refuses before sending anything (192.0.2.10 is a documentation address:
        // an attempt would end "unreachable", not with this message).
        let join = try await Tool.run(["join", "http://192.0.2.10:8080", "--credential", "x", "--replica", scratch.path("v.sqlite")], in: scratch)
        #expect(join.status == 1, "\(join)")
        #expect(join.stderr.contains("refusing plain http to 192.0.2.10"), "\(join.stderr)")

        let trust = DepotTrust()
        #expect(throws: SyncError.self) { try trust.check(URL(string: "http://depot.example:8080")!) }
        try trust.check(URL(string: "http://127.0.0.1:8080")!)
        try trust.check(URL(string: "http://localhost:8080")!)
        try trust.check(URL(string: "http://[::1]:8080")!)
        try trust.check(URL(string: "https://depot.example:8443")!)
        try DepotTrust(allowPlainHTTP: true).check(URL(string: "http://depot.example:8080")!)

        // The depot refuses to serve plain HTTP beyond loopback unless told.
        let depot = try await DepotProcess(scratch)
        let serve = try await Tool.run(["depot", "serve", "--data", depot.data, "--host", "0.0.0.0", "--port", "0"], in: scratch)
        #expect(serve.status != 0, "\(serve)")
        #expect(serve.stderr.contains("refusing to serve plain HTTP on 0.0.0.0"), "\(serve.stderr)")
        #expect(serve.stderr.contains("tally depot tls"), "the message says what to do: \(serve.stderr)")
        let halfTLS = try await Tool.run(["depot", "serve", "--data", depot.data, "--tls-cert", "x.pem"], in: scratch)
        #expect(halfTLS.status != 0 && halfTLS.stderr.contains("--tls-key"), "\(halfTLS)")
    }

    @Test func aWrongCertificateFileStopsTheDepotBeforeItListens() async throws {
        let scratch = try Scratch("badcert")
        let depot = try await DepotProcess(scratch)
        let bogus = scratch.path("bogus.pem")
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: bogus))
        let serve = try await Tool.run(["depot", "serve", "--data", depot.data, "--port", "0", "--tls-cert", bogus, "--tls-key", bogus], in: scratch)
        #expect(serve.status == 1, "\(serve)")
        #expect(serve.stderr.contains("cannot read a PEM certificate from \(bogus)"), "\(serve.stderr)")
        #expect(!serve.stdout.contains("listening"))
        let ca = try await Tool.run(["join", "https://127.0.0.1:1", "--credential", "x", "--replica", scratch.path("v.sqlite"), "--ca", bogus], in: scratch)
        #expect(ca.status == 1 && ca.stderr.contains("holds no PEM certificate"), "\(ca)")
    }
}
