import Foundation
import HTTPTypes
public import HearthCore
public import HearthHTTP
public import HearthKeys
public import Hummingbird
import NIOCore

/// The staff side over HTTP. Public routes: `GET /healthz` and `POST /api/v1/session` (sign-in).
/// Every other route needs a session, and while a password change is required, only
/// `POST /api/v1/session/password` and `DELETE /api/v1/session` answer.
public struct CaseworkRoutes: Sendable {
    let staff: StaffService
    let casework: CaseworkService
    let limiter: FailureRateLimiter

    /// The session cookie: `__Host-` prefix, Secure, HttpOnly, SameSite=Strict.
    public static let cookieName = "__Host-hearth-session"

    public init(staff: StaffService, casework: CaseworkService, limiter: FailureRateLimiter) {
        self.staff = staff
        self.casework = casework
        self.limiter = limiter
    }

    /// Every route that needs a session, as (method, path) — used by the default-deny test.
    public static let sessionRoutes: [(HTTPRequest.Method, String)] = [
        (.delete, "/api/v1/session"), (.post, "/api/v1/session/password"), (.get, "/api/v1/cases"),
        (.post, "/api/v1/cases/{reference}/assign"), (.post, "/api/v1/cases/{reference}/open"),
        (.post, "/api/v1/cases/{reference}/status"), (.post, "/api/v1/cases/{reference}/replies"),
    ]

    public func register(on router: Router<HearthRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody.response(status: .ok, ["status": "ok"]) }
        router.post("/api/v1/session") { request, context in try await login(request, context) }
        router.delete("/api/v1/session") { request, _ in
            let session = try await signedIn(request, allowPasswordChange: true)
            try await staff.logout(session)
            var response = Response(status: .noContent)
            response.headers[.setCookie] = Self.endedSessionCookie
            return response
        }
        router.post("/api/v1/session/password") { request, _ in
            let session = try await signedIn(request, allowPasswordChange: true)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["password", "newPassword"])
            try await staff.changePassword(
                session, current: try f.requiredText("password", maxLength: 128), new: try f.requiredText("newPassword", maxLength: 128))
            return Response(status: .noContent)
        }
        router.get("/api/v1/cases") { request, _ in
            let session = try await signedIn(request)
            let cases = try await casework.queue(for: session.identity)
            return JSONBody.response(status: .ok, ["cases": cases.map(CaseSummaryBody.init)])
        }
        router.post("/api/v1/cases/:reference/assign") { request, context in
            let session = try await signedIn(request)
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["staff"])
            let username = try f.requiredText("staff", maxLength: 64)
            try await casework.assign(reference, to: username, by: session.identity)
            return JSONBody.response(status: .ok, ["reference": reference.reference, "assignee": username])
        }
        router.post("/api/v1/cases/:reference/open") { request, context in
            let session = try await signedIn(request)
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["reason"])
            let reason = try f.requiredText("reason", maxLength: Limits.reason)
            let opened = try await casework.open(reference, reason: reason, by: session.identity)
            return JSONBody.response(status: .ok, OpenedCaseBody(opened))
        }
        router.post("/api/v1/cases/:reference/status") { request, context in
            let session = try await signedIn(request)
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["status"])
            guard let status = try f.choice("status", of: CaseStatus.self) else {
                throw Problem(.badRequest, code: "missing-field", "'status' is required")
            }
            try await casework.setStatus(reference, to: status, by: session.identity)
            return JSONBody.response(status: .ok, ["reference": reference.reference, "status": status.rawValue])
        }
        router.post("/api/v1/cases/:reference/replies") { request, context in
            let session = try await signedIn(request)
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["text"])
            let text = try f.requiredText("text", maxLength: Limits.message, multiline: true)
            try await casework.reply(reference, text: text, by: session.identity)
            return JSONBody.response(status: .created, ["reference": reference.reference])
        }
    }

    static func reference(_ context: HearthRequestContext) throws -> RecordID {
        guard let text = context.parameters.get("reference"), let id = RecordID(reference: text) else {
            throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        }
        return id
    }

    func login(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        try refuseIfRateLimited(context)
        let f = try FieldReader(try await JSONInput.read(request), allowed: ["username", "password", "totp"])
        let username = try f.requiredText("username", maxLength: 64)
        let password = try f.requiredText("password", maxLength: 128)
        let code = try f.requiredText("totp", maxLength: 10)
        let (token, mustChange) = try await signIn(username: username, password: password, totp: code, context)
        var response = JSONBody.response(status: .ok, LoginBody(token: token, mustChangePassword: mustChange))
        response.headers[.setCookie] = Self.sessionCookie(token)
        return response
    }

    /// Throws 429 with `Retry-After` while the caller's address has used up its sign-in failures.
    func refuseIfRateLimited(_ context: HearthRequestContext) throws {
        if let wait = limiter.retryAfter(context.peerAddress) {
            throw ProblemResponse(
                Problem(.rateLimited, code: "rate-limited", "too many sign-in attempts; please wait \(wait) seconds"),
                headers: [.retryAfter: "\(wait)"])
        }
    }

    /// Signs in with all three factors under the per-address rate limiter, for the API and the
    /// sign-in pages alike: the session token and whether the password must change, or
    /// ``StaffService/loginFailed`` (counted against the address).
    func signIn(
        username: String, password: String, totp: String, _ context: HearthRequestContext
    ) async throws -> (
        token: String, mustChangePassword: Bool
    ) {
        try refuseIfRateLimited(context)
        do {
            return try await staff.login(username: username, password: password, totp: totp)
        } catch let p as Problem where p.code == StaffService.loginFailed.code {
            limiter.recordFailure(context.peerAddress)
            throw p
        }
    }

    /// The `Set-Cookie` value that starts a browser session: `__Host-` prefix, Secure, HttpOnly,
    /// SameSite=Strict, ending with the absolute session timeout.
    static func sessionCookie(_ token: String) -> String {
        "\(cookieName)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=\(StaffService.absoluteTimeout)"
    }

    /// The `Set-Cookie` value that removes the session cookie.
    static let endedSessionCookie = "\(cookieName)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"

    /// The signed-in member of staff, from `Authorization: Bearer …` or the session cookie.
    func signedIn(_ request: Request, allowPasswordChange: Bool = false) async throws -> AuthenticatedStaff {
        var token: String?
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { token = String(parts[1]) }
        } else {
            token = FormGuard.cookie(Self.cookieName, in: request)
        }
        let session = try await staff.authenticate(token: token)
        if session.mustChangePassword && !allowPasswordChange {
            throw AccessDenial(code: "password-change-required", message: "please change your one-time password first")
        }
        return session
    }
}

