import Foundation

/// How cash leaves a driver's day when it is closed: every fen on hand is deposited, carried to
/// the next day on purpose (opening its float), or declared missing; a day is never closed with
/// cash the book cannot place. Pure rules, shared by the van (which refuses) and the depot
/// (which settles), so both read a closed day the same way.
public enum CashClose {
    /// Why a close was refused, each with what to do.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Cash on hand, and neither carried nor declared missing.
        case cashOnHand(Money)
        /// `--carry` and `--missing` do not add up to the cash on hand.
        case doesNotAddUp(onHand: Money, carry: Money, missing: Money)
        /// A carried or missing amount of zero or less.
        case notPositive(Money)
        /// A carry or a declaration without a reason.
        case noReason
        /// Nothing on hand to carry or declare.
        case nothingOnHand(Money)

        public var description: String {
            switch self {
            case .cashOnHand(let m):
                "the day cannot be closed with \(m) cash on hand: deposit it (`tally van deposit \(m) --bank-ref REF`), carry it to the next "
                    + "day on purpose (`close-day --carry \(m) --reason TEXT`), or declare it missing (`close-day --missing \(m) --reason TEXT`)"
            case .doesNotAddUp(let onHand, let carry, let missing):
                "carried \(carry) and missing \(missing) make \(carry + missing), but \(onHand) is on hand; together they must account for all of it"
            case .notPositive(let m):
                "\(m) cannot be carried or declared missing; give an amount more than 0.00"
            case .noReason:
                "say why the cash is carried over or missing with --reason TEXT; the accountant reads it"
            case .nothingOnHand(let m):
                "there is \(m) cash on hand, so there is nothing to carry over or declare missing; close the day without --carry or --missing"
            }
        }
    }

    /// What a close records beside the summary: cash carried and cash declared missing.
    public struct Decision: Sendable, Equatable {
        public var carry: Money
        public var missing: Money
        public var reason: String?
    }

    /// Decides a close from the cash on hand and the driver's declarations.
    public static func decide(onHand: Money, carry: Money?, missing: Money?, reason: String?) -> Result<Decision, Refusal> {
        let why = reason?.trimmingCharacters(in: .whitespaces)
        if carry == nil && missing == nil {
            return onHand > .zero ? .failure(.cashOnHand(onHand)) : .success(Decision(carry: .zero, missing: .zero, reason: nil))
        }
        for m in [carry, missing].compactMap({ $0 }) where m <= .zero { return .failure(.notPositive(m)) }
        guard onHand > .zero else { return .failure(.nothingOnHand(onHand)) }
        guard let why, !why.isEmpty else { return .failure(.noReason) }
        let c = carry ?? .zero, m = missing ?? .zero
        guard c + m == onHand else { return .failure(.doesNotAddUp(onHand: onHand, carry: c, missing: m)) }
        return .success(Decision(carry: c, missing: m, reason: why))
    }

    /// A closed day's cash outside the bank once deposits made after its close are counted:
    /// they first cover what was declared missing (the money was found), then what was carried
    /// (paid in before the next day began).
    public static func outstanding(carried: Money, missing: Money, depositedAfterClose: Money) -> (carried: Money, missing: Money) {
        let found = min(depositedAfterClose, missing)
        let rest = depositedAfterClose - found
        return (carried: max(.zero, carried - rest), missing: missing - found)
    }
}
