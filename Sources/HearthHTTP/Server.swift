public import HTTPTypes
public import Hummingbird
import HummingbirdCore
public import Logging
public import NIOCore
public import NIOSSL

/// Builds a TLS-only Hummingbird application for one of Hearth's listeners, with the time-outs
/// and connection cap of `limits` (``ListenerLimits``).
///
/// There is no plain-HTTP variant: a listener without TLS cannot be built. With
/// `requiresProxyHeader` (the onion listener only) every connection must open with the PROXY
/// header Tor sends (``ProxyHeader``), and its requests count against the Tor circuit it names;
/// every other listener takes no such header (its bytes simply fail the TLS handshake).
public func makeTLSApplication<Responder: HTTPResponder>(
    responder: Responder,
    tls: TLSConfiguration,
    host: String,
    port: Int,
    limits: ListenerLimits = .init(),
    requiresProxyHeader: Bool = false,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol where Responder.Context == HearthRequestContext {
    let context = try NIOSSLContext(configuration: tls)
    let connections = ConnectionCounter(limit: limits.maxConnections)
    let server = HTTPServerBuilder { responder in
        // Hummingbird's own idle time-out stays off: ConnectionDeadlineHandler keeps all four.
        HearthChildChannel(
            http: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [RequestProgressHandler()])),
            tls: context, limits: limits, connections: connections, requiresProxyHeader: requiresProxyHeader)
    }
    return Application(
        responder: responder,
        server: server,
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: onServerRunning,
        logger: logger)
}

/// A listener's router with what every Hearth listener has, in order: each route's body limit
/// (the standard one, or the larger one `largerBodies` gives its route: method, route template,
/// bytes), security headers on every answer, the access log, the request figures (when `routes`
/// carries them), errors as JSON under `/api/` and as the `errorTemplate` page elsewhere,
/// 405 with `Allow` for a known address asked with another method (from `routes`, which the
/// listener fills once its routes are registered), and the two static assets.
public func makeListenerRouter(
    pages: PageSettings, errorTemplate: String, routes: RouteIndex, largerBodies: [(HTTPRequest.Method, String, Int)] = []
) -> Router<HearthRequestContext> {
    let router = Router(context: HearthRequestContext.self)
    // First, so that everything after it, the error answers included, sees the route's limit.
    router.add(middleware: BodyLimitMiddleware(largerBodies))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: LanguageMiddleware(languages: pages.renderer.languages))
    if let instruments = routes.metrics.instruments { router.add(middleware: RequestMetricsMiddleware(instruments: instruments)) }
    let renderer = pages.renderer
    router.add(
        middleware: ErrorMiddleware(htmlPage: { status, code, message in
            renderer.page(
                errorTemplate, status: status,
                ["heading": errorHeading(status), "message": pageMessage(status: status, code: code, message: message)])
        }))
    router.add(middleware: MethodNotAllowedMiddleware(index: routes))
    Assets.register(on: router)
    pages.renderer.languages.register(on: router, start: "/")
    return router
}
