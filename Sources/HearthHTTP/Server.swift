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

/// A listener's router with what every Hearth listener has, in order: security headers on every
/// answer, the access log, the request figures (when `routes` carries them), errors as JSON under
/// `/api/` and as the `errorTemplate` page elsewhere,
/// 405 with `Allow` for a known address asked with another method (from `routes`, which the
/// listener fills once its routes are registered), and the two static assets.
public func makeListenerRouter(pages: PageSettings, errorTemplate: String, routes: RouteIndex) -> Router<HearthRequestContext> {
    let router = Router(context: HearthRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: AccessLogMiddleware())
    if let instruments = routes.metrics.instruments { router.add(middleware: RequestMetricsMiddleware(instruments: instruments)) }
    let renderer = pages.renderer
    router.add(
        middleware: ErrorMiddleware(htmlPage: { status, _, message in
            renderer.page(errorTemplate, status: status, ["heading": errorHeading(status), "message": sentence(message)])
        }))
    router.add(middleware: MethodNotAllowedMiddleware(index: routes))
    Assets.register(on: router)
    return router
}
