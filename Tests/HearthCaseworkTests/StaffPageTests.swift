import Foundation
import HearthCasework
import HearthCore
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

// The staff pages over real TLS, driven like a browser without JavaScript: two-step sign-in,
// the forced password change, form tokens, a caseworker's whole journey, refusals in plain words,
// the key status page, and what every page must and must not contain.

// MARK: - Helpers

/// Checks what every staff page must carry: HTML, the security headers, one h1, a label for every
/// field, and no inline style or script.
private func expectPage(
    _ reply: TestHTTPSClient.Reply, _ what: String, status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status == status, "\(what): \(reply.status) \(reply.text.prefix(400))", sourceLocation: sourceLocation)
    #expect(reply.headers["Content-Type"].first == "text/html; charset=utf-8", "\(what)", sourceLocation: sourceLocation)
    #expect(
        reply.headers["Content-Security-Policy"].first
            == "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
        "\(what)", sourceLocation: sourceLocation)
    #expect(reply.headers["Strict-Transport-Security"].first?.hasPrefix("max-age=") == true, "\(what)", sourceLocation: sourceLocation)
    #expect(reply.headers["Cache-Control"].first == "no-store", "\(what)", sourceLocation: sourceLocation)
    #expect(reply.headers["X-Content-Type-Options"].first == "nosniff", "\(what)", sourceLocation: sourceLocation)
    #expect(reply.headers["Referrer-Policy"].first == "no-referrer", "\(what)", sourceLocation: sourceLocation)
    #expect(reply.headers["X-Frame-Options"].first == "DENY", "\(what)", sourceLocation: sourceLocation)
    let html = reply.text
    #expect(html.hasPrefix("<!doctype html>") && html.contains("<html lang=\"en\" dir=\"ltr\">"), "\(what)", sourceLocation: sourceLocation)
    #expect(!html.contains("style="), "\(what): no inline style", sourceLocation: sourceLocation)
    #expect(!html.lowercased().contains("<script"), "\(what): no script at all", sourceLocation: sourceLocation)
    #expect(html.components(separatedBy: "<h1").count == 2, "\(what): exactly one h1", sourceLocation: sourceLocation)
    for id in fieldIDs(html) {
        #expect(html.contains("<label for=\"\(id)\""), "\(what): field '\(id)' has a label", sourceLocation: sourceLocation)
    }
}

