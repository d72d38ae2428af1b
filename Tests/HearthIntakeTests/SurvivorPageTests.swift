import Foundation
import HearthApp
import HearthCore
import HearthHTTP
import HearthIntake
import HearthKeys
import HearthStore
import HearthTestSupport
import Testing

@Suite("Survivor pages over TLS")
struct SurvivorPageTests {
    @Test("the public pages answer 200 as HTML with the security headers, one h1, labels and no inline style or script")
    func publicPages() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                for path in ["/", "/safety", "/request", "/return"] {
                    let page = try await b.get(path)
                    expectSafePage(page, status: 200, path)
                }
                let start = try await b.get("/")
                for link in [#"<a id="start"[^>]* href="/request">"#, #"<a id="come-back" href="/return">"#, #"<a href="/safety">"#] {
                    #expect(!matches(start.text, link).isEmpty, "the start page links \(link)")
                }
                #expect(start.text.contains("30 days"), "the retention period is shown")
                for scope in ["Support caseworkers", "national review team", "Police officers", "Prosecutors"] {
                    #expect(start.text.contains(scope), "the start page explains \(scope)")
                }
                let form = try await b.get("/request")
                for id in [
                    "preferredName", "contactMethod-phone", "contactMethod-email", "contactMethod-post", "contactMethod-organisation", "contactValue",
                    "safeTimes", "mayLeaveMessage-yes", "mayLeaveMessage-no", "region", "wants-support", "wants-reopen", "wants-information",
                    "account", "consent-support", "consent-review", "consent-police", "consent-prosecution", "continue",
                ] {
                    #expect(form.text.contains("id=\"\(id)\""), "the form has #\(id)")
                }
                #expect(matches(form.text, #"<input[^>]* checked[ >]"#).isEmpty, "nothing is ticked for the survivor")
                #expect(await b.hasFormCookie, "a page with a form sets the form cookie")
            }
        }
    }

    @Test("a survivor sends a request by forms, comes back with the receipt, replies, shares and stops sharing, then erases everything")
    func fullJourney() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                _ = try await b.get("/request")
                let check = try await b.post("/request", journeyAnswers(consent: ["support"]))
                expectSafePage(check, status: 200, "check your answers")
                #expect(check.text.contains("Check your answers before sending"))
                #expect(check.text.contains("Sam Journey") && check.text.contains("07700 900123"))
                #expect(try await h.count("records") == 0, "nothing is created before sending")

                // Change, then continue again: the form comes back filled in.
                let edit = try await b.post("/request/edit", hiddenFields(check.text, action: "/request/edit"))
                expectSafePage(edit, status: 200, "edit")
                #expect(edit.text.contains(#"value="Sam Journey""#) && edit.text.contains(#"value="phone" checked"#))
                #expect(edit.text.contains(#"value="support" checked"#))
                let again = try await b.post("/request", journeyAnswers(consent: ["support"]))

                let sent = try await b.post("/request/send", hiddenFields(again.text, action: "/request/send"))
                expectSafePage(sent, status: 201, "confirmation")
                #expect(sent.text.contains("Your request has been sent"))
                let receipt = try #require(element(sent.text, id: "receipt"))
                let reference = try #require(element(sent.text, id: "reference"))
                #expect(Receipt(parsing: receipt) != nil && reference.hasPrefix("HR-"))
                #expect(try await h.count("records") == 1)
                #expect(try await h.wrapRows(reference: reference).map(\.scope) == ["support"], "only the ticked scope is shared")

                // Come back: lower case, spaces instead of dashes.
                let typed = receipt.lowercased().replacingOccurrences(of: "-", with: " ")
                _ = try await b.get("/return")
                let signIn = try await b.post("/return", [("receipt", typed)])
                #expect(signIn.status == 303 && signIn.headers["Location"].first == "/your-request")
                let cookie = try #require(signIn.headers["Set-Cookie"].first { $0.hasPrefix("__Host-hearth-survivor=") })
                let token = String(cookie.dropFirst("__Host-hearth-survivor=".count).prefix { $0 != ";" })
                #expect(cookie == "__Host-hearth-survivor=\(token); Path=/; Secure; HttpOnly; SameSite=Strict", "a session cookie: no Max-Age")
                #expect(token.utf8.count == 43)

                let mine = try await b.get("/your-request")
                expectSafePage(mine, status: 200, "your request")
                #expect(mine.text.contains(reference) && mine.text.contains("Sam Journey"))
                #expect(mine.text.contains(#"<p id="access-log">No one has opened your request yet.</p>"#))
                for id in ["messages", "reply-text", "send-reply", "consents", "withdraw-support", "give-police", "expires-police", "erase", "leave"]
                {
                    #expect(mine.text.contains("id=\"\(id)\""), "your request has #\(id)")
                }
                #expect(!mine.text.contains("id=\"give-support\""), "a shared scope offers stopping, not sharing")

                // Reply.
                // One group shared: one conversation, and its choice is already ticked.
                #expect(mine.text.contains(#"id="conversation-support""#) && !mine.text.contains(#"id="conversation-police""#))
                #expect(mine.text.contains(#"id="reply-group-support" name="group" value="support" checked"#))
                #expect(mine.text.contains(#"id="who-reads-conversations""#))
                let reply = try await b.post("/your-request/messages", [("group", "support"), ("text", "Thank you.\nI can talk on Tuesdays.")])
                #expect(reply.status == 303 && reply.headers["Location"].first == "/your-request")
                let thread = try await b.get("/your-request")
                #expect(thread.text.contains(#"<div class="message mine">"#) && thread.text.contains("I can talk on Tuesdays."))
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).map(\.group) == [.support])
                // Not to a group they do not share with: said plainly, nothing written.
                let notShared = try await b.post("/your-request/messages", [("group", "police"), ("text", "to the police")])
                expectSafePage(notShared, status: 400, "a group not shared with")
                #expect(
                    notShared.text.contains(##"href="#reply-group""##) && notShared.text.contains("not sharing your request with police officers"))
                #expect(notShared.text.contains("to the police"), "what they wrote is kept for them")
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).count == 1)
                let empty = try await b.post("/your-request/messages", [("group", "support"), ("text", "  \n ")])
                expectSafePage(empty, status: 400, "empty reply")
                #expect(empty.text.contains(##"href="#reply-text""##) && empty.text.contains("Write your message"))
                let long = try await b.post("/your-request/messages", [("group", "support"), ("text", String(repeating: "x", count: 5_001))])
                #expect(long.status == 400 && long.text.contains("5,000 characters or fewer"))
                let noGroup = try await b.post("/your-request/messages", [("text", "hello")])
                expectSafePage(noGroup, status: 400, "no group")
                #expect(noGroup.text.contains(##"href="#reply-group""##) && noGroup.text.contains("Choose who your message is for"))
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).count == 1)

                // Share with the police until a date, then stop.
                let until = h.service.today.adding(days: 60)
                let give = try await b.post("/your-request/consents/give", [("scope", "police"), ("expires", until.description)])
                #expect(give.status == 303 && give.headers["Location"].first == "/your-request")
                #expect(try await h.consents(receipt) == [ConsentChoice(scope: .support), ConsentChoice(scope: .police, expires: until)])
                let shared = try await b.get("/your-request")
                #expect(shared.text.contains("id=\"withdraw-police\"") && shared.text.contains("until the end of"))
                let stop = try await b.post("/your-request/consents/withdraw", [("scope", "police")])
                #expect(stop.status == 303 && stop.headers["Location"].first == "/your-request")
                #expect(try await h.wrapRows(reference: reference).map(\.scope) == ["support"])
                #expect(try await h.consents(receipt) == [ConsentChoice(scope: .support)])
                let twice = try await b.post("/your-request/consents/withdraw", [("scope", "police")])
                #expect(twice.status == 303, "stopping what has already stopped is not an error")

                // Erase: a confirmation step first; afterwards the session is gone.
                let confirm = try await b.get("/your-request/erase")
                expectSafePage(confirm, status: 200, "erase confirmation")
                #expect(confirm.text.contains("id=\"confirm-erase\"") && confirm.text.contains(#"href="/your-request""#))
                #expect(try await h.count("records") == 1, "the confirmation page changes nothing")
                let erased = try await b.post("/your-request/erase")
                expectSafePage(erased, status: 200, "erased")
                #expect(erased.text.contains("Everything has been erased"))
                #expect(erased.headers["Set-Cookie"].contains { $0.hasPrefix("__Host-hearth-survivor=;") && $0.contains("Max-Age=0") })
                #expect(try await h.count("records") == 0)
                // Even with the old cookie put back, the session does not come back.
                await b.setCookie("__Host-hearth-survivor", token)
                let gone = try await b.get("/your-request")
                #expect(gone.status == 303 && gone.headers["Location"].first == "/return")
                let api = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
                #expect(api.status == 401, "the receipt no longer works")

                // Nothing secret in the logs: not the receipt in any spelling, not the session token, not what was written.
                let logs = h.logs.text
                for secret in [receipt, typed, receipt.replacingOccurrences(of: "-", with: ""), token, "Sam Journey", "Tuesdays", "07700 900123"] {
                    #expect(!logs.contains(secret), "the logs never hold \(secret.count) characters of survivor data")
                }
            }
        }
    }

    @Test("a come-back session ends after 15 idle minutes, and after 2 hours however much it is used")
    func sessionsEnd() async throws {
        try await IntakeHarness.with { h in
            let (_, receipt) = try await h.submit(sampleRequest())
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                h.clock.advance(seconds: SurvivorPages.idleSeconds - 60)
                #expect(try await b.get("/your-request").status == 200, "still in use within the idle time")
                h.clock.advance(seconds: SurvivorPages.idleSeconds)
                let idle = try await b.get("/your-request")
                #expect(idle.status == 303 && location(idle) == "/return", "idle: \(idle.status)")

                try await b.signIn(receipt)
                var elapsed: Int64 = 0
                while elapsed + 600 < SurvivorPages.absoluteSeconds {
                    h.clock.advance(seconds: 600)
                    elapsed += 600
                    #expect(try await b.get("/your-request").status == 200, "used every 10 minutes, \(elapsed) s in")
                }
                h.clock.advance(seconds: SurvivorPages.absoluteSeconds - elapsed)
                let late = try await b.get("/your-request")
                #expect(late.status == 303 && location(late) == "/return", "absolute: \(late.status)")
            }
        }
    }

    @Test("staff who open the request show in the access log, with their reason and reply escaped")
    func accessLogAndStaffReply() async throws {
        try await IntakeHarness.with { h in
            let (reference, receipt) = try await h.submit(sampleRequest(canary: "access", consents: [["scope": "support"]]))
            let staff = try await h.caseworker(openingCase: reference, reason: "<b>to call you</b> back", reply: "Hello <script>x</script>")
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                let page = try await b.get("/your-request")
                expectSafePage(page, status: 200, "your request with an access log")
                #expect(page.text.contains(#"<table id="access-log">"#))
                #expect(page.text.contains("Support caseworker") && page.text.contains(staff.pseudonym))
                #expect(page.text.contains("&lt;b&gt;to call you&lt;/b&gt; back"))
                #expect(page.text.contains("Hello &lt;script&gt;x&lt;/script&gt;") && !page.text.contains("<script>x"))
                #expect(page.text.contains("Support caseworker (\(staff.pseudonym))"))
            }
        }
    }

    @Test("a post without the form token, or with a wrong one, is refused with 403 and changes nothing")
    func formTokenRequired() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                _ = try await b.get("/request")
                let check = try await b.post("/request", journeyAnswers(consent: []))
                let send = hiddenFields(check.text, action: "/request/send").filter { $0.0 != "csrf" }
                for (label, token) in [("no token", PageBrowser.Token.none), ("a wrong token", .value("A" + String(repeating: "b", count: 42)))] {
                    let refused = try await b.post("/request/send", send, token: token)
                    expectSafePage(refused, status: 403, "send with \(label)")
                    #expect(refused.text.contains("nothing was changed"))
                }
                #expect(try await h.count("records") == 0)
                // The right token without the cookie it belongs to is refused too.
                let known = await b.csrf ?? ""
                let cookieless = try await h.withBrowser { other in try await other.post("/request/send", send, token: .value(known)) }
                #expect(cookieless.status == 403)
                #expect(try await h.count("records") == 0)

                // Signed in: consent, replies, erasure and leaving all need the token.
                let (reference, receipt) = try await h.submit(sampleRequest(canary: "csrf", consents: [["scope": "review"]]))
                try await b.signIn(receipt)
                for (path, fields) in [
                    ("/your-request/consents/give", [("scope", "police")]), ("/your-request/consents/withdraw", [("scope", "review")]),
                    ("/your-request/messages", [("group", "review"), ("text", "hello")]), ("/your-request/erase", []), ("/leave", []),
                ] {
                    let refused = try await b.post(path, fields, token: .value("wrong"))
                    #expect(refused.status == 403, "\(path)")
                }
                #expect(try await h.wrapRows(reference: reference).map(\.scope) == ["review"])
                #expect(try await h.count("records") == 1)
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).isEmpty)
                #expect(try await b.get("/your-request").status == 200, "the refused leave did not end the session")
            }
        }
    }

    @Test("an empty form lists every missing answer in the error summary, linked to its field")
    func everyMissingFieldListed() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                _ = try await b.get("/request")
                let page = try await b.post("/request", [("preferredName", "Jo"), ("region", "")])
                expectSafePage(page, status: 400, "form with errors")
                let opening = #"<div class="error-summary" role="alert" id="error-summary" tabindex="-1" autofocus>"#
                let summary = try #require(page.text.range(of: opening))
                let links = String(page.text[summary.upperBound...]).components(separatedBy: "</div>")[0]
                for field in ["contactMethod", "contactValue", "wants"] {
                    #expect(links.contains("href=\"#\(field)\""), "the summary links to #\(field)")
                    #expect(page.text.contains("id=\"\(field)-error\""), "#\(field) has its own message")
                }
                #expect(!links.contains("#preferredName") && !links.contains("#account"), "optional answers are not errors")
                #expect(page.text.contains(#"value="Jo""#), "what was typed is kept")
                #expect(page.text.contains("<title>Error: "))
                #expect(try await h.count("records") == 0)

                // Problems the shared validation finds show together with missing answers.
                let two = try await b.post("/request", [("contactMethod", "email"), ("contactValue", "not an address"), ("region", "atlantis")])
                #expect(two.status == 400)
                #expect(two.text.contains("Enter an email address in the right format"))
                #expect(two.text.contains(##"href="#region""##) && two.text.contains(##"href="#wants""##))
                let long = try await b.post(
                    "/request",
                    [
                        ("contactMethod", "phone"), ("contactValue", "07700 900123"), ("wants", "support"),
                        ("account", String(repeating: "a", count: 16_001)),
                    ])
                #expect(long.status == 400 && long.text.contains(##"href="#account""##) && long.text.contains("16,000 characters or fewer"))
            }
        }
    }

    @Test("sending the same check-your-answers form twice creates one record and answers 409 the second time")
    func replayedSendIsRefused() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                _ = try await b.get("/request")
                let check = try await b.post("/request", journeyAnswers(consent: ["police"]))
                let fields = hiddenFields(check.text, action: "/request/send")
                #expect(fields.contains { $0.0 == "submission" })
                let first = try await b.post("/request/send", fields)
                #expect(first.status == 201)
                let second = try await b.post("/request/send", fields)
                expectSafePage(second, status: 409, "replayed send")
                #expect(second.text.contains("This was already sent"))
                #expect(element(second.text, id: "receipt") == nil, "a replay never shows a receipt")
                #expect(try await h.count("records") == 1)
                let forged = try await b.post("/request/send", fields.map { $0.0 == "submission" ? ($0.0, "AAAA") : $0 })
                #expect(forged.status == 409)
                #expect(try await h.count("records") == 1)
            }
        }
    }

    @Test("a wrong receipt gets 401 with the form again; repeated guesses are limited together with the API")
    func wrongReceipt() async throws {
        try await IntakeHarness.with(receiptFailures: 3) { h in
            let (_, receipt) = try await h.submit(sampleRequest())
            try await h.withBrowser { b in
                _ = try await b.get("/return")
                let wrong = try await b.post("/return", [("receipt", "0000-0000-0000-0000-0000-0000-0000")])
                expectSafePage(wrong, status: 401, "wrong receipt")
                #expect(wrong.text.contains("We could not find a request with that receipt") && wrong.text.contains(#"id="sign-in""#))
                #expect(!wrong.headers["Set-Cookie"].contains { $0.hasPrefix("__Host-hearth-survivor") })
                let empty = try await b.post("/return", [("receipt", " ")])
                #expect(empty.status == 400 && empty.text.contains("Enter your receipt"))
                _ = try await h.client.send(.GET, "/api/v1/me", receipt: "not a receipt")
                _ = try await b.post("/return", [("receipt", "1111")])
                let limited = try await b.post("/return", [("receipt", receipt)])
                expectSafePage(limited, status: 429, "rate limited")
                #expect(limited.headers["Retry-After"].first != nil)
                #expect(try await h.client.send(.GET, "/api/v1/me", receipt: receipt).status == 429, "one limiter for pages and API")
            }
        }
    }

    @Test("what a survivor typed is escaped on every page that shows it")
    func escaping() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                let script = "<script>alert('x')</script>"
                _ = try await b.get("/request")
                var answers = journeyAnswers(consent: [])
                answers[0] = ("preferredName", script)
                answers.append(("safeTimes", "\" onmouseover=\"alert(1)"))
                let errors = try await b.post("/request", answers.filter { $0.0 != "wants" })
                let check = try await b.post("/request", answers)
                let sent = try await b.post("/request/send", hiddenFields(check.text, action: "/request/send"))
                try await b.signIn(try #require(element(sent.text, id: "receipt")))
                let mine = try await b.get("/your-request")
                for (name, page) in [("form", errors), ("check", check), ("your request", mine)] {
                    #expect(!page.text.contains(script) && !page.text.contains(#"onmouseover=""#), "\(name) never echoes markup")
                    #expect(page.text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "\(name) shows it as text")
                    expectSafePage(page, status: page.status, name)
                }
            }
        }
    }

    @Test("Exit this page and Leave end the session and clear the cookie")
    func exitAndLeave() async throws {
        try await IntakeHarness.with { h in
            let (_, receipt) = try await h.submit(sampleRequest())
            try await h.withBrowser { b in
                let none = try await b.get("/your-request")
                #expect(none.status == 303 && none.headers["Location"].first == "/return", "no session: sent to the receipt form")

                try await b.signIn(receipt)
                let token = try #require(await b.cookies["__Host-hearth-survivor"])
                let exit = try await b.get("/exit")
                #expect(exit.status == 303 && exit.headers["Location"].first == PageSettings.defaultExitURL)
                #expect(exit.headers["Set-Cookie"].contains("__Host-hearth-survivor=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"))
                await b.setCookie("__Host-hearth-survivor", token)
                #expect(try await b.get("/your-request").status == 303, "the session ended on the server, not only in the browser")

                try await b.signIn(receipt)
                _ = try await b.get("/your-request")
                let leave = try await b.post("/leave")
                #expect(leave.status == 303 && leave.headers["Location"].first == "/")
                #expect(leave.headers["Set-Cookie"].contains { $0.hasPrefix("__Host-hearth-survivor=;") && $0.contains("Max-Age=0") })
                #expect(try await b.get("/your-request").status == 303)
                // A post without a session changes nothing and goes to the receipt form.
                _ = try await b.get("/return")
                let orphan = try await b.post("/your-request/messages", [("group", "support"), ("text", "hello")])
                #expect(orphan.status == 303 && orphan.headers["Location"].first == "/return")
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).isEmpty)
            }
        }
    }

    @Test("bad input on the signed-in pages gets a plain 4xx page and changes nothing")
    func badInputOnYourRequest() async throws {
        try await IntakeHarness.with { h in
            let (reference, receipt) = try await h.submit(sampleRequest())
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                _ = try await b.get("/your-request")
                let date = try await b.post("/your-request/consents/give", [("scope", "police"), ("expires", "31/12/2030")])
                expectSafePage(date, status: 400, "bad date")
                #expect(date.text.contains(##"href="#expires-police""##) && date.text.contains(#"value="31/12/2030""#))
                let past = try await b.post("/your-request/consents/give", [("scope", "police"), ("expires", "2000-01-01")])
                #expect(past.status == 400 && past.text.contains("today or later"))
                let scope = try await b.post("/your-request/consents/give", [("scope", "everyone")])
                expectSafePage(scope, status: 400, "unknown scope")
                let unknown = try await b.post("/your-request/consents/give", [("scope", "police"), ("colour", "blue")])
                #expect(unknown.status == 400)
                // Sharing with no one, there is no form to write with, and a crafted post is refused plainly.
                let nobody = try await b.post("/your-request/messages", [("group", "support"), ("text", "hello")])
                expectSafePage(nobody, status: 400, "no one to write to")
                #expect(nobody.text.contains(##"href="#no-one-to-write-to""##) && !nobody.text.contains(#"id="reply-text""#))
                let json = try await b.send(.POST, "/your-request/messages", body: #"{"text":"hi"}"#, contentType: "application/json")
                #expect(json.status == 415)
                #expect(try await h.wrapRows(reference: reference).isEmpty)
                #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).isEmpty)
            }
        }
    }
}

