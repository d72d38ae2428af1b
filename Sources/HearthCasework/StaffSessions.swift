public import HearthCore
public import HearthHTTP
import Hummingbird
import NIOCore

/// What the staff API and the staff pages share about sessions: where a request carries its
/// session token, checking it, signing in with all three factors under the per-address rate
/// limiter, and the session cookie's `Set-Cookie` values.
public struct StaffSessions: Sendable {
    let staff: StaffService
    let limiter: FailureRateLimiter

    /// The session cookie: `__Host-` prefix, Secure, HttpOnly, SameSite=Strict.
    public static let cookieName = "__Host-hearth-session"

    /// Sign-in and session checks over `staff`, with failed sign-ins counted in `limiter`.
    public init(staff: StaffService, limiter: FailureRateLimiter) {
        self.staff = staff
        self.limiter = limiter
    }

    /// The session token from `Authorization: Bearer …` or, when there is no `Authorization`
    /// header at all, from the session cookie.
    static func token(in request: Request) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            return parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : nil
        }
        return FormGuard.cookie(cookieName, in: request)
    }

    /// The request's session, whether or not its password must change; throws
    /// ``StaffService/notSignedIn`` without a live one.
    func session(_ request: Request) async throws -> AuthenticatedStaff {
        try await staff.authenticate(token: Self.token(in: request))
    }

    /// The request's session if it has a live one, for the public pages that only look
    /// (the start redirect, the sign-in page, sign-out).
    func currentSession(_ request: Request) async -> AuthenticatedStaff? {
        try? await session(request)
    }

    /// Throws 429 with `Retry-After` while `peer` has used up its sign-in failures.
    func refuseIfRateLimited(_ peer: PeerIdentity) throws {
        if let wait = limiter.retryAfter(peer) {
            throw ProblemResponse.rateLimited("too many sign-in attempts; please wait \(wait) seconds", retryAfter: wait)
        }
    }

    /// Signs in with all three factors under the per-address rate limiter, for the API and the
    /// sign-in pages alike: the session token and whether the password must change, or
    /// ``StaffService/loginFailed`` (counted against the address).
    func signIn(
        username: String, password: String, totp: String, from peer: PeerIdentity
    ) async throws -> (token: String, mustChangePassword: Bool) {
        try refuseIfRateLimited(peer)
        do {
            return try await staff.login(username: username, password: password, totp: totp)
        } catch let p as Problem where p.code == StaffService.loginFailed.code {
            limiter.recordFailure(peer)
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
}
