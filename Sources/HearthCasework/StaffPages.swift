import Foundation
import HTTPTypes
public import HearthCore
public import HearthHTTP
public import HearthKeys
public import Hummingbird

/// The staff pages on the casework listener: sign-in in two steps (password, then code), the
/// forced first password change, the case queue, a case with its "open with a reason" step, the
/// thread and reply box, status, assignment for supervisors, key status for privacy officers and
/// administrators, and sign-out.
///
/// Server-rendered, no JavaScript. Every POST checks its form token before anything else but the
/// session check (on the routes that have one); every page with a form hands out one. Pages that need the staff session are registered behind
/// ``StaffAuthenticator``, which sends a browser without one to `/login` and, while the one-time
/// password is unchanged, to `/password` from every page but `/password` itself (sign-out needs
/// no session). Every decision about a case is the ``CaseworkService``'s: these pages only show it.
public struct StaffPages: Sendable {
    let sessions: StaffSessions
    let casework: CaseworkService
    var staff: StaffService { sessions.staff }
    let keyStatus: KeyStatusSource
    let pages: PageSettings
    /// The password step's outcome between the two sign-in steps, in memory only, for five minutes
    /// at most: never the password, which is checked against its hash at once and forgotten.
    let pendingLogins: EphemeralSessions<PasswordCheck>

    /// The cookie that carries a sign-in between the password and the code step.
    public static let loginCookieName = "__Host-hearth-login"
    /// How long the code step waits for the code, idle or in all.
    public static let pendingLoginSeconds: Int64 = 5 * 60

    /// Pages over the same sessions (and so the same sign-in rate limiter) and services as the API
    /// routes; `clock` times the step between password and code.
    public init(sessions: StaffSessions, casework: CaseworkService, keyStatus: KeyStatusSource, pages: PageSettings, clock: any WallClock) throws {
        self.sessions = sessions
        self.casework = casework
        self.keyStatus = keyStatus
        self.pages = pages
        pendingLogins = try EphemeralSessions(idle: Self.pendingLoginSeconds, absolute: Self.pendingLoginSeconds, capacity: 2_000, clock: clock)
    }

    /// Adds the public pages to `router`, and the others behind the pages' authenticator.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/") { request, _ in
            seeOther(await sessions.currentSession(request) == nil ? "/login" : "/cases")
        }
        registerSignIn(on: router)
        registerSignOut(on: router)
        registerPassword(on: router.signedInStaff(StaffAuthenticator(sessions, refusal: .redirect, allowPasswordChange: true)))
        let signedIn = router.signedInStaff(StaffAuthenticator(sessions, refusal: .redirect))
        registerCases(on: signedIn)
        registerCaseActions(on: signedIn)
        signedIn.get("/keys") { request, context in try await keysPage(request, context.session) }
    }

    // MARK: Refusals

    /// A refusal in plain words: why, and what to do; status 403, headed by the words of the
    /// catalogue key `headingKey`.
    func refusalPage(
        _ request: Request, _ session: AuthenticatedStaff, _ denial: AccessDenial, headingKey: String, reference: RecordID?
    )
        throws -> Response
    {
        var context: [String: Any] = ["heading": Catalogue.current.text(headingKey), "reason": Self.plainReason(denial)]
        if let reference { context["back"] = Self.backToCase(reference) }
        return try page(request, "staff-refusal", status: .forbidden, staff: session, context)
    }

    /// A refusal's reason as a sentence for staff; a refusal without words of its own here shows
    /// the service's message (``pageMessage(status:code:message:)``).
    static func plainReason(_ denial: AccessDenial) -> String {
        let key: String? =
            switch denial.code {
            case AccessDenial.noConsent.code: "staffRefusal.noConsent"
            case AccessDenial.notAssigned.code: "staffRefusal.notAssigned"
            case AccessDenial.roleCannotRead.code: "staffRefusal.roleCannotRead"
            case "role-cannot-assign": "staffRefusal.roleCannotAssign"
            case keysRefusal.code: "staffRefusal.roleCannotSeeKeys"
            default: nil
            }
        guard let key else { return pageMessage(status: .forbidden, code: denial.code, message: denial.message) }
        return Catalogue.current.text(key)
    }

    /// The link back to a case page.
    static func backToCase(_ reference: RecordID) -> [String: String] {
        ["href": "/cases/\(reference.reference)", "text": Catalogue.current.text("staffNav.backToCase", ["reference": reference.reference])]
    }

    // MARK: Rendering

    /// Renders a staff page with a form token (and the form cookie when the browser has none) and,
    /// for a session, the account bar.
    func page(
        _ request: Request, _ template: String, status: HTTPResponse.Status = .ok, staff session: AuthenticatedStaff?, _ context: [String: Any],
        headers: HTTPFields = [:]
    ) throws -> Response {
        let (token, setCookie) = try pages.forms.prepare(request)
        var context = context
        context["csrf"] = token
        if let session {
            context["signedIn"] = [
                "username": session.identity.username, "roleName": Self.roleName(session.identity.role),
                "canSeeKeys": Self.canSeeKeys(session.identity.role) && !session.mustChangePassword,
            ]
        }
        var headers = headers
        if let setCookie { headers.append(HTTPField(name: .setCookie, value: setCookie)) }
        return pages.renderer.page(template, status: status, context, headers: headers)
    }

    /// A form error: the field's id and a sentence.
    struct FieldError {
        let field: String
        let text: String
    }

    /// The error summary and each field's message, keyed `<field>Error`.
    static func errorContext(_ errors: [FieldError]) -> [String: Any] {
        guard !errors.isEmpty else { return [:] }
        var context: [String: Any] = ["errorSummary": ["items": errors.map { ["href": "#\($0.field)", "text": $0.text] }]]
        for e in errors { context["\(e.field)Error"] = e.text }
        return context
    }
}
