import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import NIOTLS
import Synchronization

/// Counts one listener's open connections against its cap.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Takes a place for a new connection; false (and nothing taken) when the listener is full.
    func take() -> Bool {
        let (_, now) = open.wrappingAdd(1, ordering: .relaxed)
        if now <= limit { return true }
        open.wrappingSubtract(1, ordering: .relaxed)
        return false
    }

    /// Gives a place back when a connection closes.
    func release() { open.wrappingSubtract(1, ordering: .relaxed) }

    /// Connections open now.
    var count: Int { open.load(ordering: .relaxed) }
}

/// One accepted connection of a Hearth listener: Hummingbird's HTTP/1 channel, and whom its
/// requests count against (known once the onion listener has read the PROXY header).
struct HearthConnection: ServerChildChannelValue {
    let http: HTTP1Channel.Value
    let peer: EventLoopFuture<PeerIdentity>
    var channel: any Channel { http.channel }
}

/// The child channel of every Hearth TLS listener, composed from Hummingbird's HTTP/1 channel and
/// NIOSSL: in front of them, the connection cap (a connection over it is closed as soon as it is
/// accepted, before any TLS work), on the onion listener the PROXY header, then TLS, then the
/// time-outs of ``ListenerLimits``, watched by ``ConnectionDeadlineHandler`` after TLS and
/// ``RequestProgressHandler`` after HTTP decoding.
struct HearthChildChannel: ServerChildChannel {
    typealias Value = HearthConnection

    let http: HTTP1Channel
    let tls: NIOSSLContext
    let limits: ListenerLimits
    let connections: ConnectionCounter
    let requiresProxyHeader: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.take() else {
            // Full: close at once. The accept already happened; nothing else is spent on it.
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ListenerFull())
        }
        let connections = self.connections
        channel.closeFuture.whenComplete { _ in connections.release() }
        let peer = channel.eventLoop.makePromise(of: PeerIdentity.self)
        return channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            if requiresProxyHeader {
                try pipeline.addHandler(ProxyHeaderHandler(peer: peer))
            } else {
                peer.succeed(.of(channel.remoteAddress))
            }
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
            try pipeline.addHandler(ConnectionDeadlineHandler(limits: limits))
        }.flatMap {
            http.setup(channel: channel, logger: logger)
        }.map { asyncChannel in
            HearthConnection(http: asyncChannel, peer: peer.futureResult)
        }.flatMapErrorThrowing { error in
            peer.fail(error)
            channel.close(promise: nil)
            throw error
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let peer = try? await value.peer.get() else {
            // No valid PROXY header: its handler has closed the connection. Close the HTTP side
            // too (its writer must be finished, as Hummingbird's handler would).
            try? await value.http.executeThenClose { _, _ in }
            return
        }
        await PeerIdentity.$current.withValue(peer) {
            await http.handle(value: value.http, logger: logger)
        }
    }
}

/// A connection refused because its listener holds ``ListenerLimits/maxConnections`` already.
struct ListenerFull: Error {}

/// What ``RequestProgressHandler`` tells ``ConnectionDeadlineHandler`` (an outbound user event).
enum RequestProgress {
    /// A request head arrived whole.
    case head
    /// A request's body ended.
    case end
    /// An answer was written to its end.
    case answered
}

/// Sits after HTTP decoding and tells ``ConnectionDeadlineHandler`` where each request is.
final class RequestProgressHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: context.triggerUserOutboundEvent(RequestProgress.head, promise: nil)
        case .end: context.triggerUserOutboundEvent(RequestProgress.end, promise: nil)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        switch unwrapOutboundIn(data) {
        case .end: isEnd = true
        case .head, .body: isEnd = false
        }
        context.write(data, promise: promise)
        if isEnd { context.triggerUserOutboundEvent(RequestProgress.answered, promise: nil) }
    }
}

