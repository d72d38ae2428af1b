import Foundation
import HearthCore
import HearthHTTP
import HearthTestSupport
import Testing

/// The pages in every language, over TLS to both running listeners: the choice of language, and
/// a walk through every page in the accented pseudo-locale, where any English word left in a
/// template or in page code shows as plain ASCII.
@Suite("Pages in every language")
struct LanguagePageTests {
    /// Words a page may show in plain ASCII in `en-XA`: what the test itself typed (the survivor's
    /// answers are Greek, so only these are ASCII) and the staff usernames.
    static let typed: Set<String> = [
        "example", "org", "rita", "sue", "olive", "to", "open", "see",
        // Key file names on the key status page (`support.v1.sealed`): names, not words.
        "master", "support", "review", "police", "prosecution", "audit", "casework", "tls",
    ]

    /// The plain ASCII words (two letters or more) in what a page shows a person: text and the
    /// attributes that are read out (`aria-label`, `title`, `placeholder`, `alt`), never the markup,
    /// URLs, ids or form values.
    static func englishLeft(_ html: String) -> [String] {
        captures(visibleText(html), #"(?<![A-Za-z0-9@._-])([A-Za-z]{2,})(?![A-Za-z0-9@_-])"#).filter { !typed.contains($0.lowercased()) }
    }

    /// What a page shows or reads out: its text and the spoken attributes, without the language
    /// links (which name each language in itself, as they should), commands, scripts or styles.
    static func visibleText(_ html: String) -> String {
        var s = html.replacingOccurrences(
            of: #"(?s)<script.*?</script>|<style.*?</style>|<nav class="languages".*?</nav>|<code>.*?</code>"#, with: " ",
            options: .regularExpression)
        var spoken: [String] = []
        for attribute in ["aria-label", "title", "placeholder", "alt"] {
            spoken += captures(s, #"\#(attribute)="([^"]*)""#)
        }
        s = s.replacingOccurrences(of: #"<[^>]*>"#, with: " ", options: .regularExpression)
        s = s.replacingOccurrences(of: #"&[a-z]+;|&#[0-9]+;"#, with: " ", options: .regularExpression)
        return ([s] + spoken).joined(separator: " ")
    }

    /// A survivor's submission in Greek, so that only the page's own words can be ASCII.
    static var greekRequest: [String: Any] {
        [
            "preferredName": "Αλίκη",
            "contact": [["method": "email", "value": "alice@example.org", "safeTimes": "μετά τις πέντε"]],
            "wants": ["support", "reopen"],
            "account": "Αυτό που συνέβη, με δικά μου λόγια.",
            "verificationPhrase": "γαλάζιο σπίτι",
            "consents": [["scope": "review"], ["scope": "support"]],
        ]
    }

    @Test(
        "every survivor and staff page, form error and refusal in each language: in it, no raw key or unfilled placeholder, and in en-XA no English word left",
        arguments: ["en-XA", "cy", "ar-XB"])
    func everyPageInEachLanguage(tag: String) async throws {
        try await CaseworkHarness.with(pseudoLocales: true) { h in
            var pages: [(String, String)] = []
            // The survivor side, signed out.
            let intake = try TestHTTPSClient(baseURL: h.intake.baseURL, certificatePath: h.assembly.keys.tlsCertificateFile, followRedirects: false)
            defer { Task { await intake.shutdown() } }
            let survivor = PageBrowser(intake)
            await survivor.setCookie(Languages.cookie, tag)
            for path in ["/", "/safety", "/request", "/return", "/transparency", "/no-such-page"] {
                pages.append((path, try await survivor.get(path).text))
            }
            _ = try await survivor.get("/request")
            pages.append(("POST /request (empty)", try await survivor.post("/request", []).text))
            _ = try await survivor.get("/request")
            let answers: [(String, String)] = [
                ("contactMethod", "email"), ("contactValue", "alice@example.org"), ("mayLeaveMessage", "no"), ("wants", "support"),
                ("account", "Αυτό που συνέβη."), ("consent", "support"),
            ]
            pages.append(("POST /request (check)", try await survivor.post("/request", answers).text))
            _ = try await survivor.get("/return")
            pages.append(("POST /return (wrong)", try await survivor.post("/return", [("receipt", "AAAA-BBBB")]).text))

            // Staff invite, so the survivor has an invitation and a reply to read.
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let reply = try await h.intake.send(.POST, "/api/v1/contact-requests", json: Self.greekRequest)
            let reference = try #require(reply.json["reference"] as? String)
            let receipt = try #require(reply.json["receipt"] as? String)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            let slot = h.clock.unixSeconds() - h.clock.unixSeconds() % 3600 + 5 * 86_400
            let invited = try await h.staffPost(
                rita, "/api/v1/cases/\(reference)/interviews",
                ["purpose": "Για να ακούσουμε.", "form": "video", "times": [rfc3339(unixSeconds: slot)]])
            let interview = try #require(invited.json["id"] as? String, "\(invited.text)")

            // The survivor side, signed in.
            _ = try await survivor.get("/return")
            #expect(try await survivor.post("/return", [("receipt", receipt)]).status == 303)
            for path in ["/your-request", "/your-request/interviews/\(interview)", "/your-request/erase"] {
                pages.append((path, try await survivor.get(path).text))
            }
            _ = try await survivor.get("/your-request")
            pages.append(("POST /your-request/messages (empty)", try await survivor.post("/your-request/messages", [("text", "")]).text))

            // The staff side.
            let staff = h.browser()
            await staff.setCookie(Languages.cookie, tag)
            pages.append(("/login", try await staff.get("/login").text))
            let wrong = try await staff.post("/login", [("username", "rita"), ("password", "wrong")])
            pages.append(("POST /login (wrong)", wrong.status == 303 ? try await staff.get(location(wrong) ?? "/login").text : wrong.text))
            try await h.pageSignIn(staff, rita)
            for path in ["/cases", "/cases/\(reference)", "/password", "/keys"] {
                pages.append((path, try await staff.get(path).text))
            }
            // A privacy officer's key status: the key names are file names, not words.
            let olive = try await h.readyStaff("olive", .privacyOfficer)
            let officer = h.browser()
            await officer.setCookie(Languages.cookie, tag)
            try await h.pageSignIn(officer, olive)
            pages.append(("/keys (privacy officer)", try await officer.get("/keys").text))
            _ = try await staff.get("/cases/\(reference)")
            pages.append(("POST open", try await staff.post("/cases/\(reference)/open", [("reason", "to see")]).text))

            for (name, html) in pages {
                #expect(html.contains(#"lang="\#(tag)""#), "\(name) is not in \(tag)")
                let visible = Self.visibleText(html)
                let keys = captures(visible, #"\b([a-z]+[A-Z][A-Za-z]*(?:\.[A-Za-z0-9]+)+)\b"#)
                #expect(keys.isEmpty, "\(name) in \(tag) shows catalogue keys: \(keys)")
                let unfilled = captures(visible, #"(\{[A-Za-z]+\})"#)
                #expect(unfilled.isEmpty, "\(name) in \(tag) shows unfilled placeholders: \(unfilled)")
                if tag == "en-XA" {
                    let left = Self.englishLeft(html)
                    #expect(left.isEmpty, "\(name) still has English: \(Array(Set(left)).sorted())")
                }
            }
        }
    }

    @Test("a language is chosen by link or Accept-Language, kept in a session cookie holding only its tag, never logged, and forgotten on exit")
    func choosingALanguage() async throws {
        try await CaseworkHarness.with(pseudoLocales: true) { h in
            let intake = try TestHTTPSClient(baseURL: h.intake.baseURL, certificatePath: h.assembly.keys.tlsCertificateFile, followRedirects: false)
            defer { Task { await intake.shutdown() } }
            let b = PageBrowser(intake)
            let first = try await b.get("/")
            #expect(first.text.contains(#"<html lang="en" dir="ltr">"#))
            #expect(first.text.contains(#"href="/language?to=cy&amp;back=%2F" lang="cy" hreflang="cy""#), "a visible link to Welsh")

            let byHeader = try await intake.send(.GET, "/", headers: [("Accept-Language", "cy-GB, en;q=0.5")])
            #expect(byHeader.text.contains(#"<html lang="cy" dir="ltr">"#) && byHeader.text.contains("Gadael y dudalen hon"))

            let chose = try await b.get("/language?to=cy&back=%2Frequest")
            #expect(chose.status == 303 && chose.headers.first(name: "Location") == "/request")
            let cookie = try #require(chose.headers["Set-Cookie"].first { $0.hasPrefix(Languages.cookie) })
            #expect(cookie == "\(Languages.cookie)=cy; Path=/; Secure; HttpOnly; SameSite=Strict", "a session cookie holding only the tag")
            let welsh = try await b.get("/request")
            #expect(welsh.text.contains(#"<html lang="cy" dir="ltr">"#))

            let rtl = try await b.get("/language?to=ar-XB&back=/")
            #expect(rtl.status == 303)
            #expect(try await b.get("/").text.contains(#"<html lang="ar-XB" dir="rtl">"#))

            // An unknown language changes nothing; a way back to another site is not followed.
            let unknown = try await intake.send(.GET, "/language?to=xx&back=//evil.example")
            #expect(unknown.status == 303 && unknown.headers.first(name: "Location") == "/" && unknown.headers["Set-Cookie"].isEmpty)

            // "Exit this page" is there and works the same in every language, and forgets the choice.
            for tag in ["en", "cy", "en-XA", "ar-XB"] {
                await b.setCookie(Languages.cookie, tag)
                let page = try await b.get("/")
                #expect(
                    page.text.contains(#"<a class="exit-this-page" href="/exit" data-exit rel="nofollow noreferrer" id="exit-this-page">"#), "\(tag)")
                let exit = try await b.get("/exit")
                #expect(exit.status == 303 && exit.headers.first(name: "Location") == PageSettings.defaultExitURL, "\(tag)")
                #expect(exit.headers["Set-Cookie"].contains { $0.hasPrefix("\(Languages.cookie)=;") && $0.contains("Max-Age=0") }, "\(tag)")
            }

            // The API's messages follow Accept-Language too; its codes never change.
            let inWelsh = try await h.intake.send(.POST, "/api/v1/contact-requests", body: Array("{}".utf8), headers: [("Accept-Language", "cy")])
            let inEnglish = try await h.intake.send(.POST, "/api/v1/contact-requests", body: Array("{}".utf8))
            #expect(inWelsh.status == 400 && inEnglish.status == 400)
            #expect(inWelsh.json["code"] as? String == "missing-field" && inEnglish.json["code"] as? String == "missing-field")
            #expect(inWelsh.json["error"] as? String == "Mae ateb sydd ei angen arnon ni ar goll. Ewch yn ôl a’i lenwi.", "\(inWelsh.text)")
            #expect((inEnglish.json["error"] as? String)?.contains("is required") == true, "\(inEnglish.text)")

            // The staff side offers the same choice.
            let staffPage = try await h.browser().get("/login")
            #expect(staffPage.text.contains(#"href="/language?to=cy&amp;back=%2Flogin""#))

            let logs = h.logs.text
            #expect(!logs.contains("to=cy") && !logs.contains("ar-XB") && !logs.contains("Accept-Language") && !logs.contains("hearth-lang"))
            #expect(logs.contains("/language"), "the route is logged, the choice is not")
        }
    }
}

private func captures(_ text: String, _ pattern: String) -> [String] {
    guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
    let ns = text as NSString
    return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map {
        ns.substring(with: $0.numberOfRanges > 1 ? $0.range(at: 1) : $0.range)
    }
}