/// The ids of every visible input, select and textarea.
private func fieldIDs(_ html: String) -> [String] {
    let pattern = try! NSRegularExpression(pattern: #"<(input|select|textarea)\b([^>]*)>"#)
    let ns = html as NSString
    return pattern.matches(in: html, range: NSRange(location: 0, length: ns.length)).compactMap { m in
        let attributes = ns.substring(with: m.range(at: 2))
        guard !attributes.contains("type=\"hidden\""), let r = attributes.range(of: "id=\"") else { return nil }
        return String(attributes[r.upperBound...].prefix { $0 != "\"" })
    }
}

/// Signs a member of staff in through the pages and checks it worked.
private func signedInBrowser(
    _ h: CaseworkHarness, _ s: TestStaff, sourceLocation: SourceLocation = #_sourceLocation
) async throws
    -> PageBrowser
{
    let b = h.browser()
    let reply = try await h.pageSignIn(b, s)
    #expect(reply.status == 303 && location(reply) == "/cases", "sign-in: \(reply.status) \(reply.text)", sourceLocation: sourceLocation)
    return b
}

/// Assigns through the API (for tests about something else).
private func assign(_ h: CaseworkHarness, _ reference: String, to username: String, by supervisor: TestStaff) async throws {
    let reply = try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": username])
    guard reply.status == 200 else { throw HarnessError("assign: \(reply.status) \(reply.text)") }
}

private let loginFailedWords = "The username, password or code was not right"

// MARK: - Sign-in

@Suite("Staff pages: two-step sign-in")
struct StaffPageSignInTests {
    @Test("password, then code: a session cookie like the API's (Secure, HttpOnly, SameSite=Strict), the step cookie cleared, the queue")
    func signInInTwoSteps() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let b = h.browser()
            h.clock.advance(seconds: 30)

            let form = try await b.get("/login")
            expectPage(form, "GET /login")
            #expect(form.text.contains("id=\"username\"") && form.text.contains("id=\"password\"") && form.text.contains("id=\"continue\""))
            #expect(form.headers["Set-Cookie"].first?.hasPrefix("__Host-hearth-form=") == true)

            let first = try await b.post("/login", [("username", "alice"), ("password", alice.password)])
            #expect(first.status == 303 && location(first) == "/login/code")
            let stepCookie = try #require(first.headers["Set-Cookie"].first)
            #expect(stepCookie.hasPrefix("\(StaffPages.loginCookieName)="))
            #expect(stepCookie.contains("Secure") && stepCookie.contains("HttpOnly") && stepCookie.contains("SameSite=Strict"))
            #expect(stepCookie.contains("Path=/") && stepCookie.contains("Max-Age=300"))

            let codeForm = try await b.get("/login/code")
            expectPage(codeForm, "GET /login/code")
            for attribute in ["id=\"totp\"", "name=\"totp\"", "inputmode=\"numeric\"", "autocomplete=\"one-time-code\"", "id=\"sign-in\""] {
                #expect(codeForm.text.contains(attribute), "\(attribute)")
            }

            let second = try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))])
            #expect(second.status == 303 && location(second) == "/cases", "\(second.status) \(second.text)")
            let cookies = second.headers["Set-Cookie"]
            let session = try #require(cookies.first { $0.hasPrefix("\(StaffSessions.cookieName)=") })
            #expect(session.contains("Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=\(StaffService.absoluteTimeout)"))
            #expect(cookies.contains { $0.hasPrefix("\(StaffPages.loginCookieName)=;") && $0.contains("Max-Age=0") }, "the step cookie ends")
            #expect(await b.cookies[StaffPages.loginCookieName] == nil)

            let queue = try await b.get("/cases")
            expectPage(queue, "GET /cases")
            #expect(queue.text.contains("<table id=\"queue\">"))
            #expect(queue.text.contains("alice (support caseworker)"), "the account bar names who is signed in")
            #expect(try await b.get("/").headers["Location"].first == "/cases")
            #expect(try await b.get("/login").headers["Location"].first == "/cases", "signed in: no second sign-in")
        }
    }

    @Test("the password step answers the same for a right and a wrong password; only the code step says, and says the same for every cause")
    func failuresAreIdentical() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let b = h.browser()
            _ = try await b.get("/login")

            func attempt(_ username: String, _ password: String, code: (() -> String)?, wait: Int64 = 0) async throws -> TestHTTPSClient.Reply {
                h.clock.advance(seconds: 30)
                let first = try await b.post("/login", [("username", username), ("password", password)])
                #expect(first.status == 303 && location(first) == "/login/code", "step 1 never tells: \(first.status)")
                #expect(first.body.isEmpty)
                h.clock.advance(seconds: wait)
                return try await b.post("/login/code", [("totp", code?() ?? h.totp(alice.totpSecret))])
            }

            let wrongPassword = try await attempt("alice", "not alice's password", code: nil)
            let wrongCodeReply = try await attempt("alice", alice.password, code: { wrongCode(h, alice) })
            let unknownUser = try await attempt("nobody", alice.password, code: nil)
            let expired = try await attempt("alice", alice.password, code: nil, wait: StaffPages.pendingLoginSeconds + 1)
            h.clock.advance(seconds: 30)
            let noFirstStep = try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))])

            expectPage(wrongPassword, "wrong password", status: 401)
            #expect(wrongPassword.text.contains(loginFailedWords))
            #expect(wrongPassword.text.contains("id=\"username\""), "the failure shows the first step again")
            for (name, reply) in [
                ("wrong code", wrongCodeReply), ("unknown user", unknownUser), ("expired first step", expired), ("no first step", noFirstStep),
            ] {
                #expect(reply.status == 401, "\(name): \(reply.status)")
                #expect(reply.body == wrongPassword.body, "\(name): byte-identical to a wrong password")
                #expect(!reply.headers["Set-Cookie"].contains { $0.hasPrefix("\(StaffSessions.cookieName)=") }, "\(name): no session")
            }
            #expect(await b.cookies[StaffSessions.cookieName] == nil)
            #expect(try await b.get("/cases").headers["Location"].first == "/login")

            // A failed code step used up the first step: the right code alone does not sign in.
            h.clock.advance(seconds: 30)
            _ = try await b.post("/login", [("username", "alice"), ("password", "wrong")])
            _ = try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))])
            h.clock.advance(seconds: 30)
            let replayedStep = try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))])
            #expect(replayedStep.status == 401)
            #expect(try await h.pageSignIn(b, alice).status == 303, "the right details still work afterwards")
        }
    }

    @Test("the API's per-address failure limit applies to the sign-in pages: 429 with Retry-After once it is used up")
    func rateLimited() async throws {
        try await CaseworkHarness.with(loginFailuresPerAddress: 2) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let b = h.browser()
            _ = try await b.get("/login")
            for _ in 0..<2 {
                _ = try await b.post("/login", [("username", "alice"), ("password", "wrong")])
                #expect(try await b.post("/login/code", [("totp", "000000")]).status == 401)
            }
            let limited = try await b.post("/login", [("username", "alice"), ("password", alice.password)])
            expectPage(limited, "rate limited", status: 429)
            #expect(limited.headers["Retry-After"].first.flatMap(Int.init) != nil)
            #expect(try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))]).status == 429)
        }
    }

    @Test("an empty code asks again without using up the first step; empty fields on the first step are named")
    func emptyFields() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let b = h.browser()
            _ = try await b.get("/login")
            let empty = try await b.post("/login", [("username", ""), ("password", "")])
            expectPage(empty, "empty sign-in", status: 400)
            #expect(
                empty.text.contains("id=\"error-summary\"") && empty.text.contains("href=\"#username\"") && empty.text.contains("href=\"#password\""))

            h.clock.advance(seconds: 30)
            _ = try await b.post("/login", [("username", "alice"), ("password", alice.password)])
            let noCode = try await b.post("/login/code", [("totp", " ")])
            expectPage(noCode, "empty code", status: 400)
            #expect(noCode.text.contains("href=\"#totp\""))
            let signedIn = try await b.post("/login/code", [("totp", h.totp(alice.totpSecret))])
            #expect(signedIn.status == 303 && location(signedIn) == "/cases")
        }
    }

    @Test("signing out ends the session: the old cookie no longer opens any page")
    func signOut() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let b = try await signedInBrowser(h, alice)
            let queue = try await b.get("/cases")
            #expect(queue.text.contains("action=\"/logout\""), "every signed-in page has the sign-out form")
            let old = try #require(await b.cookies[StaffSessions.cookieName])

            let out = try await b.post("/logout")
            #expect(out.status == 303 && location(out) == "/login")
            #expect(out.headers["Set-Cookie"].contains { $0.hasPrefix("\(StaffSessions.cookieName)=;") && $0.contains("Max-Age=0") })
            await b.setCookie(StaffSessions.cookieName, old)
            #expect(location(try await b.get("/cases")) == "/login")
            #expect(try await h.auditRows().contains { $0.action == "session.logout" })
        }
    }
}

