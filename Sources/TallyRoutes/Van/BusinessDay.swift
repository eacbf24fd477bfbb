/// Which business day a van works: the manifest date of its tickets, not the wall clock, so a
/// van working past midnight or depositing the next morning still has one day. A pure rule.
public enum BusinessDay {
    /// The earliest date of the route this van has not closed, skipping a date it recorded
    /// nothing on when a later date is there to work and that date is someone else's or over:
    /// another van closed it (a relief van joining on day N+1 does not inherit day N), or it is
    /// before today. A day the van worked stays its working day until it closes it. When every
    /// date is closed, the last one, closed.
    public static func choose(dates: Set<String>, closedHere: Set<String>, closedElsewhere: Set<String>, worked: Set<String>,
                              today: String) -> WorkingDay? {
        choose(dates: dates, closedHere: closedHere, closedElsewhere: closedElsewhere, today: today, worked: { worked.contains($0) })
    }

    /// The same, asking whether the van worked a date only for a date it might skip: every scan
    /// and delivery asks for the working day, and a van on its last date never has to look.
    public static func choose(dates: Set<String>, closedHere: Set<String>, closedElsewhere: Set<String>, today: String,
                              worked: (String) throws -> Bool) rethrows -> WorkingDay? {
        let sorted = dates.sorted()
        guard let last = sorted.last else { return nil }
        for (i, d) in sorted.enumerated() where !closedHere.contains(d) {
            let skippable = i + 1 < sorted.count && (closedElsewhere.contains(d) || d < today)
            if try skippable && !worked(d) { continue }
            return WorkingDay(date: d, closed: false)
        }
        return WorkingDay(date: last, closed: true)
    }
}
