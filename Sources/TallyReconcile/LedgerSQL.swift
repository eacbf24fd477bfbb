/// SQL the settlement reports share over the replica's `events` table.
enum LedgerSQL {
    /// True for an entry no `void` of the same day names; `?1` is the day.
    static let notVoided = "id NOT IN (SELECT ref FROM events WHERE day = ?1 AND kind = 'void' AND tally_cl % 2 = 1 AND ref IS NOT NULL)"
}