// MARK: - Helpers

/// The answers of a whole, valid contact form.
private func journeyAnswers(consent: [String]) -> [(String, String)] {
    [
        ("preferredName", "Sam Journey"), ("contactMethod", "phone"), ("contactValue", "07700 900123"), ("safeTimes", "weekday mornings"),
        ("mayLeaveMessage", "no"), ("region", "north-west"), ("wants", "support"), ("wants", "reopen"),
        ("account", "What happened, in my words.\nA second line."),
    ] + consent.map { ("consent", $0) }
}

/// Checks what every survivor page must be: the status, HTML, the security headers, one `h1`, a
/// language, "Exit this page", labels for every field, unique ids, error links that lead
/// somewhere, and nothing the CSP would block or that would leave this origin.
private func expectSafePage(_ page: TestHTTPSClient.Reply, status: Int, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let html = page.text
    #expect(page.status == status, "\(name): \(page.status)", sourceLocation: sourceLocation)
    #expect(page.headers["Content-Type"].first == "text/html; charset=utf-8", "\(name)", sourceLocation: sourceLocation)
    let headers = [
        ("Content-Security-Policy", SecurityHeadersMiddleware<HearthRequestContext>.pagePolicy), ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
        ("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),
    ]
    for (header, value) in headers {
        #expect(page.headers[header].first == value, "\(name): \(header)", sourceLocation: sourceLocation)
    }
    #expect(html.hasPrefix("<!doctype html>\n<html lang=\"en\" dir=\"ltr\">"), "\(name): a language", sourceLocation: sourceLocation)
    #expect(html.components(separatedBy: "<h1").count == 2, "\(name): exactly one h1", sourceLocation: sourceLocation)
    #expect(html.contains(#"href="/exit""#) && html.contains(#"id="exit-this-page""#), "\(name): exit link", sourceLocation: sourceLocation)
    #expect(!html.lowercased().contains("style="), "\(name): no inline style", sourceLocation: sourceLocation)
    #expect(!html.lowercased().contains("<style"), "\(name): no style element", sourceLocation: sourceLocation)
    for tag in matches(html, #"<script[^>]*>"#) {
        #expect(tag == #"<script src="/assets/exit.js" defer>"#, "\(name): no inline script: \(tag)", sourceLocation: sourceLocation)
    }
    #expect(
        matches(html, #"<[a-zA-Z]+(\s+[a-zA-Z-]+(="[^"]*")?)*\s+on[a-z]+="#).isEmpty, "\(name): no event handler attributes",
        sourceLocation: sourceLocation)
    #expect(!html.contains("http://") && !html.contains("https://"), "\(name): no link to another origin", sourceLocation: sourceLocation)
    let ids = matches(html, #"\sid="[^"]*""#)
    #expect(Set(ids).count == ids.count, "\(name): ids are unique", sourceLocation: sourceLocation)
    for control in matches(html, #"<(input|select|textarea)\s[^>]*>"#) where !control.contains(#"type="hidden""#) {
        let id = control.components(separatedBy: #" id=""#).dropFirst().first?.prefix { $0 != "\"" } ?? ""
        #expect(!id.isEmpty && html.contains("<label for=\"\(id)\">"), "\(name): \(control) has a label", sourceLocation: sourceLocation)
    }
    for link in matches(html, ##"<li><a href="#[^"]*""##) {
        let id = link.dropFirst(##"<li><a href="#"##.count).dropLast()
        #expect(html.contains(" id=\"\(id)\""), "\(name): the error link #\(id) leads to a field", sourceLocation: sourceLocation)
    }
}

extension PageBrowser {
    /// Signs in with a receipt through the survivor pages' `/return`.
    func signIn(_ receipt: String) async throws {
        _ = try await get("/return")
        let reply = try await post("/return", [("receipt", receipt)])
        guard reply.status == 303, cookies[SurvivorPages.sessionCookie] != nil else { throw HarnessError("sign-in: \(reply.status)") }
    }
}

extension IntakeHarness {
    /// Runs `body` with a fresh browser (its own client, which does not follow redirects).
    func withBrowser<T>(_ body: (PageBrowser) async throws -> T) async throws -> T {
        let client = try TestHTTPSClient(baseURL: self.client.baseURL, certificatePath: keys.tlsCertificateFile, followRedirects: false)
        do {
            let result = try await body(PageBrowser(client))
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// The live consents of the record this receipt opens, from the service.
    func consents(_ receipt: String) async throws -> [ConsentChoice] {
        try await service.view(service.authenticate(receipt: receipt)).consents
    }

    /// Adds a supervisor and a caseworker, assigns the case, has the caseworker open it with
    /// `reason` and reply; returns the caseworker.
    func caseworker(openingCase reference: String, reason: String, reply: String) async throws -> StaffIdentity {
        // The services the CLI's maintenance commands use, from the composition root.
        let maintenance = try await HearthMaintenance.open(assembly.settings)
        let staff = try maintenance.staffService()
        _ = try await staff.add(username: "supervisor1", role: .supervisor, actor: "test")
        _ = try await staff.add(username: "caseworker1", role: .caseworker, actor: "test")
        let supervisor = try #require(try await store.staff(username: "supervisor1")).identity
        let worker = try #require(try await store.staff(username: "caseworker1")).identity
        let casework = maintenance.caseworkService()
        let id = try #require(RecordID(reference: reference))
        try await casework.assign(id, to: "caseworker1", by: supervisor)
        _ = try await casework.open(id, reason: reason, by: worker)
        try await casework.reply(id, text: reply, by: worker)
        return worker
    }
}
