import Foundation
import TallyReplica
import TallyRoutes

/// The device process the simulator kills with SIGKILL mid-write:
///
///     tally-sim child-write PATH NAME van|window SCOPE DAY PREFIX
///
/// writes one signed entry per transaction into the device's replica until killed, printing
/// each id (unbuffered) only after its commit returned: every printed id is one the device
/// acknowledged to its user.
enum ChildWriter {
    static func main(_ args: [String]) -> Never {
        guard args.count == 6, let role = SimDevice.Role(rawValue: args[2]) else {
            FileHandle.standardError.write(Data("usage: tally-sim child-write PATH NAME van|window SCOPE DAY PREFIX\n".utf8))
            exit(2)
        }
        let (path, name, scope, day, prefix) = (args[0], args[1], args[3], args[4], args[5])
        do {
            let device = SimDevice(name: name, role: role, scope: scope, path: path, skewMs: 0)
            let replica = try Replica.open(at: path, options: .quiet())
            let key = try DeviceKey.stored(in: replica)
            var n = 0
            while true {
                n += 1
                let id = "\(prefix)\(n)"
                try replica.write { tx in
                    let kind: EventKind = role == .van ? .deliver : .fee
                    _ = try EventChain.insert(tx, id: id, device.row(kind: kind, amount: Int64(n * 100), day: day, ticket: "\(scope)-\(day)-K\(n)"), key: key)
                }
                FileHandle.standardOutput.write(Data((id + "\n").utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("child-write: \(error)\n".utf8))
            exit(1)
        }
    }
}
