public import HearthCore
public import HearthHTTP
import Hummingbird
import NIOCore

/// What the staff API and the staff pages share about sessions: where a request carries its
/// session token, checking it, signing in with all three factors under the per-source rate
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

    /// Throws 429 with `Retry-After` while `source` has used up its sign-in attempts.
    func refuseIfRateLimited(_ source: LimiterSource) throws {
        if let wait = limiter.retryAfter(source) {
            throw ProblemResponse.rateLimited("too many sign-in attempts; please wait \(wait) seconds", retryAfter: wait)
        }
    }

    /// Signs in with all three factors under the per-source rate limiter, for the API: the session
    /// token and whether the password must change, or ``StaffService/loginFailed`` (counted against
    /// the source).
    func signIn(
        username: String, password: String, totp: String, from source: LimiterSource
    ) async throws -> (token: String, mustChangePassword: Bool) {
        try await signIn(try await checkPassword(username: username, password: password, from: source), totp: totp, from: source)
    }

    /// The password step (Argon2id), counted against `source` as a failure before the work starts,
    /// so that sign-ins running at the same time cannot all pass the limiter before any of them
    /// fails (429 with `Retry-After` once the source's attempts are used up). Only a sign-in that
    /// succeeds (``signIn(_:totp:from:)``) gets its count back.
    func checkPassword(username: String, password: String, from source: LimiterSource) async throws -> PasswordCheck {
        if let wait = limiter.reserve(source) {
            throw ProblemResponse.rateLimited("too many sign-in attempts; please wait \(wait) seconds", retryAfter: wait)
        }
        do {
            return try await staff.checkPassword(username: username, password: password)
        } catch {
            // Not an attempt (too busy, storage down): give the count back.
            limiter.refund(source)
            throw error
        }
    }

    /// The code step, after ``checkPassword(username:password:from:)``: a failed sign-in stays
    /// counted against `source`; a successful one gives its count back.
    func signIn(_ check: PasswordCheck, totp: String, from source: LimiterSource) async throws -> (token: String, mustChangePassword: Bool) {
        do {
            let signedIn = try await staff.login(check, totp: totp)
            limiter.refund(source)
            return signedIn
        } catch let p as Problem where p.code == StaffService.loginFailed.code {
            throw p
        } catch {
            limiter.refund(source)
            throw error
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
