import Foundation
import HTTPTypes
public import HearthCore
public import HearthHTTP
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
    let staff: StaffService
    let casework: CaseworkService
    let sessions: StaffSessions
    let keyStatus: KeyStatusSource
    let pages: PageSettings
    /// Username and password between the two sign-in steps, in memory only, for five minutes at most.
    let pendingLogins: EphemeralSessions<PendingLogin>

    /// What the first sign-in step remembers for the second; checked only then, all three factors at once.
    struct PendingLogin: Sendable {
        let username: String
        let password: String
    }

    /// The cookie that carries a sign-in between the password and the code step.
    public static let loginCookieName = "__Host-hearth-login"
    /// How long the code step waits for the code, idle or in all.
    public static let pendingLoginSeconds: Int64 = 5 * 60

    /// The single answer to every failed sign-in on the pages, whichever factor was wrong.
    static let loginFailedMessage =
        "The username, password or code was not right. Check them and try again. If it keeps happening, ask an administrator."

    /// Pages over the same services, rate limiter (`limiter`, shared with the API's sign-in) and
    /// sessions as the API routes; `clock` times the step between password and code.
    public init(
        staff: StaffService, casework: CaseworkService, limiter: FailureRateLimiter, keyStatus: KeyStatusSource, pages: PageSettings,
        clock: any WallClock = SystemClock()
    ) throws {
        self.staff = staff
        self.casework = casework
        sessions = StaffSessions(staff: staff, limiter: limiter)
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

    /// A refusal in plain words: why, and what to do; status 403.
    func refusalPage(
        _ request: Request, _ session: AuthenticatedStaff, _ denial: AccessDenial, heading: String, reference: RecordID?
    )
        throws -> Response
    {
        var context: [String: Any] = ["heading": heading, "reason": Self.plainReason(denial)]
        if let reference { context["reference"] = reference.reference }
        return try page(request, "staff-refusal", status: .forbidden, staff: session, context)
    }

    /// A refusal's reason as a sentence for staff.
    static func plainReason(_ denial: AccessDenial) -> String {
        switch denial.code {
        case AccessDenial.noConsent.code:
            "The survivor has not agreed to share this with your role, or has stopped sharing it. Their choice stands, so nothing was opened."
        case AccessDenial.notAssigned.code:
            "This case is not assigned to you. If you need to work on it, ask a supervisor to assign it to you."
        case AccessDenial.roleCannotRead.code:
            "Your role cannot read survivors' requests. Only caseworkers, reviewers and liaison officers can, and only when the survivor has agreed."
        case "role-cannot-assign":
            "Only supervisors can assign cases."
        case keysRefusal.code:
            "Only privacy officers and administrators can see the key status."
        default:
            sentence(denial.message)
        }
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
                "username": session.identity.username, "roleName": session.identity.role.plainName,
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

// The staff pages' sign-in in two steps, sign-out and the password change.
extension StaffPages {
    /// `GET|POST /login` (password) and `GET|POST /login/code` (code), which need no session.
    func registerSignIn(on router: Router<HearthRequestContext>) {
        router.get("/login") { request, _ in
            if let session = await sessions.currentSession(request) {
                return seeOther(session.mustChangePassword ? "/password" : "/cases")
            }
            return try page(request, "staff-login", staff: nil, [:])
        }
        router.post("/login") { request, context in
            let fields = try await FormFields.read(request, allowed: ["username", "password"])
            try pages.forms.verify(request, fields)
            try sessions.refuseIfRateLimited(context.peerAddress)
            let username = fields.trimmed("username") ?? ""
            let password = fields.value("password") ?? ""
            var errors: [FieldError] = []
            if username.isEmpty {
                errors.append(FieldError(field: "username", text: "Enter your username"))
            } else if username.count > 64 {
                errors.append(FieldError(field: "username", text: "A username has at most 64 characters"))
            }
            if password.isEmpty {
                errors.append(FieldError(field: "password", text: "Enter your password"))
            } else if password.count > 128 {
                errors.append(FieldError(field: "password", text: "A password has at most 128 characters"))
            }
            guard errors.isEmpty else {
                return try page(
                    request, "staff-login", status: .badRequest, staff: nil, Self.errorContext(errors).merging(["username": username]) { $1 })
            }
            // Nothing is checked yet: the code step checks all three together, so this step
            // answers the same whether or not the password was right.
            pendingLogins.remove(FormGuard.cookie(Self.loginCookieName, in: request))
            let token = try pendingLogins.create(PendingLogin(username: username, password: password))
            return seeOther(
                "/login/code",
                headers: [
                    .setCookie: "\(Self.loginCookieName)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=\(Self.pendingLoginSeconds)"
                ])
        }
        router.get("/login/code") { request, _ in
            guard pendingLogins.lookup(FormGuard.cookie(Self.loginCookieName, in: request)) != nil else { return seeOther("/login") }
            return try page(request, "staff-login-code", staff: nil, [:])
        }
        router.post("/login/code") { request, context in
            let fields = try await FormFields.read(request, allowed: ["totp"])
            try pages.forms.verify(request, fields)
            try sessions.refuseIfRateLimited(context.peerAddress)
            let code = (fields.value("totp") ?? "").filter { !$0.isWhitespace }
            let cookie = FormGuard.cookie(Self.loginCookieName, in: request)
            if code.isEmpty, pendingLogins.lookup(cookie) != nil {
                return try page(
                    request, "staff-login-code", status: .badRequest, staff: nil,
                    Self.errorContext([FieldError(field: "totp", text: "Enter the 6-digit code from your authenticator app")]))
            }
            let pending = pendingLogins.lookup(cookie)
            pendingLogins.remove(cookie)
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: .setCookie, value: Self.endedLoginCookie))
            guard let pending else { return try loginFailedPage(request, headers: headers) }
            let token: String
            let mustChange: Bool
            do {
                (token, mustChange) = try await sessions.signIn(
                    username: pending.username, password: pending.password, totp: code, from: context.peerAddress)
            } catch let p as Problem where p.code == StaffService.loginFailed.code {
                return try loginFailedPage(request, headers: headers)
            }
            headers.append(HTTPField(name: .setCookie, value: StaffSessions.sessionCookie(token)))
            return seeOther(mustChange ? "/password" : "/cases", headers: headers)
        }
    }

    static let endedLoginCookie = "\(loginCookieName)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"

    /// The one failure page: the first sign-in step again, 401, the same words for every cause.
    func loginFailedPage(_ request: Request, headers: HTTPFields) throws -> Response {
        try page(
            request, "staff-login", status: .unauthorized, staff: nil,
            ["errorSummary": ["items": [["href": "#username", "text": Self.loginFailedMessage]]]], headers: headers)
    }

    // MARK: Sign-out

    /// `POST /logout`: ends the browser's session, if it has one, and clears the cookie.
    func registerSignOut(on router: Router<HearthRequestContext>) {
        router.post("/logout") { request, _ in
            let fields = try await FormFields.read(request, allowed: [])
            try pages.forms.verify(request, fields)
            if let session = await sessions.currentSession(request) {
                try await staff.logout(session)
            }
            return seeOther("/login", headers: [.setCookie: StaffSessions.endedSessionCookie])
        }
    }

    // MARK: Password

    /// `GET|POST /password`, which also answer while the one-time password is unchanged.
    func registerPassword(on group: RouterGroup<StaffContext>) {
        group.get("/password") { request, context in try passwordPage(request, context.session, status: .ok, errors: []) }
        group.post("/password") { request, context in
            let fields = try await FormFields.read(request, allowed: ["password", "newPassword", "confirmPassword"])
            try pages.forms.verify(request, fields)
            return try await changePassword(request, fields, context.session)
        }
    }

    func passwordPage(_ request: Request, _ session: AuthenticatedStaff, status: HTTPResponse.Status, errors: [FieldError]) throws -> Response {
        var context = Self.errorContext(errors)
        context["mustChange"] = session.mustChangePassword
        return try page(request, "staff-password", status: status, staff: session, context)
    }

    func changePassword(_ request: Request, _ fields: FormFields, _ session: AuthenticatedStaff) async throws -> Response {
        let current = fields.value("password") ?? ""
        let new = fields.value("newPassword") ?? ""
        let confirm = fields.value("confirmPassword") ?? ""
        var errors: [FieldError] = []
        if current.isEmpty { errors.append(FieldError(field: "password", text: "Enter your current password")) }
        if !(12...128).contains(new.count) {
            errors.append(FieldError(field: "newPassword", text: "Choose a new password of 12 to 128 characters"))
        } else if new == current {
            errors.append(FieldError(field: "newPassword", text: "Choose a new password that is different from the current one"))
        } else if new != confirm {
            errors.append(FieldError(field: "confirmPassword", text: "Type the same new password twice"))
        }
        guard errors.isEmpty else { return try passwordPage(request, session, status: .badRequest, errors: errors) }
        do {
            try await staff.changePassword(session, current: current, new: new)
        } catch let p as Problem where p.kind == .badRequest {
            // The new password was checked above, so what is left is the current one.
            return try passwordPage(
                request, session, status: .badRequest, errors: [FieldError(field: "password", text: "The current password is not right")])
        }
        return seeOther("/cases")
    }
}