// MARK: - Password change

@Suite("Staff pages: the one-time password")
struct StaffPagePasswordTests {
    @Test("with the one-time password, every page but /password and sign-out sends you to /password, and nothing happens")
    func forcedPasswordChange() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let fern = try await h.addStaff("fern", .caseworker)
            let (reference, _) = try await h.submit(consents: ["support"])
            try await assign(h, reference, to: "fern", by: supervisor)

            let b = h.browser()
            let signIn = try await h.pageSignIn(b, fern)
            #expect(signIn.status == 303 && location(signIn) == "/password")
            let auditBefore = try await h.auditRows().count
            for path in ["/cases", "/cases/\(reference)", "/keys"] {
                #expect(location(try await b.get(path)) == "/password", "GET \(path)")
            }
            let page = try await b.get("/password")
            expectPage(page, "GET /password (first time)")
            #expect(page.text.contains("Choose your own password"))
            for id in ["password", "newPassword", "confirmPassword", "change-password"] { #expect(page.text.contains("id=\"\(id)\"")) }
            for (path, fields) in [
                ("/cases/\(reference)/open", [("reason", "trying early")]), ("/cases/\(reference)/replies", [("text", "hello")]),
                ("/cases/\(reference)/status", [("status", "closed")]),
            ] {
                #expect(location(try await b.post(path, fields)) == "/password", "POST \(path)")
            }
            #expect(try await h.auditRows().count == auditBefore, "nothing was done")
            #expect(try await h.count("SELECT count(*) FROM access_log") + h.count("SELECT count(*) FROM messages") == 0)

            let mismatch = try await b.post(
                "/password", [("password", fern.password), ("newPassword", "fern's long new password"), ("confirmPassword", "something else")])
            expectPage(mismatch, "mismatched confirmation", status: 400)
            #expect(mismatch.text.contains("href=\"#confirmPassword\""))
            let wrongCurrent = try await b.post(
                "/password", [("password", "not it"), ("newPassword", "fern's long new password"), ("confirmPassword", "fern's long new password")])
            expectPage(wrongCurrent, "wrong current password", status: 400)
            #expect(wrongCurrent.text.contains("href=\"#password\"") && wrongCurrent.text.contains("The current password is not right"))

            let changed = try await b.post(
                "/password",
                [("password", fern.password), ("newPassword", "fern's long new password"), ("confirmPassword", "fern's long new password")])
            #expect(changed.status == 303 && location(changed) == "/cases", "\(changed.status) \(changed.text)")
            let queue = try await b.get("/cases")
            expectPage(queue, "queue after the change")
            #expect(queue.text.contains("href=\"/cases/\(reference)\""))
        }
    }
}

