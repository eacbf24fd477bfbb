/// One stored row as the merge sees it: values and stamps per declared column, and the row's
/// causal length.
struct RowState {
    var exists: Bool
    var values: [Value]
    var stamps: [Stamp]
    var cl: Int64

    static func absent(columns: Int) -> RowState {
        RowState(exists: false, values: Array(repeating: .null, count: columns),
                 stamps: Array(repeating: .none, count: columns), cl: 0)
    }

    var isLive: Bool { exists && cl % 2 == 1 }
}
