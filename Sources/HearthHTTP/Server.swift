public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import NIOCore
public import NIOSSL

/// Builds a TLS-only Hummingbird application for one of Hearth's listeners.
///
/// There is no plain-HTTP variant: a listener without TLS cannot be built.
public func makeTLSApplication<Responder: HTTPResponder>(
    responder: Responder,
    tls: TLSConfiguration,
    host: String,
    port: Int,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol where Responder.Context == HearthRequestContext {
    Application(
        responder: responder,
        server: try .tls(.http1(), tlsConfiguration: tls),
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: onServerRunning,
        logger: logger)
}
