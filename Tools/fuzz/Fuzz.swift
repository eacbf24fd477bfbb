import Foundation
import TallyProtocol
import TallyReconcile
import TallyReplica
import TallyRoutes

/// libFuzzer targets (built with `-sanitize=fuzzer`, run by `Tools/fuzz.sh`): the inputs a
/// depot or a device takes from outside. `TALLY_FUZZ_TARGET` picks one:
/// - `push`: a push body, plain and zlib-compressed (`WireCodec.decodePush`, the hand-written
///   parser);
/// - `manifest`: the order system's CSV manifest (`Manifest.parse`);
/// - `bank`: a bank statement (`BankStatement.parse`);
/// - `signature`: a ledger entry's signature check on arbitrary bytes, keys and signatures
///   (`SignedEvent`, `Hex`).
/// Every input must be refused with an error or accepted; a crash or a hang is a bug.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch target {
    case .push:
        _ = try? WireCodec.decodePush(from: bytes, compressed: false)
        _ = try? WireCodec.decodePush(from: bytes, compressed: true)
    case .manifest:
        _ = try? Manifest.parse(bytes)
    case .bank:
        _ = try? BankStatement.parse(bytes)
    case .signature:
        // Split the input into a public key, a signature and the rest, as hex and raw.
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        let key = parts.count > 0 ? parts[0] : ""
        let sig = parts.count > 1 ? parts[1] : ""
        let rest = parts.count > 2 ? Array(parts[2...].joined(separator: "\n").utf8) : []
        _ = Hex.bytes(key)
        _ = SignedEvent.verify(rest, sig: sig, publicKey: key)
        var values: [String: Value] = [:]
        for (i, c) in SignedEvent.columns.enumerated() where i < bytes.count {
            values[c] = bytes[i] % 3 == 0 ? .null : bytes[i] % 3 == 1 ? .integer(Int64(bytes[i]) - 128) : .text(String(decoding: bytes.prefix(i), as: UTF8.self))
        }
        let signed = SignedEvent.bytes(id: text, values)
        _ = SignedEvent.verify(signed, sig: sig, publicKey: key)
        _ = SignedEvent.hash(signed)
    }
    return 0
}

enum Target: String {
    case push, manifest, bank, signature
}

let target: Target = {
    guard let raw = getenv("TALLY_FUZZ_TARGET"), let t = Target(rawValue: String(cString: raw)) else { return .push }
    return t
}()

#if TALLY_FUZZ
/// libFuzzer's driver (from the runtime `-sanitize=fuzzer` links in).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// The executable's entry point under SwiftPM (which names it after the module): hands over to
/// libFuzzer's driver.
@_cdecl("tally_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzOne(data, size) }
}
#else
/// Without libFuzzer (the normal build): replays files through the same target, so every
/// input once found to crash stays a regression check (`tally-fuzz TARGET FILE...`).
@main
struct FuzzReplay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let first = args.first, Target(rawValue: first) != nil else {
            print("usage: tally-fuzz push|manifest|bank|signature FILE...  (libFuzzer runs: Tools/fuzz/fuzz.sh)")
            exit(2)
        }
        setenv("TALLY_FUZZ_TARGET", first, 1)
        var n = 0
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let bytes = Array(data)
            _ = bytes.withUnsafeBufferPointer { fuzzOne($0.baseAddress, $0.count) }
            n += 1
        }
        print("\(first): \(n) inputs replayed, none crashed")
    }
}
#endif
