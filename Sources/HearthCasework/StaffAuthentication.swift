public import HearthCore
public import HearthHTTP
public import Hummingbird

/// The context of a route that needs a signed-in member of staff (``StaffAuthenticator``'s groups).
public typealias StaffContext = SignedInContext<AuthenticatedStaff>

extension SignedInContext where Identity == AuthenticatedStaff {
    /// The signed-in member of staff.
    public var session: AuthenticatedStaff { identity }
}

/// The casework listener's one authenticating middleware: a session from `Authorization: Bearer …`
/// or the `__Host-hearth-session` cookie, and the rule that while the one-time password is
/// unchanged only the routes that change it or sign out answer.
///
/// The API refuses with 401 `not-signed-in` and 403 `password-change-required`; the pages send
/// the browser to `/login` and to `/password` instead.
public struct StaffAuthenticator: RouterMiddleware {
    /// The listener's base context; the signed-in routes' context is ``StaffContext``.
    public typealias Context = HearthRequestContext

    /// How a request without what the route needs is refused.
    public enum Refusal: Sendable {
        /// The API: the problem as JSON (401 `not-signed-in`, 403 `password-change-required`).
        case problem
        /// The pages: 303 to `/login` without a session, to `/password` while it must change.
        case redirect
    }

    let sessions: StaffSessions
    let refusal: Refusal
    let allowPasswordChange: Bool

    /// An authenticator over `sessions`; `allowPasswordChange` lets a session whose one-time
    /// password is still unchanged through (for changing it and for signing out).
    public init(_ sessions: StaffSessions, refusal: Refusal, allowPasswordChange: Bool = false) {
        self.sessions = sessions
        self.refusal = refusal
        self.allowPasswordChange = allowPasswordChange
    }

    /// Checks the request's credential and either refuses it or passes it on with the identity set.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let session: AuthenticatedStaff
        do {
            session = try await sessions.session(request)
        } catch let p as Problem where p.code == StaffService.notSignedIn.code && refusal == .redirect {
            return seeOther("/login")
        }
        if session.mustChangePassword && !allowPasswordChange {
            switch refusal {
            case .problem: throw AccessDenial(code: "password-change-required", message: "please change your one-time password first")
            case .redirect: return seeOther("/password")
            }
        }
        var context = context
        context.identity = .staff(session)
        return try await next(request, context)
    }
}

extension RouterMethods where Context == HearthRequestContext {
    /// A group whose routes run only behind `authenticator`, with the session in their ``StaffContext``.
    func signedInStaff(_ authenticator: StaffAuthenticator) -> RouterGroup<StaffContext> {
        group().add(middleware: authenticator).group(context: StaffContext.self)
    }
}