/// Closes a connection that takes too long over its TLS handshake, a request head, a request
/// body, or waiting idle between requests (``ListenerLimits``). It sits between TLS and HTTP, so
/// it sees the end of the handshake and every decrypted byte; ``RequestProgressHandler`` tells it
/// where requests begin and end. Nothing about the peer is logged.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the connection is waiting for.
    enum Wait: Equatable {
        /// The TLS handshake (and before it any PROXY header).
        case handshake
        /// A request head, arriving or expected.
        case head
        /// The rest of a request body.
        case body
        /// Nothing from the peer: the service is answering.
        case answer
        /// The next request on a kept-alive connection.
        case idle
    }

    let limits: ListenerLimits
    private(set) var wait = Wait.handshake
    /// Requests whose head arrived and whose answer has not ended.
    private var unanswered = 0
    /// Bytes arrived after the last request's end (the start of the next head).
    private var bytesSinceEnd = false
    private var timer: Scheduled<Void>?

    init(limits: ListenerLimits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { enter(.handshake, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        enter(.handshake, context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, wait == .handshake {
            // The first request's head is due within the head time-out of the handshake.
            enter(.head, context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch wait {
        case .idle:
            bytesSinceEnd = true
            enter(.head, context: context)
        case .answer:
            bytesSinceEnd = true
        case .handshake, .head, .body:
            break
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestProgress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed()
        switch progress {
        case .head:
            unanswered += 1
            bytesSinceEnd = false
            enter(.body, context: context)
        case .end:
            enter(.answer, context: context)
        case .answered:
            unanswered = max(0, unanswered - 1)
            // Pipelined requests keep their own wait; otherwise wait for the next one.
            guard unanswered == 0, wait == .answer else { return }
            enter(bytesSinceEnd ? .head : .idle, context: context)
        }
    }

    private func enter(_ next: Wait, context: ChannelHandlerContext) {
        wait = next
        cancel()
        let limit: Duration
        switch next {
        case .handshake: limit = limits.handshakeTimeout
        case .head: limit = limits.requestHeadTimeout
        case .body: limit = limits.requestBodyTimeout
        case .idle: limit = limits.idleTimeout
        case .answer: return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit)) {
            context.close(promise: nil)
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }
}

/// The onion listener's first handler: reads the PROXY version 1 header Tor sends
/// (`HiddenServiceExportCircuitID haproxy`) before anything else, takes the Tor circuit as the
/// connection's ``PeerIdentity``, then steps aside for TLS. A connection whose first bytes are
/// not a header Tor writes (one naming a circuit) is closed. The header and circuit are never logged.
final class ProxyHeaderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var buffered: ByteBuffer?
    /// Completed exactly once: with the circuit, or failed when there is none.
    private var peer: EventLoopPromise<PeerIdentity>?

    init(peer: EventLoopPromise<PeerIdentity>) { self.peer = peer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var held = buffered {
            held.writeBuffer(&bytes)
            bytes = held
        }
        switch ProxyHeader.parse(bytes.readableBytesView) {
        case .incomplete:
            buffered = bytes
        case .invalid:
            refuse(context: context)
        case .header(let header, let length):
            guard let circuit = header.torCircuitID else { return refuse(context: context) }
            buffered = nil
            bytes.moveReaderIndex(forwardBy: length)
            peer?.succeed(.torCircuit(circuit))
            peer = nil
            if bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail()
        context.fireChannelInactive()
    }

    /// Removed once the header is read, or torn down with the connection before one came.
    func handlerRemoved(context: ChannelHandlerContext) { fail() }

    private func refuse(context: ChannelHandlerContext) {
        buffered = nil
        fail()
        context.close(promise: nil)
    }

    private func fail() {
        peer?.fail(ProxyHeaderMissing())
        peer = nil
    }
}

/// The onion listener got no valid PROXY header naming a Tor circuit.
struct ProxyHeaderMissing: Error {}
