import ArgumentParser
import Foundation
import TallyDepot
import TallyReplica

/// Where a command reads a device's credential: a file (the one `tally depot enroll
/// --credential-out` wrote), standard input, or `$TALLY_CREDENTIAL`, so that it never has to
/// stand on a command line, where `ps` shows it to every user of the machine. `--credential
/// TOKEN` still works, with a warning.
struct CredentialInput: ParsableArguments {
    @Option(help: ArgumentHelp("Read the credential from this file, `-` for standard input (the file `tally depot enroll "
        + "--credential-out` wrote). Or set TALLY_CREDENTIAL.", valueName: "file"))
    var credentialFile: String?
    @Option(help: "The credential itself (every user of this machine sees it in `ps`: prefer --credential-file or TALLY_CREDENTIAL).")
    var credential: String?

    static let environment = "TALLY_CREDENTIAL"

    /// Whether any source gives a credential.
    var isGiven: Bool { credentialFile != nil || credential != nil || Self.fromEnvironment != nil }

    /// The credential, from the one source given; nil when none is.
    func token() throws -> String? { try Self.token(file: credentialFile, inline: credential) }

    /// The credential or a refusal saying how to give one.
    func required(for what: String) throws -> String { try Self.required(for: what, file: credentialFile, inline: credential) }

    static func token(file credentialFile: String?, inline credential: String?) throws -> String? {
        if credentialFile != nil && credential != nil {
            throw ValidationError("give the credential once: --credential-file FILE or --credential TOKEN, not both")
        }
        if let file = credentialFile { return try Self.read(file) }
        if let credential {
            if isatty(STDERR_FILENO) == 1 { Console.err("tally: note: a credential typed on the command line is visible to other users "
                + "of this machine (ps); "
                + "next time use --credential-file FILE or TALLY_CREDENTIAL") }
            return credential.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return Self.fromEnvironment
    }

    static func required(for what: String, file: String?, inline: String?) throws -> String {
        guard let t = try token(file: file, inline: inline) else {
            throw ValidationError("\(what) needs the device's credential: --credential-file FILE (the file `tally depot enroll "
                + "--credential-out` wrote), --credential-file - to read it from standard input, or TALLY_CREDENTIAL")
        }
        return t
    }

    static var fromEnvironment: String? {
        ProcessInfo.processInfo.environment[environment].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The first non-empty line of a file or of standard input.
    static func read(_ file: String) throws -> String {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read the credential file \(file); check the path (`tally depot enroll --credential-out` writes it)")
            }
            data = d
        }
        let line = String(decoding: data.prefix(4096), as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        guard let line else {
            throw ValidationError(file == "-" ? "standard input held no credential" : "the credential file \(file) is empty")
        }
        return line
    }
}

/// `--credential-out FILE`: where `tally depot enroll` and `rotate` write a new credential
/// (mode 0600, from its first byte) instead of printing it, for `--credential-file` on the device.
struct CredentialOut: ParsableArguments {
    @Option(help: ArgumentHelp("Write the credential to this new file (readable by you only) instead of printing it.", valueName: "file"))
    var credentialOut: String?

    /// Refuses, before anything is enrolled, a file that exists or a folder that is missing.
    func check() throws {
        guard let file = credentialOut else { return }
        if FileManager.default.fileExists(atPath: file) {
            throw ValidationError("\(file) already exists; choose a new file for the credential (an old one is never overwritten)")
        }
        let folder = (file as NSString).deletingLastPathComponent
        guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
            throw ValidationError("cannot write in \(folder.isEmpty ? "." : folder); choose a folder you can write for --credential-out")
        }
    }

    /// Writes the credential when a file was named; returns the file.
    func write(_ credential: Credential, device: String) throws -> String? {
        guard let file = credentialOut else { return nil }
        do {
            try PrivateFiles.write(Array((credential.token + "\n").utf8), to: file)
        } catch {
            throw DepotError.refused("\(device) now has a credential, but it could not be written to \(file) (\(error)); "
                + "issue another with `tally depot rotate \(device)`")
        }
        return file
    }
}
