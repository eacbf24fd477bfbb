import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization
import TallyProtocol

/// Sits on every connection between the HTTP decoder and the depot's handler, and keeps a
/// client from holding the depot with a request it sends slowly or never finishes:
/// - more open connections from one address than `maxConnectionsPerAddress` are closed at once;
/// - a head announcing a body over `WireLimits.maxBody` is answered `413` before a byte of the
///   body is read, and the connection closed;
/// - a request that does not arrive whole in time (`RequestTimer`) is answered `408`, the
///   request handler is told (its body read fails, so its place is freed) and the connection
///   closed.
/// The decisions are `RequestTimer`'s; this class only does the I/O.
final class RequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What a request handler's body read throws once the guard has dropped the request.
    struct Dropped: Error, Equatable {
        let verdict: RequestTimer.Verdict
    }

    private let limits: RequestLimits
    private let addresses: AddressCounts
    private var timer: RequestTimer
    private var check: Scheduled<Void>?
    private var opened = false
    /// The guard answered itself: inbound parts are discarded and the handler's answer dropped.
    private var answeredHere = false
    /// A response head went out for the current request and its end has not.
    private var responding = false
    /// Seconds the connection stays open after the guard's own answer, so the client can read
    /// it before the close (closing with its unread bytes queued would reset the connection).
    static let linger: TimeAmount = .seconds(1)

    init(limits: RequestLimits, addresses: AddressCounts) {
        self.limits = limits
        self.addresses = addresses
        timer = RequestTimer(limits: limits, now: Self.now())
    }

    static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { open(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        open(context)
        context.fireChannelActive()
    }

    /// Counts the connection against its address, or closes it when the address has too many.
    private func open(_ context: ChannelHandlerContext) {
        guard !opened else { return }
        opened = true
        timer = RequestTimer(limits: limits, now: Self.now())
        if limits.maxConnectionsPerAddress > 0, let address = context.channel.remoteAddress?.ipAddress, !RequestLimits.isExempt(address) {
            guard addresses.enter(address, limit: limits.maxConnectionsPerAddress) else {
                DepotMetrics.connectionRefused()
                context.close(promise: nil)
                return
            }
            let addresses = self.addresses
            context.channel.closeFuture.whenComplete { _ in addresses.leave(address) }
        }
        reschedule(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answeredHere else { return }
        let now = Self.now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let length = head.headerFields[.contentLength].flatMap(Int.init), length > WireLimits.maxBody {
                DepotMetrics.refused("too_large")
                answer(context, .tooLarge("the request announces \(length) bytes, over the limit of \(WireLimits.maxBody); sync in smaller batches"))
                return
            }
            timer.head(at: now)
            responding = false
        case .body(let bytes):
            timer.body(bytes.readableBytes)
        case .end:
            timer.end(at: now)
        }
        reschedule(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !answeredHere else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .body: break
        case .end:
            responding = false
            timer.answered(at: Self.now())
            reschedule(context)
        }
        context.write(data, promise: promise)
    }

    /// Looks again when the timer says the verdict may change.
    private func reschedule(_ context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        guard !answeredHere, let at = timer.nextCheck else { return }
        let deadline = NIODeadline.uptimeNanoseconds(UInt64(max(0, at) * 1e9) + 1_000_000)
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            guard let verdict = timer.verdict(at: Self.now()) else { return reschedule(context) }
            drop(context, verdict)
        }
    }

    /// Answers `408` (unless an answer is already under way), tells the request handler, and
    /// closes the connection.
    private func drop(_ context: ChannelHandlerContext, _ verdict: RequestTimer.Verdict) {
        DepotMetrics.refused(verdict.rawValue)
        let why: String = switch verdict {
        case .slowHead: "the request's head did not arrive within \(Int(limits.deadline)) s"
        case .slowBody: "the request's body came slower than \(Int(limits.minBodyRate)) bytes a second"
        case .deadline: "the request did not arrive whole within \(Int(limits.deadline)) s"
        }
        if responding {
            answeredHere = true
            context.close(promise: nil)
        } else {
            answer(context, .requestTimeout("\(why); the depot dropped it. Sync again on a better line"))
        }
        context.fireErrorCaught(Dropped(verdict: verdict))
    }

    /// Writes the guard's own answer and closes the connection after `linger`.
    private func answer(_ context: ChannelHandlerContext, _ error: WireError) {
        answeredHere = true
        check?.cancel()
        check = nil
        let body = WireCodec.errorBody(error)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: error.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: nil)
        let loop = context.eventLoop.assumeIsolated()
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            loop.scheduleTask(in: Self.linger) { context.close(promise: nil) }
        }
    }
}

/// Open connections by remote address, shared by every connection of a server.
final class AddressCounts: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts a connection from `address`; false (and nothing counted) past `limit`.
    func enter(_ address: String, limit: Int) -> Bool {
        counts.withLock { c in
            let n = c[address, default: 0]
            guard n < limit else { return false }
            c[address] = n + 1
            return true
        }
    }

    func leave(_ address: String) {
        counts.withLock { c in
            let n = (c[address] ?? 1) - 1
            c[address] = n > 0 ? n : nil
        }
    }

    func count(_ address: String) -> Int { counts.withLock { $0[address, default: 0] } }
}
