import HTTPTypes
import HearthCore
import HearthHTTP
import Hummingbird

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
            try sessions.refuseIfRateLimited(context.limiterSource)
            let username = fields.trimmed("username") ?? ""
            let password = fields.value("password") ?? ""
            var errors: [FieldError] = []
            if username.isEmpty {
                errors.append(FieldError(field: "username", text: Catalogue.current.text("staffLogin.usernameMissing")))
            } else if username.count > 64 {
                errors.append(FieldError(field: "username", text: Catalogue.current.text("staffLogin.usernameTooLong")))
            }
            if password.isEmpty {
                errors.append(FieldError(field: "password", text: Catalogue.current.text("staffLogin.passwordMissing")))
            } else if password.count > 128 {
                errors.append(FieldError(field: "password", text: Catalogue.current.text("staffLogin.passwordTooLong")))
            }
            guard errors.isEmpty else {
                return try page(
                    request, "staff-login", status: .badRequest, staff: nil, Self.errorContext(errors).merging(["username": username]) { $1 })
            }
            // The password is checked now and only the outcome kept; this step answers the same
            // whether or not it was right, and the code step decides (and counts a failure).
            let check = try await sessions.checkPassword(username: username, password: password, from: context.limiterSource)
            pendingLogins.remove(FormGuard.cookie(Self.loginCookieName, in: request))
            let token = try pendingLogins.create(check)
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
            let code = (fields.value("totp") ?? "").filter { !$0.isWhitespace }
            let cookie = FormGuard.cookie(Self.loginCookieName, in: request)
            // A pending sign-in was counted by the limiter at its password step; without one,
            // the limiter answers here as on every sign-in route.
            if pendingLogins.lookup(cookie) == nil { try sessions.refuseIfRateLimited(context.limiterSource) }
            if code.isEmpty, pendingLogins.lookup(cookie) != nil {
                return try page(
                    request, "staff-login-code", status: .badRequest, staff: nil,
                    Self.errorContext([FieldError(field: "totp", text: Catalogue.current.text("staffCode.missing"))]))
            }
            let pending = pendingLogins.lookup(cookie)
            pendingLogins.remove(cookie)
            var headers: HTTPFields = [:]
            headers.append(HTTPField(name: .setCookie, value: Self.endedLoginCookie))
            guard let pending else { return try loginFailedPage(request, headers: headers) }
            let token: String
            let mustChange: Bool
            do {
                (token, mustChange) = try await sessions.signIn(pending, totp: code, from: context.limiterSource)
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
            ["errorSummary": ["items": [["href": "#username", "text": Catalogue.current.text("staffLogin.failed")]]]], headers: headers)
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
        if current.isEmpty { errors.append(FieldError(field: "password", text: Catalogue.current.text("staffPassword.currentMissing"))) }
        if !(12...128).contains(new.count) {
            errors.append(FieldError(field: "newPassword", text: Catalogue.current.text("staffPassword.newLength")))
        } else if new == current {
            errors.append(FieldError(field: "newPassword", text: Catalogue.current.text("staffPassword.newSame")))
        } else if new != confirm {
            errors.append(FieldError(field: "confirmPassword", text: Catalogue.current.text("staffPassword.mismatch")))
        }
        guard errors.isEmpty else { return try passwordPage(request, session, status: .badRequest, errors: errors) }
        do {
            try await staff.changePassword(session, current: current, new: new)
        } catch let p as Problem where p.kind == .badRequest {
            // The new password was checked above, so what is left is the current one.
            return try passwordPage(
                request, session, status: .badRequest,
                errors: [FieldError(field: "password", text: Catalogue.current.text("staffPassword.currentWrong"))])
        }
        return seeOther("/cases")
    }
}