// The staff pages of a signed-in member of staff: the queue, a case and what can be done to it,
// and the key status.
extension StaffPages {
    /// `GET /cases` and `GET /cases/:reference`.
    func registerCases(on group: RouterGroup<StaffContext>) {
        group.get("/cases") { request, context in try await queuePage(request, context.session) }
        group.get("/cases/:reference") { request, context in
            let reference = try CaseworkRoutes.reference(context)
            let done = request.uri.queryParameters["done"].flatMap { Self.doneNotices[String($0)] }
            return try await casePage(request, context.session, reference, status: .ok, form: CaseForm(notice: done))
        }
    }

    func queuePage(_ request: Request, _ session: AuthenticatedStaff) async throws -> Response {
        let role = session.identity.role
        guard role.seesQueue else {
            return try page(request, "staff-cases", staff: session, ["noQueue": true, "canSeeKeys": Self.canSeeKeys(role)])
        }
        let cases = try await casework.queue(for: session.identity)
        return try page(
            request, "staff-cases", staff: session,
            ["queue": true, "cases": cases.map(Self.summaryContext), "supervisor": role == .supervisor])
    }

    /// What a case page shows besides its metadata: a notice, errors and what was typed.
    struct CaseForm {
        var notice: String?
        var errors: [FieldError] = []
        var staff = ""
        var reason = ""
    }

