import Crypto
import Foundation
import SwiftASN1
import TallyReplica
import X509

/// The depot's own small certificate authority, for a depot on a private network that has no
/// public certificate: a CA whose `ca.pem` the staff hand to each device at join, and the
/// depot's serving certificate signed by it for the names and addresses devices use.
///
/// Kept in the depot folder's `tls/`: `ca.pem` (public, for devices), `ca-key.pem` (private,
/// only for making the next serving certificate), `depot.pem` and `depot-key.pem` (what
/// `tally depot serve --tls-cert --tls-key` loads). Making them again keeps an existing CA, so
/// a renewed serving certificate needs nothing new on the devices.
public struct DepotCertificates: Sendable {
    public let folder: String

    public init(depotFolder: String) {
        folder = (depotFolder as NSString).appendingPathComponent("tls")
    }

    public var caPath: String { file("ca.pem") }
    public var caKeyPath: String { file("ca-key.pem") }
    public var certificatePath: String { file("depot.pem") }
    public var keyPath: String { file("depot-key.pem") }

    /// What was made.
    public struct Made: Sendable {
        /// False when an existing CA was reused.
        public var newCA: Bool
        public var hosts: [String]
        public var notAfter: Date
    }

    /// Makes the serving certificate for `hosts` (DNS names or IP addresses), valid `days` from
    /// `now`, and the CA first if there is none yet.
    public func make(hosts: [String], days: Int, now: Date) throws -> Made {
        guard !hosts.isEmpty else { throw DepotError.refused("name at least one --host the devices will use to reach the depot") }
        guard (1...3650).contains(days) else { throw DepotError.refused("--days must be between 1 and 3650") }
        try PrivateFiles.folder(folder)
        let (caKey, caCert, newCA) = try loadOrMakeCA(now: now)

        let key = P256.Signing.PrivateKey()
        let notAfter = now.addingTimeInterval(Double(days) * 86_400)
        let names = try hosts.map(Self.generalName)
        let subject = try DistinguishedName {
            CommonName(hosts[0])
            OrganizationName("Tally depot")
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: notAfter,
            issuer: caCert.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                AuthorityKeyIdentifier(keyIdentifier: try caCert.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(caKey))
        // The chain the depot presents: its own certificate, then the CA's.
        try write(try cert.serializeAsPEM().pemString + "\n" + (try caCert.serializeAsPEM().pemString) + "\n", to: certificatePath, secret: false)
        try write(key.pemRepresentation + "\n", to: keyPath, secret: true)
        return Made(newCA: newCA, hosts: hosts, notAfter: notAfter)
    }

    private func loadOrMakeCA(now: Date) throws -> (P256.Signing.PrivateKey, Certificate, Bool) {
        let fm = FileManager.default
        if fm.fileExists(atPath: caKeyPath), fm.fileExists(atPath: caPath) {
            let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyPath, encoding: .utf8))
            let cert = try Certificate(pemEncoded: String(contentsOfFile: caPath, encoding: .utf8))
            return (key, cert, false)
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("Tally depot CA")
            OrganizationName("Tally depot")
        }
        let ski = Array(SHA256.hash(data: key.publicKey.x963Representation).prefix(20))
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(20 * 365 * 86_400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: ArraySlice(ski))
            },
            issuerPrivateKey: .init(key))
        try write(key.pemRepresentation + "\n", to: caKeyPath, secret: true)
        try write(try cert.serializeAsPEM().pemString + "\n", to: caPath, secret: false)
        return (key, cert, true)
    }

    /// A DNS name, or an IPv4/IPv6 address as its bytes.
    static func generalName(_ host: String) throws -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v4) { Array($0) })))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: &v6) { Array($0) })))
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw DepotError.refused("'\(host)' is neither a host name nor an IP address")
        }
        return .dnsName(host.lowercased())
    }

    private func file(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    private func write(_ text: String, to path: String, secret: Bool) throws {
        if secret {
            try PrivateFiles.write(Array(text.utf8), to: path)  // 0600 from its first byte
            return
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    }
}