// MARK: - Form tokens

@Suite("Staff pages: form tokens")
struct StaffPageFormTokenTests {
    @Test("a post without the form token, with a wrong one, or without the form cookie is refused with 403 and changes nothing")
    func postsNeedTheToken() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, _) = try await h.submit(consents: ["support"])
            let sue = try await signedInBrowser(h, supervisor)
            let al = try await signedInBrowser(h, alice)
            _ = try await sue.get("/cases/\(reference)")
            let auditBefore = try await h.auditRows().count

            let tokens: [(String, PageBrowser.Token)] = [("no token", .none), ("wrong token", .value("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))]
            for (name, token) in tokens {
                let refused = try await sue.post("/cases/\(reference)/assign", [("staff", "alice")], token: token)
                expectPage(refused, "assign with \(name)", status: 403)
                #expect(refused.text.contains("nothing was changed"), "\(name): \(refused.text)")
                for (path, fields) in [
                    ("/cases/\(reference)/open", [("reason", "no token")]), ("/cases/\(reference)/replies", [("text", "no token")]),
                    ("/cases/\(reference)/status", [("status", "closed")]),
                ] {
                    #expect(try await al.post(path, fields, token: token).status == 403, "\(path) with \(name)")
                }
                #expect(try await sue.post("/logout", token: token).status == 403)
                #expect(try await h.browser().post("/login", [("username", "alice"), ("password", alice.password)], token: token).status == 403)
            }
            // The right token from another browser does not help: it is bound to that browser's form cookie.
            let stranger = h.browser()
            _ = try await stranger.get("/login")
            let foreign = try #require(await stranger.csrf)
            #expect(try await sue.post("/cases/\(reference)/assign", [("staff", "alice")], token: .value(foreign)).status == 403)
            // Without the form cookie the token means nothing.
            let token = try #require(await sue.csrf)
            let formCookie = await sue.cookies["__Host-hearth-form"]
            await sue.setCookie("__Host-hearth-form", nil)
            #expect(try await sue.post("/cases/\(reference)/assign", [("staff", "alice")], token: .value(token)).status == 403)
            await sue.setCookie("__Host-hearth-form", formCookie)

            #expect(try await h.auditRows().count == auditBefore, "nothing was done")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL OR status <> 'new'") == 0)
            #expect(try await h.count("SELECT count(*) FROM messages") + h.count("SELECT count(*) FROM access_log") == 0)
            #expect(try await sue.get("/cases").status == 200, "the refused sign-out left the session alone")
        }
    }
}

// MARK: - Default deny

@Suite("Staff pages: default deny")
struct StaffPageDefaultDenyTests {
    @Test("without a session every page route sends you to /login, even with a valid form token, and changes nothing")
    func everyPageNeedsASession() async throws {
        try await CaseworkHarness.with { h in
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))
            let b = h.browser()
            _ = try await b.get("/login")  // a form cookie and a valid token, but no session
            let auditBefore = try await h.auditRows().count
            // Every page route outside the allowlist, and sign-out, which needs no session.
            let pageRoutes = sessionRoutes(try await routeTable(h)).filter { !$0.1.hasPrefix("/api/") } + [(.post, "/logout")]
            #expect(pageRoutes.count >= 10)
            for (method, template) in pageRoutes {
                let path = template.replacingOccurrences(of: "{reference}", with: reference)
                let reply = method == .get ? try await b.get(path) : try await b.post(path, pageFields[template] ?? [])
                #expect(reply.status == 303 && location(reply) == "/login", "\(method.rawValue) \(template): \(reply.status)")
                #expect(!reply.text.contains("Sam"), "\(method.rawValue) \(template)")
            }
            #expect(location(try await b.get("/")) == "/login")
            #expect(try await h.auditRows().count == auditBefore, "nothing was done")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL OR status <> 'new'") == 0)
            #expect(try await h.count("SELECT count(*) FROM messages") + h.count("SELECT count(*) FROM access_log") == 0)
        }
    }
}