    /// Fixed notices after a change (the query string carries only these keys, never content).
    static let doneNotices: [String: String] = [
        "assigned": "The case has been assigned.",
        "replied": "Your reply has been sent. The survivor can read it when they next come back.",
        "status": "The status has been changed.",
    ]

    /// A case's metadata and the forms the caller's role may use. Metadata only: nothing here is decrypted.
    func casePage(
        _ request: Request, _ session: AuthenticatedStaff, _ reference: RecordID, status: HTTPResponse.Status, form: CaseForm
    ) async throws -> Response {
        let role = session.identity.role
        guard role.seesQueue else {
            return try refusalPage(request, session, AccessDenial.roleCannotRead, heading: "This case cannot be shown", reference: nil)
        }
        // Supervisors see every case; readers see the cases assigned to them.
        let summary = try await casework.queue(for: session.identity).first { $0.reference == reference.reference }
        if role == .supervisor && summary == nil {
            throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        }
        var context = Self.errorContext(form.errors)
        context["reference"] = reference.reference
        if let summary { context["summary"] = Self.summaryContext(summary) } else { context["notInQueue"] = true }
        if let notice = form.notice { context["notice"] = notice }
        if role == .supervisor { context["assign"] = ["value": form.staff] }
        if let scope = role.readScope {
            context["open"] = ["value": form.reason, "scope": Self.scopeName(scope).lowercased(), "maxLength": Limits.reason]
            // Changing the status needs no decryption, so it is offered without opening the case
            // again (which would add an entry to the survivor's access log).
            if let summary {
                context["statusForm"] = [
                    "statuses": CaseStatus.allCases.map {
                        ["value": $0.rawValue, "name": Self.statusName($0.rawValue), "selected": $0.rawValue == summary.status]
                    }
                ]
            }
        }
        if let error = form.errors.first(where: { $0.field == "assign-staff" }) { context["staffError"] = error.text }
        if let error = form.errors.first(where: { $0.field == "reason" }) { context["reasonError"] = error.text }
        return try page(request, "staff-case", status: status, staff: session, context)
    }

