import HTTPTypes
public import Hummingbird
import Synchronization

/// The routes a listener registered, set once after registration, for answering a known address
/// asked with the wrong method and for sealing the listener's request figures.
public final class RouteIndex: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, segments: [Substring])]>([])
    /// The listener's request figures (``ListenerMetrics/off`` for none).
    public let metrics: ListenerMetrics

    /// An empty index; ``record(_:)`` fills it once the listener's routes are registered, and
    /// seals `metrics` with their templates.
    public init(metrics: ListenerMetrics = .off) { self.metrics = metrics }

    /// Records every route of `router`.
    public func record<Context>(_ router: Router<Context>) {
        let table = router.routes.map { (method: $0.method, segments: Self.segments($0.path.description)) }
        routes.withLock { $0 = table }
        metrics.seal(router)
    }

    /// The methods registered for routes whose template matches `path` (`{name}`, `:name` and `*`
    /// match any one segment), sorted; empty when no route has this address.
    public func methods(matching path: String) -> [String] {
        let asked = Self.segments(path)
        let found = routes.withLock { table in
            table.filter { Self.template($0.segments, matches: asked) }.map(\.method.rawValue)
        }
        return Array(Set(found)).sorted()
    }

    static func segments(_ path: String) -> [Substring] { path.split(separator: "/", omittingEmptySubsequences: true) }

    /// Whether a route template's segments match a path's: `{name}`, `:name` and `*` match any one segment.
    static func template(_ template: [Substring], matches path: [Substring]) -> Bool {
        template.count == path.count && zip(template, path).allSatisfy { t, a in t == a || t.hasPrefix("{") || t.hasPrefix(":") || t == "*" }
    }
}

/// Turns the router's 404 for a known address asked with another method into 405 with `Allow`
/// (RFC 9110 §15.5.6); unknown addresses keep their 404.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    let index: RouteIndex

    /// Answers from the routes `index` holds.
    public init(index: RouteIndex) { self.index = index }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound {
            let allowed = index.methods(matching: request.uri.path)
            guard !allowed.isEmpty else { throw e }
            throw HTTPError(.methodNotAllowed, headers: [.allow: allowed.joined(separator: ", ")])
        }
    }
}