// MARK: - Casework

@Suite("Staff pages: casework")
struct StaffPageCaseworkTests {
    @Test("supervisor assigns by form; the caseworker opens with a reason, reads, replies and sets the status; the survivor sees the opening")
    func caseworkerJourney() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support", "review"])

            // The supervisor: metadata and the assign form, never an open form.
            let sue = try await signedInBrowser(h, supervisor)
            let queue = try await sue.get("/cases")
            expectPage(queue, "supervisor's queue")
            #expect(queue.text.contains("<a href=\"/cases/\(reference)\">\(reference)</a>"))
            #expect(queue.text.contains("<caption>") && queue.text.contains("<th scope=\"col\">"))
            #expect(queue.text.contains("North West") && queue.text.contains("Not assigned"))
            #expect(!queue.text.contains("What happened"), "the queue is metadata only")
            let casePage = try await sue.get("/cases/\(reference)")
            expectPage(casePage, "supervisor's case page")
            #expect(
                casePage.text.contains("id=\"assign-staff\"") && casePage.text.contains("name=\"staff\"") && casePage.text.contains("id=\"assign\""))
            #expect(!casePage.text.contains("id=\"reason\""), "supervisors cannot open")
            let badAssign = try await sue.post("/cases/\(reference)/assign", [("staff", "nobody-here")])
            expectPage(badAssign, "assign to an unknown username", status: 400)
            #expect(badAssign.text.contains("href=\"#assign-staff\""))
            let assigned = try await sue.post("/cases/\(reference)/assign", [("staff", "alice")])
            #expect(assigned.status == 303 && location(assigned) == "/cases/\(reference)?done=assigned")
            let afterAssign = try await sue.get("/cases/\(reference)?done=assigned")
            expectPage(afterAssign, "case page after assigning")
            #expect(afterAssign.text.contains("The case has been assigned.") && afterAssign.text.contains("<dd>alice</dd>"))

            // The caseworker: the case is in the queue; opening needs a reason.
            let al = try await signedInBrowser(h, alice)
            #expect(try await al.get("/cases").text.contains("href=\"/cases/\(reference)\""))
            let aliceCase = try await al.get("/cases/\(reference)")
            expectPage(aliceCase, "caseworker's case page")
            #expect(aliceCase.text.contains("id=\"reason\"") && aliceCase.text.contains("id=\"open\""))
            #expect(!aliceCase.text.contains("What happened"), "nothing is decrypted before opening")
            let noReason = try await al.post("/cases/\(reference)/open", [("reason", "  ")])
            expectPage(noReason, "open without a reason", status: 400)
            #expect(noReason.text.contains("href=\"#reason\"") && !noReason.text.contains("What happened"))
            let tooLong = try await al.post("/cases/\(reference)/open", [("reason", String(repeating: "x", count: Limits.reason + 1))])
            #expect(tooLong.status == 400)
            #expect(try await h.count("SELECT count(*) FROM access_log") == 0)

            let opened = try await al.post("/cases/\(reference)/open", [("reason", "first contact to offer support")])
            expectPage(opened, "opened case")
            #expect(opened.text.contains("id=\"request\""))
            #expect(opened.text.contains("What happened, in my words."), "the decrypted account")
            #expect(opened.text.contains("07700 900123") && opened.text.contains("weekdays before 3pm"))
            #expect(opened.text.contains("id=\"messages\"") && opened.text.contains("No messages yet."))
            for id in ["reply-text", "send-reply", "status", "set-status"] { #expect(opened.text.contains("id=\"\(id)\""), "\(id)") }
            #expect(opened.text.contains("<option value=\"new\" selected>"))

            let access = try await h.intake.send(.GET, "/api/v1/me/access", receipt: receipt)
            let entries = try #require(access.json["access"] as? [[String: Any]])
            #expect(entries.count == 1)
            #expect(entries.first?["reason"] as? String == "first contact to offer support")
            #expect(entries.first?["role"] as? String == "caseworker")

            let replied = try await al.post("/cases/\(reference)/replies", [("text", "Hello Sam,\nI am from the support team.")])
            #expect(replied.status == 303 && location(replied) == "/cases/\(reference)?done=replied")
            let thread = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            #expect((thread.json["messages"] as? [[String: Any]])?.first?["text"] as? String == "Hello Sam,\nI am from the support team.")
            let emptyReply = try await al.post("/cases/\(reference)/replies", [("text", "   ")])
            expectPage(emptyReply, "empty reply", status: 400)
            #expect(try await h.count("SELECT count(*) FROM messages") == 1)

            let status = try await al.post("/cases/\(reference)/status", [("status", "in-progress")])
            #expect(status.status == 303 && location(status) == "/cases/\(reference)?done=status")
            #expect(try await h.count("SELECT count(*) FROM records WHERE status = 'in-progress'") == 1)
            #expect(try await al.post("/cases/\(reference)/status", [("status", "sideways")]).status == 400)
            // The case page (metadata only) offers the status too, so changing it needs no new opening.
            let metadataPage = try await al.get("/cases/\(reference)")
            expectPage(metadataPage, "case page after a status change")
            #expect(metadataPage.text.contains("id=\"set-status\"") && metadataPage.text.contains("<option value=\"in-progress\" selected>"))
            #expect(try await h.count("SELECT count(*) FROM access_log") == 1, "showing the case page is not an opening")

            let reopened = try await al.post("/cases/\(reference)/open", [("reason", "reading my reply back")])
            expectPage(reopened, "reopened case")
            #expect(reopened.text.contains("class=\"message mine\""))
            #expect(reopened.text.contains("Hello Sam,\nI am from the support team."))
            #expect(reopened.text.contains("<option value=\"in-progress\" selected>"))
            #expect(try await h.count("SELECT count(*) FROM access_log") == 2, "every opening is logged for the survivor")
        }
    }

    @Test("refusals say why in plain words, with 403 and no record content: no consent, not assigned, role cannot read")
    func refusalsInPlainWords() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let canary = "CANARY\(UInt64.random(in: 1_000_000...9_999_999))PG"
            let (noSupport, _) = try await h.submit(consents: ["review", "police"], canary: canary)
            let (unassigned, _) = try await h.submit(consents: ["support"], canary: canary)
            try await assign(h, noSupport, to: "alice", by: supervisor)
            let al = try await signedInBrowser(h, alice)
            let sue = try await signedInBrowser(h, supervisor)

            let cases: [(String, PageBrowser, String, String)] = [
                ("no consent", al, noSupport, "The survivor has not agreed to share this with your role"),
                ("not assigned", al, unassigned, "This case is not assigned to you"),
                ("role cannot read", sue, unassigned, "Your role cannot read survivors&#39; requests"),
            ]
            for (name, b, reference, words) in cases {
                let refused = try await b.post("/cases/\(reference)/open", [("reason", "trying")])
                expectPage(refused, "refusal: \(name)", status: 403)
                #expect(refused.text.contains("id=\"refusal\""), "\(name)")
                #expect(refused.text.contains(words), "\(name): \(refused.text)")
                #expect(!refused.text.contains(canary) && !refused.text.contains("id=\"request\""), "\(name): no record content")
            }
            let replyRefused = try await al.post("/cases/\(noSupport)/replies", [("text", "hello?")])
            expectPage(replyRefused, "refused reply", status: 403)
            #expect(replyRefused.text.contains("Your reply was not sent") && replyRefused.text.contains("has not agreed to share"))
            #expect(try await al.post("/cases/\(unassigned)/status", [("status", "closed")]).status == 403)

            // Only supervisors assign.
            _ = try await al.get("/cases/\(unassigned)")
            let notSupervisor = try await al.post("/cases/\(unassigned)/assign", [("staff", "alice")])
            expectPage(notSupervisor, "caseworker assigning", status: 403)
            #expect(notSupervisor.text.contains("Only supervisors can assign cases."))

            #expect(try await h.count("SELECT count(*) FROM access_log") + h.count("SELECT count(*) FROM messages") == 0)
            #expect(try await h.count("SELECT count(*) FROM records WHERE status <> 'new'") == 0)
            let refusals = try await h.auditRows().filter { $0.action == "case.open" }.map(\.outcome)
            #expect(refusals == ["no-consent", "not-assigned", "role-cannot-read"], "every refusal is audited")
        }
    }

    @Test("survivor text is escaped everywhere it is shown: no markup from a request or a reply reaches the page")
    func survivorTextIsEscaped() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'"
            let (reference, receipt) = try await h.submit(consents: ["support"], canary: hostile)
            #expect(
                try await h.intake.send(.POST, "/api/v1/me/messages", json: ["group": "support", "text": "<b>bold</b> \(hostile)"], receipt: receipt)
                    .status == 201)
            try await assign(h, reference, to: "alice", by: supervisor)
            let al = try await signedInBrowser(h, alice)

            let opened = try await al.post("/cases/\(reference)/open", [("reason", "reading <em>carefully</em>")])
            expectPage(opened, "opened case with hostile text")
            #expect(!opened.text.contains("<img") && !opened.text.contains("<b>") && !opened.text.contains("onerror=alert(2)>"))
            #expect(opened.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;"))
            #expect(opened.text.contains("&lt;b&gt;bold&lt;/b&gt;"))

            // What staff type is escaped too, including values echoed back into a form.
            let sue = try await signedInBrowser(h, supervisor)
            _ = try await sue.get("/cases/\(reference)")
            let echoed = try await sue.post("/cases/\(reference)/assign", [("staff", "\"><script>alert(3)</script>")])
            expectPage(echoed, "assign error echoing input", status: 400)
            #expect(echoed.text.contains("value=\"&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;\""))
        }
    }
}