    /// The case forms: assign, open with a reason, reply and set the status.
    func registerCaseActions(on group: RouterGroup<StaffContext>) {
        group.post("/cases/:reference/assign") { request, context in
            let fields = try await FormFields.read(request, allowed: ["staff"])
            try pages.forms.verify(request, fields)
            let session = context.session
            let reference = try CaseworkRoutes.reference(context)
            guard let username = fields.trimmed("staff") else {
                return try await casePage(
                    request, session, reference, status: .badRequest,
                    form: CaseForm(errors: [FieldError(field: "assign-staff", text: "Enter the username of the person to assign")]))
            }
            do {
                try await casework.assign(reference, to: username, by: session.identity)
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, heading: "The case was not assigned", reference: reference)
            } catch let p as Problem where p.kind == .badRequest {
                return try await casePage(
                    request, session, reference, status: .badRequest,
                    form: CaseForm(
                        errors: [
                            FieldError(
                                field: "assign-staff",
                                text: "Enter the username of an active caseworker, reviewer or liaison officer; '\(username)' is not one")
                        ], staff: username))
            }
            return seeOther("/cases/\(reference.reference)?done=assigned")
        }
        group.post("/cases/:reference/open") { request, context in
            let fields = try await FormFields.read(request, allowed: ["reason"])
            try pages.forms.verify(request, fields)
            let session = context.session
            let reference = try CaseworkRoutes.reference(context)
            // A reason is one line; line breaks from a pasted text become spaces.
            let reason = (fields.trimmed("reason") ?? "").split(whereSeparator: \.isNewline).joined(separator: " ")
            var problem: String?
            if reason.isEmpty {
                problem = "Enter why you are opening this case"
            } else if reason.count > Limits.reason {
                problem = "Keep the reason to \(Limits.reason) characters or fewer"
            }
            if let problem {
                return try await casePage(
                    request, session, reference, status: .badRequest,
                    form: CaseForm(errors: [FieldError(field: "reason", text: problem)], reason: reason))
            }
            do {
                let opened = try await casework.open(reference, reason: reason, by: session.identity)
                return try page(request, "staff-case-open", staff: session, Self.openedContext(opened))
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, heading: "This case cannot be opened", reference: reference)
            }
        }
        group.post("/cases/:reference/replies") { request, context in
            let fields = try await FormFields.read(request, allowed: ["text"])
            try pages.forms.verify(request, fields)
            let session = context.session
            let reference = try CaseworkRoutes.reference(context)
            let text = fields.trimmed("text") ?? ""
            guard !text.isEmpty, text.count <= Limits.message else {
                return try page(
                    request, "staff-error", status: .badRequest, staff: session,
                    [
                        "heading": text.isEmpty ? "Your reply was empty" : "Your reply is too long",
                        "message": text.isEmpty
                            ? "Nothing was sent. Open the case again and write your reply."
                            : "Nothing was sent. A reply can have up to \(Limits.message) characters; please shorten it.",
                        "back": ["href": "/cases/\(reference.reference)", "text": "Back to case \(reference.reference)"],
                    ])
            }
            do {
                try await casework.reply(reference, text: text, by: session.identity)
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, heading: "Your reply was not sent", reference: reference)
            }
            return seeOther("/cases/\(reference.reference)?done=replied")
        }
        group.post("/cases/:reference/status") { request, context in
            let fields = try await FormFields.read(request, allowed: ["status"])
            try pages.forms.verify(request, fields)
            let session = context.session
            let reference = try CaseworkRoutes.reference(context)
            guard let status = fields.value("status").flatMap(CaseStatus.init(rawValue:)) else {
                return try page(
                    request, "staff-error", status: .badRequest, staff: session,
                    [
                        "heading": "Choose a status", "message": "Nothing was changed. Choose one of the statuses in the list.",
                        "back": ["href": "/cases/\(reference.reference)", "text": "Back to case \(reference.reference)"],
                    ])
            }
            do {
                try await casework.setStatus(reference, to: status, by: session.identity)
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, heading: "The status was not changed", reference: reference)
            }
            return seeOther("/cases/\(reference.reference)?done=status")
        }
    }

    // MARK: Keys

    static let keysRefusal = AccessDenial(code: "role-cannot-see-keys", message: "only privacy officers and administrators see key status")

    static func canSeeKeys(_ role: Role) -> Bool { role == .privacyOfficer || role == .admin }

    func keysPage(_ request: Request, _ session: AuthenticatedStaff) async throws -> Response {
        guard Self.canSeeKeys(session.identity.role) else {
            return try refusalPage(request, session, Self.keysRefusal, heading: "Key status is not available to you", reference: nil)
        }
        let report = try await keyStatus.report()
        let lines: [[String: Any]] = report.keys.map { line in
            var row: [String: Any] = [
                "key": line.key, "version": line.version.map { "v\($0)" } ?? "Not versioned", "state": Self.keyStateName(line),
                "wraps": line.wraps.map(String.init) ?? "Not applicable", "canRetire": line.canRetire ? "Yes" : "No",
            ]
            if !line.problems.isEmpty { row["problems"] = line.problems.map { ["text": $0] } }
            return row
        }
        return try page(request, "staff-keys", staff: session, ["keys": lines, "hasProblems": report.hasProblems])
    }

}

