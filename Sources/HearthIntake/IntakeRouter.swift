public import HTTPTypes
public import HearthCore
public import HearthHTTP
public import Hummingbird

/// Who may reach what on the intake listener.
public enum IntakeAccess {
    /// The intake listener's public allowlist: the only routes that answer without a receipt or a
    /// survivor page session. Every other route is registered on a ``SurvivorContext`` group behind
    /// ``SurvivorAuthenticator``, and a test walks the router to prove it refuses a request without
    /// one (the API with 401, the pages with a redirect to `/return`).
    ///
    /// Leaving (`POST /leave`) is here because it needs no session: like `GET /exit`, it ends the
    /// one the browser holds, if any, and answers the same either way.
    public static let publicRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/healthz"), (.get, "/api/v1/openapi.json"), (.post, "/api/v1/contact-requests"),
        (.get, "/"), (.get, "/safety"), (.get, "/exit"), (.get, "/request"), (.post, "/request"), (.post, "/request/edit"),
        (.post, "/request/send"), (.get, "/return"), (.post, "/return"), (.post, "/leave"),
        (.get, "/assets/hearth.css"), (.get, "/assets/exit.js"), (.get, "/language"),
        (.get, "/transparency"), (.get, "/transparency.csv"), (.get, "/api/v1/transparency"),
    ]

    /// The intake routes that take a body larger than the standard 64 KiB, and how large: each
    /// holds its longest texts in any script, percent-encoded or JSON-escaped (``RequestLimits``).
    /// A new request's three page forms carry every answer, in hidden fields after the first.
    /// Every other route keeps the standard limit; a test checks each row names a registered route.
    public static let largerBodies: [(HTTPRequest.Method, String, Int)] = [
        (.post, "/api/v1/contact-requests", RequestLimits.submissionBodyBytes), (.post, "/request", RequestLimits.submissionBodyBytes),
        (.post, "/request/edit", RequestLimits.submissionBodyBytes), (.post, "/request/send", RequestLimits.submissionBodyBytes),
        (.post, "/api/v1/me/messages", RequestLimits.messageBodyBytes), (.post, "/your-request/messages", RequestLimits.messageBodyBytes),
        (.post, "/api/v1/me/interviews/:id/answer", RequestLimits.interviewAnswerBodyBytes),
        (.post, "/your-request/interviews/:id", RequestLimits.interviewAnswerBodyBytes),
    ]
}

/// Builds the intake router: routes plus security headers, error mapping, access log and, with
/// `metrics`, the request figures. `sessions` is the survivor page session table (a fresh one
/// when nil; the composition root passes its own to count live sessions). New submissions, by
/// the API and the page form, pass `gate` (the submission budgets and the disk guard).
public func buildIntakeRouter(
    service: SurvivorService, limiter: FailureRateLimiter, gate: SubmissionGate, pages: PageSettings,
    sessions: EphemeralSessions<SurvivorSession>? = nil, metrics: ListenerMetrics = .off
) throws -> Router<HearthRequestContext> {
    let routes = RouteIndex(metrics: metrics)
    let router = makeListenerRouter(pages: pages, errorTemplate: "survivor-error", routes: routes, largerBodies: IntakeAccess.largerBodies)
    IntakeRoutes(service: service, limiter: limiter, gate: gate).register(on: router)
    // Survivor sessions live in this process's memory only.
    let sessions = try sessions ?? SurvivorPages.makeSessions(clock: pages.clock)
    SurvivorPages(service: service, limiter: limiter, gate: gate, pages: pages, sessions: sessions).register(on: router)
    TransparencyPages(service: service, pages: pages).register(on: router)
    routes.record(router)
    return router
}