// MARK: - Key status

@Suite("Staff pages: key status")
struct StaffPageKeyTests {
    @Test("privacy officers and admins see every key and scope with wrap counts; no private key is opened; others get 403")
    func keyStatusPage() async throws {
        try await CaseworkHarness.with { h in
            let officer = try await h.readyStaff("pat", .privacyOfficer)
            let admin = try await h.readyStaff("adam", .admin)
            let alice = try await h.readyStaff("alice", .caseworker)
            let supervisor = try await h.readyStaff("sue", .supervisor)
            _ = try await h.submit(consents: ["support", "police"])
            _ = try await h.submit(consents: ["support"])

            let pat = try await signedInBrowser(h, officer)
            let cases = try await pat.get("/cases")
            expectPage(cases, "privacy officer's cases page")
            #expect(cases.text.contains("no case queue for you") && cases.text.contains("href=\"/keys\""))
            let keys = try await pat.get("/keys")
            expectPage(keys, "GET /keys")
            #expect(keys.text.contains("<table id=\"keys\">") && keys.text.contains("<caption>"))
            for key in ["master", "support", "review", "police", "prosecution", "audit", "casework", "tls"] {
                #expect(keys.text.contains("<th scope=\"row\">\(key)</th>"), "\(key)")
            }
            let report = KeyStatusReport(directory: h.keys, wrapCounts: try await h.store.wrapCounts())
            #expect(report.keys.first { $0.key == "support" }?.wraps == 2)
            #expect(keys.text.contains("<th scope=\"row\">support</th><td>v1</td><td>Primary</td><td>2</td><td>No</td>"))
            #expect(keys.text.contains("<th scope=\"row\">police</th><td>v1</td><td>Primary</td><td>1</td><td>No</td>"))
            #expect(keys.text.contains("<th scope=\"row\">review</th><td>v1</td><td>Primary</td><td>0</td><td>No</td>"))
            #expect(!keys.text.contains("Problem"))

            let adam = try await signedInBrowser(h, admin)
            expectPage(try await adam.get("/keys"), "admin's key page")

            for s in [alice, supervisor] {
                let b = try await signedInBrowser(h, s)
                let refused = try await b.get("/keys")
                expectPage(refused, "\(s.role.rawValue) on /keys", status: 403)
                #expect(refused.text.contains("id=\"refusal\"") && !refused.text.contains("id=\"keys\""))
                #expect(!(try await b.get("/cases")).text.contains("href=\"/keys\""), "no key link for \(s.role.rawValue)")
            }
        }
    }
}
