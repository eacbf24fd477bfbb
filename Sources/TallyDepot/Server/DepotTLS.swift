import Foundation
import NIOSSL

/// The certificate and key the depot serves HTTPS with (PEM files: the certificate file may
/// hold the chain, the depot's own certificate first).
public struct DepotTLS: Sendable {
    public let certificatePath: String
    public let keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }

    /// Server settings: TLS 1.2 or later, the chain and key loaded now so a wrong file is told
    /// before the depot starts listening.
    func configuration() throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw DepotError.refused("cannot read a PEM certificate from \(certificatePath) (\(error)); give the file `tally depot tls` made (tls/depot.pem) or your own")
        }
        guard !chain.isEmpty else { throw DepotError.refused("\(certificatePath) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw DepotError.refused("cannot read a PEM private key from \(keyPath) (\(error)); give the key that goes with \(certificatePath)")
        }
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        return config
    }
}
