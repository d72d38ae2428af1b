import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens a TLS connection to `host:port` that trusts only the certificate at `certificatePath` and
/// verifies it fully (including the IP address), and returns the negotiated protocol version. The
/// client offers TLS 1.0 to 1.3, so the version is the server's choice.
func negotiatedTLSVersion(host: String, port: Int, certificatePath: String) async throws -> TLSVersion? {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
    configuration.certificateVerification = .fullVerification
    configuration.minimumTLSVersion = .tlsv1
    configuration.maximumTLSVersion = .tlsv13
    let sslContext = try NIOSSLContext(configuration: configuration)
    let group = MultiThreadedEventLoopGroup.singleton
    let promise = group.next().makePromise(of: TLSVersion?.self)
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // serverHostname nil: NIOSSL checks the certificate against the peer's IP address.
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeObserver(promise: promise))
                }
            }
            .connect(host: host, port: port).get()
    } catch {
        promise.fail(error)
        throw error
    }
    // Bounded: closing the channel fails the promise if the handshake has not finished.
    let timeout = channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
    defer { timeout.cancel() }
    let version = try await promise.futureResult.get()
    try? await channel.close()
    return version
}

/// Reports the negotiated TLS version once the handshake (with verification) completes.
private final class HandshakeObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<TLSVersion?>
    private var done = false

    init(promise: EventLoopPromise<TLSVersion?>) {
        self.promise = promise
    }

    private func finish(_ result: Result<TLSVersion?, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            finish(.success(try? context.pipeline.syncOperations.nioSSL_tlsVersion()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.ioOnClosedChannel))
        context.fireChannelInactive()
    }
}

/// Runs `openssl s_client` against `port` (stdin from /dev/null, bounded), trusting only
/// `certificatePath` and failing on any verification error. Returns the outcome with stdout and
/// stderr.
func opensslClient(port: Int, certificatePath: String, in directory: String, _ extra: [String]) async throws -> ChildProcess.Outcome {
    try await ChildProcess.run(
        [
            "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", certificatePath, "-verify_return_error",
            "-verify_ip", "127.0.0.1",
        ] + extra,
        in: directory, executable: "/usr/bin/openssl", timeout: .seconds(20))
}
