import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// A client connection to a listener that sends exactly the bytes a test says, when it says: an
/// optional preamble in the clear (a PROXY header, as Tor writes it), then with `tls` a real TLS
/// handshake (verifying the listener's certificate), then raw request bytes, as slowly as wanted.
/// Everything received is kept, and the connection notes when the server closes it.
final class RawConnection: Sendable {
    let channel: any Channel
    private let state: Received

    /// The bytes received so far and whether the server has closed the connection.
    final class Received: Sendable {
        let bytes = Mutex<[UInt8]>([])
        let closed = Mutex(false)
        let handshake = Mutex(false)
    }

    private init(channel: any Channel, state: Received) {
        self.channel = channel
        self.state = state
    }

    /// Connects to 127.0.0.1:`port`; with `certificate`, over TLS trusting that certificate.
    static func open(port: Int, preamble: [UInt8] = [], certificate: String? = nil) async throws -> RawConnection {
        let state = Received()
        let tls: NIOSSLContext? = try certificate.map { path in
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .file(path)
            configuration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: configuration)
        }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if !preamble.isEmpty { try pipeline.addHandler(Preamble(bytes: preamble)) }
                    if let tls { try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: "localhost")) }
                    try pipeline.addHandler(Collector(state: state))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, state: state)
    }

    /// Sends `bytes` (through TLS when the connection has it).
    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Sends `text` (UTF-8).
    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Everything received so far (decrypted, over TLS).
    var received: [UInt8] { state.bytes.withLock { $0 } }

    /// The received bytes as text.
    var text: String { String(decoding: received, as: UTF8.self) }

    /// The server has closed the connection (or it failed).
    var isClosed: Bool { state.closed.withLock { $0 } }

    /// The TLS handshake completed.
    var handshakeDone: Bool { state.handshake.withLock { $0 } }

    /// Waits until the server closes the connection or `limit` passes; true when it closed.
    func waitUntilClosed(within limit: Duration) async -> Bool {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isClosed
    }

    /// Waits until an HTTP answer's status line has arrived or the connection closed; its status.
    func status(within limit: Duration) async -> Int? {
        let end = ContinuousClock.now + limit
        while ContinuousClock.now < end {
            if let status = Self.status(in: text) { return status }
            if isClosed { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return Self.status(in: text)
    }

    static func status(in text: String) -> Int? {
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// Closes the connection from this side.
    func close() async {
        try? await channel.close()
    }

    /// Writes its bytes in the clear as soon as the connection is up, before TLS starts.
    final class Preamble: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]
        init(bytes: [UInt8]) { self.bytes = bytes }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
            context.fireChannelActive()
        }
    }

    /// Keeps what arrives and notes the close.
    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let state: Received
        init(state: Received) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.bytes.withLock { $0 += buffer.readableBytesView }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls { state.handshake.withLock { $0 = true } }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.closed.withLock { $0 = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

/// Tor's PROXY header for `circuit` (as `HiddenServiceExportCircuitID haproxy` writes it).
func torProxyHeader(circuit: UInt32) -> String {
    "PROXY TCP6 fc00:dead:beef:4dad::\(String(circuit >> 16, radix: 16)):\(String(circuit & 0xffff, radix: 16)) ::1 \(circuit & 0xffff) 443\r\n"
}

/// A request with `Connection: close`, as bytes.
func rawRequest(_ method: String, _ path: String, headers: [String] = [], body: String = "") -> String {
    var lines = ["\(method) \(path) HTTP/1.1", "Host: localhost", "Connection: close"] + headers
    if !body.isEmpty || method == "POST" { lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"] }
    return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
}
