import HTTPTypes
public import Hummingbird
import Logging

/// Headers on every answer of both listeners: HSTS, no caching, no sniffing, no framing, no referrer.
public struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let contentSecurityPolicy: String

    /// The policy for both listeners: everything from this origin only (one stylesheet, one
    /// optional script file), no inline script or style, no framing, forms post only here.
    public static var pagePolicy: String { "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'" }

    /// `contentSecurityPolicy` defaults to ``pagePolicy``.
    public init(contentSecurityPolicy: String = Self.pagePolicy) {
        self.contentSecurityPolicy = contentSecurityPolicy
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        Self.apply(to: &response.headers, csp: contentSecurityPolicy)
        return response
    }

    static func apply(to h: inout HTTPFields, csp: String) {
        h[.strictTransportSecurity] = "max-age=63072000; includeSubDomains"
        h[.cacheControl] = "no-store"
        h[.xContentTypeOptions] = "nosniff"
        h[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        h[.contentSecurityPolicy] = csp
        h[HTTPField.Name("X-Frame-Options")!] = "DENY"
        h[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        h[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        h[HTTPField.Name("Permissions-Policy")!] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    }
}

/// Logs one line per request: method, route pattern (never the URI or query), status, duration.
/// Never the peer address, headers or body.
public struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let ms = (ContinuousClock.now - start).components
        context.logger.info(
            "request",
            metadata: [
                "http.method": "\(request.method.rawValue)",
                "http.route": "\(context.endpointPath ?? "unmatched")",
                "http.status": "\(response.status.code)",
                "http.ms": "\(ms.seconds * 1000 + ms.attoseconds / 1_000_000_000_000_000)",
            ])
        return response
    }
}