// How the staff pages word what they show: template values for cases and plain names for codes.
extension StaffPages {
    static func summaryContext(_ c: CaseSummary) -> [String: Any] {
        [
            "reference": c.reference, "created": displayTime(c.createdHour), "region": regionName(c.region), "status": statusName(c.status),
            "scopes": c.liveScopes.map { ["name": scopeName($0)] }, "assignee": c.assignee ?? "Not assigned",
        ]
    }

    static func openedContext(_ o: OpenedCase) -> [String: Any] {
        let r = o.request
        var request: [String: Any] = [
            "contacts": r.contact.map { c -> [String: Any] in
                var d: [String: Any] = ["method": contactMethodName(c.method), "value": c.value]
                if let safe = c.safeTimes { d["safeTimes"] = safe }
                if let leave = c.mayLeaveMessage { d["mayLeaveMessage"] = leave ? "Yes" : "No" }
                return d
            },
            "wants": r.wants.map(wantName).joined(separator: ", "),
        ]
        if let name = r.preferredName { request["preferredName"] = name }
        if let account = r.account { request["account"] = account }
        return [
            "reference": o.reference, "status": statusName(o.status), "created": displayTime(o.createdHour), "region": regionName(o.region),
            "request": request,
            "consents": o.consents.map { c -> [String: Any] in
                var d: [String: Any] = ["name": scopeName(c.scope)]
                if let until = c.expires { d["expires"] = "\(until)" }
                return d
            },
            "messages": o.messages.map { m -> [String: Any] in
                let fromStaff = m.author != "survivor"
                let who = fromStaff ? "\(m.pseudonym ?? "Staff")\(m.role.map { " (\($0.plainName))" } ?? "")" : "The survivor"
                return ["mine": fromStaff, "from": who, "at": displayTime(m.at), "text": m.text]
            },
            "statuses": CaseStatus.allCases.map { ["value": $0.rawValue, "name": statusName($0.rawValue), "selected": $0.rawValue == o.status] },
            "maxMessage": Limits.message,
        ]
    }

    static func keyStateName(_ line: KeyStatusReport.Line) -> String {
        guard line.problems.isEmpty else { return "Problem" }
        return switch line.state {
        case "primary": "Primary"
        case "decrypt-only": "Decrypt only"
        case "retired": "Retired"
        case "present": "Present"
        case "missing": "Missing"
        default: line.state
        }
    }

    // MARK: Plain names

    /// `2026-11-29 14:05 UTC`.
    static func displayTime(_ unixSeconds: Int64) -> String {
        let text = rfc3339(unixSeconds: unixSeconds)  // 2026-11-29T14:05:09Z
        return "\(text.prefix(10)) \(text.dropFirst(11).prefix(5)) UTC"
    }

    static func statusName(_ raw: String) -> String {
        switch CaseStatus(rawValue: raw) {
        case .new: "New"
        case .inProgress: "In progress"
        case .waiting: "Waiting"
        case .closed: "Closed"
        case nil: raw
        }
    }

    static func scopeName(_ scope: Scope) -> String {
        switch scope {
        case .support: "Support"
        case .review: "Review"
        case .police: "Police"
        case .prosecution: "Prosecution"
        }
    }

    static func regionName(_ region: Region?) -> String {
        switch region {
        case nil: "Not given"
        case .northEast: "North East"
        case .northWest: "North West"
        case .yorkshireHumber: "Yorkshire and the Humber"
        case .eastMidlands: "East Midlands"
        case .westMidlands: "West Midlands"
        case .east: "East of England"
        case .london: "London"
        case .southEast: "South East"
        case .southWest: "South West"
        case .wales: "Wales"
        case .scotland: "Scotland"
        case .northernIreland: "Northern Ireland"
        }
    }

    static func contactMethodName(_ kind: ContactMethodKind) -> String {
        switch kind {
        case .phone: "Phone"
        case .email: "Email"
        case .post: "Post"
        case .organisation: "Through an organisation"
        }
    }

    static func wantName(_ want: Want) -> String {
        switch want {
        case .support: "Support"
        case .reopen: "Reopening their case"
        case .information: "Information"
        }
    }
}
