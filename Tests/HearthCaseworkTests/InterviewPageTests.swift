import Foundation
import HearthCore
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Testing

/// Invitations to interviews on the pages of both listeners, without JavaScript: staff invite from
/// an opened case (times typed in UK time); the survivor reads the invitation and answers it.
@Suite("Interview invitations on the pages")
struct InterviewPageTests {
    /// A browser on the intake listener, signed in with `receipt`.
    static func survivorBrowser(_ h: CaseworkHarness, _ receipt: String) async throws -> (PageBrowser, TestHTTPSClient) {
        let client = try TestHTTPSClient(baseURL: h.intake.baseURL, certificatePath: h.assembly.keys.tlsCertificateFile, followRedirects: false)
        let b = PageBrowser(client)
        _ = try await b.get("/return")
        let reply = try await b.post("/return", [("receipt", receipt)])
        guard reply.status == 303 else { throw HarnessError("survivor sign-in: \(reply.status)") }
        return (b, client)
    }

    /// The case opened on the staff pages (which sets the form token for the next post).
    static func open(_ b: PageBrowser, _ reference: String) async throws -> TestHTTPSClient.Reply {
        _ = try await b.get("/cases/\(reference)")
        return try await b.post("/cases/\(reference)/open", [("reason", "to arrange an interview")])
    }

    @Test(
        "a reviewer invites from the opened case in UK time; the survivor reads it, is told no is fine, answers yes with requests, then withdraws; the reviewer sees each answer"
    )
    func inviteAndAnswerOnThePages() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["review", "support"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)

            // A support caseworker is offered no invitation form.
            let byAlice = h.browser()
            try await h.pageSignIn(byAlice, alice)
            let aliceOpened = try await Self.open(byAlice, reference)
            #expect(aliceOpened.status == 200 && !aliceOpened.text.contains(#"id="send-invitation""#))

            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            let staff = h.browser()
            try await h.pageSignIn(staff, rita)
            let opened = try await Self.open(staff, reference)
            #expect(opened.status == 200 && opened.text.contains(#"id="send-invitation""#) && opened.text.contains("Declining changes nothing else"))

            // Bad input: said plainly, nothing stored.
            let badTime = try await staff.post(
                "/cases/\(reference)/interviews", [("purpose", "A review interview"), ("form", "video"), ("time1", "2027-02-30T10:00")])
            #expect(badTime.status == 400 && badTime.text.contains("Check the times"), "\(badTime.text)")
            _ = try await Self.open(staff, reference)
            let noPurpose = try await staff.post("/cases/\(reference)/interviews", [("purpose", ""), ("form", "video")])
            #expect(noPurpose.status == 400 && noPurpose.text.contains("Say what the interview is for"))
            #expect(try await h.count("SELECT count(*) FROM interviews") == 0)

            let now = h.clock.unixSeconds()
            let slot = now - now % 3600 + 5 * 86_400
            _ = try await Self.open(staff, reference)
            let sent = try await staff.post(
                "/cases/\(reference)/interviews",
                [("purpose", "To hear about what happened, at your pace."), ("form", "in-person"), ("time1", UKTime.inputValue(slot)), ("time2", "")])
            #expect(sent.status == 303 && location(sent) == "/cases/\(reference)?done=invited", "\(sent.status) \(sent.text)")
            #expect(
                try await h.count("SELECT count(*) FROM interviews WHERE times = '\(slot)' OR times = '{\(slot)}'") == 1,
                "typed in UK time, kept in UTC")

            let (survivor, client) = try await Self.survivorBrowser(h, receipt)
            defer { Task { await client.shutdown() } }
            let mine = try await survivor.get("/your-request")
            let link = try #require(matches(mine.text, #"/your-request/interviews/[0-9a-f]{32}"#).first, "a link to the invitation")
            #expect(mine.text.contains("Invitations to talk") && mine.text.contains("Waiting for your answer"))
            let page = try await survivor.get(link)
            #expect(page.status == 200 && page.text.contains("To hear about what happened, at your pace."))
            #expect(page.text.contains(Catalogue.current.ukTime(slot)) && page.text.contains("(UK time)"))
            #expect(page.text.contains("You do not need to give a reason") && page.text.contains("Saying no will not affect anything else"))

            let noChoice = try await survivor.post(link, [("proposedTimes", "")])
            #expect(noChoice.status == 400 && noChoice.text.contains(##"href="#action""##), "\(noChoice.text)")
            let noTime = try await survivor.post(link, [("action", "accept"), ("question", "ignored: not this answer's box")])
            #expect(noTime.status == 400 && noTime.text.contains(##"href="#time""##) && noTime.text.contains("ignored: not this answer"))
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'invited'") == 1, "nothing changed")

            let yes = try await survivor.post(
                link,
                [
                    ("action", "accept"), ("time", rfc3339(unixSeconds: slot)), ("supporter", "yes"), ("interviewer", "woman"),
                    ("interpreter", "Punjabi"), ("question", "left over in another box"),
                ])
            #expect(yes.status == 303 && location(yes) == "\(link)?done=answered", "\(yes.status) \(yes.text)")
            let thanks = try await survivor.get("\(link)?done=answered")
            #expect(thanks.text.contains(#"id="answered""#) && thanks.text.contains("You said yes") && thanks.text.contains(#"id="withdraw""#))
            #expect(thanks.text.contains("Punjabi") && !thanks.text.contains("left over in another box"), "only the chosen answer's fields are sent")

            let seen = try await Self.open(staff, reference)
            #expect(seen.text.contains("Accepted") && seen.text.contains("Punjabi") && seen.text.contains("A woman, please"))
            #expect(seen.text.contains(Catalogue.current.ukTime(slot)))

            let withdrawn = try await survivor.post(link, [("action", "withdraw")])
            #expect(withdrawn.status == 303)
            #expect(try await survivor.get(link).text.contains("You withdrew your yes"))
            #expect(try await Self.open(staff, reference).text.contains("Acceptance withdrawn"))
        }
    }

    @Test("while contact is paused the opened case offers no invitation, and a posted one is refused plainly")
    func pausedOnThePages() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let paul = try await h.readyStaff("paul", .policeLiaison)
            let (reference, receipt) = try await h.submit(consents: ["police"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            #expect(try await h.intake.send(.PUT, "/api/v1/me/pause", json: ["until": NSNull()], receipt: receipt).status == 200)
            let staff = h.browser()
            try await h.pageSignIn(staff, paul)
            let opened = try await Self.open(staff, reference)
            #expect(opened.text.contains(#"id="invite-paused""#) && !opened.text.contains(#"id="send-invitation""#))
            let refused = try await staff.post("/cases/\(reference)/interviews", [("purpose", "A police interview"), ("form", "phone")])
            #expect(refused.status == 400 && refused.text.contains("Contact is paused"), "\(refused.text)")
            #expect(try await h.count("SELECT count(*) FROM interviews") == 0)
        }
    }
}
