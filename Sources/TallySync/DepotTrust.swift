import Foundation
import NIOSSL

/// How a device trusts its depot: which certificate authority may vouch for the depot's
/// certificate, and whether plain HTTP may leave this machine.
///
/// A depot on a private network has no public certificate; its staff make one with `tally depot
/// tls` and hand out its `ca.pem` with each credential. A device given that CA trusts only it,
/// not the hundred-odd CAs of the system store, so a certificate bought elsewhere for the same
/// name does not let anyone in the middle. Without one the system's CAs are trusted, for a depot
/// with a public certificate.
public struct DepotTrust: Sendable, Hashable {
    /// PEM text of the CA that signed the depot's certificate; nil trusts the system's CAs.
    public var caPEM: String?
    /// Plain HTTP to a host other than this machine: cash and credentials would cross the
    /// network readable by anyone on it, so it is refused unless the depot staff chose it.
    public var allowPlainHTTP: Bool

    public init(caPEM: String? = nil, allowPlainHTTP: Bool = false) {
        self.caPEM = caPEM
        self.allowPlainHTTP = allowPlainHTTP
    }

    /// Reads a CA certificate file (PEM), refusing a file that holds none.
    public static func readCA(_ path: String) throws(SyncError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .untrustedSetup("cannot read the depot's CA file \(path); ask the depot staff for its ca.pem")
        }
        let pem = String(decoding: data, as: UTF8.self)
        do {
            guard !(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))).isEmpty else { throw NIOSSLError.failedToLoadCertificate }
        } catch {
            throw .untrustedSetup("\(path) holds no PEM certificate; it should be the depot's ca.pem, starting with -----BEGIN CERTIFICATE-----")
        }
        return pem
    }

    /// Refuses a URL this trust does not allow: plain HTTP beyond loopback, unless allowed.
    public func check(_ url: URL) throws(SyncError) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw .untrustedSetup("'\(url.absoluteString)' is not a depot URL; write it like https://depot.example:8443")
        }
        if scheme == "http" && !allowPlainHTTP && !Self.isLoopback(host) {
            throw .untrustedSetup("refusing plain http to \(host): credentials and cash would cross the network unencrypted; "
                + "use the depot's https:// address (with --ca FILE if the depot made its own certificate), "
                + "or --allow-plain-http if the depot staff say this line is private")
        }
    }

    /// This machine: 127.0.0.0/8, ::1 and localhost never leave it.
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// The TLS client settings: TLS 1.2 or later, the depot's name checked, and its certificate
    /// chained to the depot's CA when one was given, else to the system's.
    func tlsConfiguration() throws(SyncError) -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        config.certificateVerification = .fullVerification
        if let caPEM {
            do {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            } catch {
                throw .untrustedSetup("the depot CA stored on this device is not a certificate; join again with --ca FILE")
            }
        }
        return config
    }
}