/// Builds the casework router: the API, the staff pages, security headers, error mapping and
/// access log. `keyStatus` feeds the privacy officers' key page; `clock` times the sign-in step
/// between password and code.
public func buildCaseworkRouter(
    staff: StaffService, casework: CaseworkService, keyStatus: KeyStatusSource, limiter: FailureRateLimiter, pages: PageSettings,
    clock: any WallClock = SystemClock()
) throws -> Router<HearthRequestContext> {
    let router = Router(context: HearthRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: AccessLogMiddleware())
    let renderer = pages.renderer
    router.add(
        middleware: ErrorMiddleware(htmlPage: { status, _, message in
            renderer.page("staff-error", status: status, ["heading": errorHeading(status), "message": sentence(message)])
        }))
    Assets.register(on: router)
    let routes = CaseworkRoutes(staff: staff, casework: casework, limiter: limiter)
    routes.register(on: router)
    try StaffPages(routes: routes, keyStatus: keyStatus, pages: pages, clock: clock).register(on: router)
    return router
}

struct LoginBody: Encodable {
    let token: String
    let mustChangePassword: Bool
}

struct CaseSummaryBody: Encodable {
    let reference: String
    let created: String
    let region: String?
    let status: String
    let liveScopes: [String]
    let assignee: String?

    init(_ c: CaseSummary) {
        reference = c.reference
        created = rfc3339(unixSeconds: c.createdHour)
        region = c.region?.rawValue
        status = c.status.rawValue
        liveScopes = c.liveScopes.map(\.rawValue)
        assignee = c.assignee
    }
}

struct OpenedCaseBody: Encodable {
    struct Consent: Encodable {
        let scope: String
        let expires: String?
    }

    struct Message: Encodable {
        let author: String
        let pseudonym: String?
        let role: String?
        let at: String
        let text: String
    }

    let reference: String
    let status: String
    let created: String
    let region: String?
    let request: ContactRequest
    let consents: [Consent]
    let messages: [Message]

    init(_ o: OpenedCase) {
        reference = o.reference
        status = o.status.rawValue
        created = rfc3339(unixSeconds: o.createdHour)
        region = o.region?.rawValue
        request = o.request
        consents = o.consents.map { Consent(scope: $0.scope.rawValue, expires: $0.expires?.description) }
        messages = o.messages.map {
            Message(author: $0.author, pseudonym: $0.pseudonym, role: $0.role?.rawValue, at: rfc3339(unixSeconds: $0.at), text: $0.text)
        }
    }
}
