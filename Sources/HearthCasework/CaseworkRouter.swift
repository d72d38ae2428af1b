public import HTTPTypes
public import HearthCore
public import HearthHTTP
public import HearthKeys
public import Hummingbird

/// Who may reach what on the casework listener.
public enum CaseworkAccess {
    /// The casework listener's public allowlist: the only routes that answer without a session.
    /// Every other route is registered on a ``StaffContext`` group behind ``StaffAuthenticator``,
    /// and a test walks the router to prove it refuses a request without one (the API with 401,
    /// the pages with a redirect to `/login`).
    ///
    /// Signing out (`POST /logout`) is here because it needs no session: it ends the one the
    /// browser holds, if any, and answers the same either way.
    public static let publicRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/healthz"), (.post, "/api/v1/session"),
        (.get, "/"), (.get, "/login"), (.post, "/login"), (.get, "/login/code"), (.post, "/login/code"), (.post, "/logout"),
        (.get, "/assets/hearth.css"), (.get, "/assets/exit.js"), (.get, "/language"),
    ]

    /// The casework routes that take a body larger than the standard 64 KiB, and how large
    /// (``RequestLimits``: room for their longest texts in any script). Every other route keeps
    /// the standard limit; a test checks each row names a registered route.
    public static let largerBodies: [(HTTPRequest.Method, String, Int)] = [
        (.post, "/api/v1/cases/:reference/replies", RequestLimits.messageBodyBytes),
        (.post, "/cases/:reference/replies", RequestLimits.messageBodyBytes),
        (.post, "/api/v1/cases/:reference/interviews", RequestLimits.invitationBodyBytes),
        (.post, "/cases/:reference/interviews", RequestLimits.invitationBodyBytes),
    ]
}

/// Builds the casework router: the API, the staff pages, security headers, error mapping,
/// access log and, with `metrics`, the request figures. `keyStatus` feeds the privacy officers'
/// key page; `clock` times the sign-in step between password and code.
public func buildCaseworkRouter(
    staff: StaffService, casework: CaseworkService, keyStatus: KeyStatusSource, limiter: FailureRateLimiter, pages: PageSettings,
    clock: any WallClock, metrics: ListenerMetrics = .off
) throws -> Router<HearthRequestContext> {
    let routes = RouteIndex(metrics: metrics)
    let router = makeListenerRouter(pages: pages, errorTemplate: "staff-error", routes: routes, largerBodies: CaseworkAccess.largerBodies)
    let sessions = StaffSessions(staff: staff, limiter: limiter)
    CaseworkRoutes(sessions: sessions, casework: casework).register(on: router)
    try StaffPages(sessions: sessions, casework: casework, keyStatus: keyStatus, pages: pages, clock: clock).register(on: router)
    routes.record(router)
    return router
}
