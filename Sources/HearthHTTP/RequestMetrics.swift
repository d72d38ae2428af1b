public import HearthMetrics
import Hummingbird

/// A listener's request figures, handed to its router builder through its ``RouteIndex``: the
/// request-metrics middleware records into them, and they are sealed with the listener's route
/// templates once the routes are registered (so no label can be anything else).
public struct ListenerMetrics: Sendable {
    let instruments: RequestInstruments?

    /// No figures: what routers built without a metrics listener (and most tests) use.
    public static let off = ListenerMetrics(instruments: nil)

    private init(instruments: RequestInstruments?) { self.instruments = instruments }

    /// Requests of `listener`, made with `metrics`' factory.
    public init(_ metrics: HearthMetrics, listener: MetricsListener) {
        instruments = RequestInstruments(metrics, listener: listener)
    }

    /// Fixes the route templates `router` registered.
    func seal<Context>(_ router: Router<Context>) {
        instruments?.seal(routes: router.routes.map { (method: $0.method.rawValue, path: $0.path.description) })
    }
}

/// Counts every answer by route template, method and status, and times it by route template and
/// method. The route is the template the router matched (`context.endpointPath`), never the
/// path: `/api/v1/cases/{reference}/open`, not the reference; a request no route matched is
/// `unmatched`. Nothing else about the request is read.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let instruments: RequestInstruments

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            instruments.record(
                method: request.method.rawValue, route: context.endpointPath, status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            // The error middleware inside answers every error; this is for one that escapes it.
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            instruments.record(method: request.method.rawValue, route: context.endpointPath, status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
