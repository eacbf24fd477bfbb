/// Whether the request coming in on one connection arrives fast enough: a plain state machine
/// over the parts of a request and the end of each answer, with times in seconds. The handler
/// around it (`RequestGuard`) does the I/O and asks it when to look next and what to do then.
///
/// A connection is either waiting for a request head (since it opened or since its last answer
/// ended), reading a request (head seen, end not yet: its body must come within `deadline`
/// and, after `grace`, at `minBodyRate` on average), or only waiting for the depot's answer,
/// which the timer does not judge. A request answered before its body was read (401, 503 busy)
/// is still being read while its body drains, and is judged the same way.
struct RequestTimer {
    /// Why a request is dropped.
    enum Verdict: String, Equatable {
        /// The head did not arrive whole within the deadline (headers sent a byte at a time).
        case slowHead = "slow_head"
        /// The body fell under the rate floor.
        case slowBody = "slow_body"
        /// The request was not whole within the deadline.
        case deadline
    }

    let limits: RequestLimits
    /// No request in progress since then: a head must come by `waitingSince + deadline`.
    private(set) var waitingSince: Double?
    /// The request being read: when its head came and its body bytes so far.
    private(set) var reading: (started: Double, received: Int)?
    /// A head was read and its answer has not ended yet.
    private(set) var answerOwed = false

    init(limits: RequestLimits, now: Double) {
        self.limits = limits
        waitingSince = now
    }

    mutating func head(at now: Double) {
        waitingSince = nil
        reading = (now, 0)
        answerOwed = true
    }

    mutating func body(_ bytes: Int) {
        reading?.received += bytes
    }

    mutating func end(at now: Double) {
        reading = nil
        if !answerOwed { waitingSince = now }
    }

    /// The answer's last part was written.
    mutating func answered(at now: Double) {
        answerOwed = false
        if reading == nil { waitingSince = now }
    }

    /// When the verdict may change next; nil while only the depot's answer is awaited.
    var nextCheck: Double? {
        if let r = reading {
            let deadline = r.started + limits.deadline
            guard limits.minBodyRate > 0 else { return deadline }
            return min(deadline, r.started + limits.grace + Double(r.received) / limits.minBodyRate)
        }
        return waitingSince.map { $0 + limits.deadline }
    }

    /// What to do with the connection at `now`: nil to let it go on.
    func verdict(at now: Double) -> Verdict? {
        if let r = reading {
            if now >= r.started + limits.deadline { return .deadline }
            if limits.minBodyRate > 0, now >= r.started + limits.grace + Double(r.received) / limits.minBodyRate { return .slowBody }
            return nil
        }
        if let w = waitingSince, now >= w + limits.deadline { return .slowHead }
        return nil
    }
}
