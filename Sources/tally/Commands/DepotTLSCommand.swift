import ArgumentParser
import Foundation
import TallyDepot

/// Makes the depot's own CA and serving certificate, for a depot on a private network.
struct DepotTLSCommand: TallyCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Make the depot's HTTPS certificate (and its own CA, the first time) in DIR/tls.",
        discussion: """
            Devices trust the CA (tls/ca.pem): give it to each with its credential, for `tally join URL --ca ca.pem`.
            Run again to renew the serving certificate or add a name; the CA stays, so devices need nothing new.
            Keep tls/ca-key.pem and tls/depot-key.pem private (they are written readable by their owner only).
            """)

    @OptionGroup var data: DataOption
    @Option(name: .customLong("host"), help: "A name or IP address devices reach the depot by (repeat for several).")
    var hosts: [String] = []
    @Option(help: "Days the serving certificate is valid.")
    var days = 825

    func execute() throws {
        guard FileManager.default.fileExists(atPath: data.folder.replicaPath) else { throw DepotError.notADepot(data.data) }
        let certs = DepotCertificates(depotFolder: data.data)
        let made = try certs.make(hosts: hosts, days: days, now: Date())
        let until = ISO8601DateFormatter.string(from: made.notAfter, timeZone: .current, formatOptions: [.withFullDate])
        Console.out("""
            \(made.newCA ? "made the depot's CA: \(certs.caPath)" : "kept the depot's CA: \(certs.caPath)")
            made the serving certificate for \(made.hosts.joined(separator: ", ")), valid until \(until): \(certs.certificatePath)
            serve:  tally depot serve --data \(data.data) --host 0.0.0.0 --port 8443 --tls-cert \(certs.certificatePath) --tls-key \(certs.keyPath)
            join:   tally join https://\(made.hosts[0]):8443 --ca ca.pem --credential TOKEN   (give each device \(certs.caPath))
            """)
    }
}
