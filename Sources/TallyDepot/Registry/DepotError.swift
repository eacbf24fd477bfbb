/// Why a depot administration command refused: what happened and what to do.
public enum DepotError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    case notADepot(String)

    public var description: String {
        switch self {
        case .refused(let s): s
        case .notADepot(let dir): "\(dir) is not a depot data folder; create one with `tally depot init --data \(dir)`"
        }
    }
}
