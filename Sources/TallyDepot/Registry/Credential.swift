import Crypto

/// A device credential: a 10-character id and a 44-character secret (256 bits from the system's
/// secure random source), letters and digits only (safe to paste into a shell). The depot
/// stores only the secret's SHA-256. Credentials issued before carry 32-character secrets and
/// are still accepted.
public struct Credential: Sendable, Equatable {
    public static let idLength = 10
    public static let secretLength = 44
    /// Secrets of credentials issued before 256-bit secrets.
    static let legacySecretLength = 32
    static let idAlphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
    static let secretAlphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")

    public var id: String
    public var secret: String

    public var token: String { id + secret }

    /// A fresh credential from the system's secure random source (never a seeded one).
    public static func generate() -> Credential {
        var g = SystemRandomNumberGenerator()
        func pick(_ n: Int, _ a: [Character]) -> String { String((0..<n).map { _ in a.randomElement(using: &g)! }) }  // safe: alphabets are not empty
        return Credential(id: pick(idLength, idAlphabet), secret: pick(secretLength, secretAlphabet))
    }

    /// Splits a pasted token; nil when it cannot be one.
    public init?(token: String) {
        let t = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard t.count == Self.idLength + Self.secretLength || t.count == Self.idLength + Self.legacySecretLength, t.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        id = String(t.prefix(Self.idLength))
        secret = String(t.dropFirst(Self.idLength))
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    /// Compares in time independent of where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

import Foundation
