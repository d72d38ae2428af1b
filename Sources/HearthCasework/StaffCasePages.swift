import Foundation
import HTTPTypes
import HearthCore
import HearthHTTP
import Hummingbird

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
        "invited": "Your invitation has been sent. The survivor can read it when they next come back; open the case to see their answer.",
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
                        ["value": $0.rawValue, "name": Self.statusName($0), "selected": $0 == summary.status]
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
            } else if FieldRules.length(reason) > Limits.reason {
                problem = "Keep the reason to \(Limits.reason) characters or fewer"
            }
            if let problem {
                return try await casePage(
                    request, session, reference, status: .badRequest,
                    form: CaseForm(errors: [FieldError(field: "reason", text: problem)], reason: reason))
            }
            do {
                let opened = try await casework.open(reference, reason: reason, by: session.identity)
                return try page(request, "staff-case-open", staff: session, Self.openedContext(opened, role: session.identity.role))
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, heading: "This case cannot be opened", reference: reference)
            }
        }
        caseAction(on: group, "replies", fields: ["text"], refused: "Your reply was not sent", done: "replied") {
            request, fields, session, reference in
            let text = fields.trimmed("text") ?? ""
            guard !text.isEmpty, FieldRules.length(text) <= Limits.message else {
                return try caseInputPage(
                    request, session, reference, heading: text.isEmpty ? "Your reply was empty" : "Your reply is too long",
                    message: text.isEmpty
                        ? "Nothing was sent. Open the case again and write your reply."
                        : "Nothing was sent. A reply can have up to \(Limits.message) characters; please shorten it.")
            }
            do {
                try await casework.reply(reference, text: text, by: session.identity)
            } catch let p as Problem where p.code == "contact-paused" {
                return try caseInputPage(
                    request, session, reference, heading: "Contact is paused",
                    message: "Nothing was sent. The survivor asked for no contact for now; you can reply once the pause ends.")
            }
            return nil
        }
        caseAction(
            on: group, "interviews", fields: Set(["purpose", "form"]).union((1...Limits.interviewTimes.upperBound).map { "time\($0)" }),
            refused: "Your invitation was not sent", done: "invited"
        ) { request, fields, session, reference in
            // Times are typed in UK time; the API's own rules check the rest.
            var times: [String] = []
            for n in 1...Limits.interviewTimes.upperBound {
                guard let typed = fields.trimmed("time\(n)") else { continue }
                guard let t = UKTime.unixSeconds(inputValue: typed) else {
                    return try caseInputPage(
                        request, session, reference, heading: "Check the times",
                        message: "Nothing was sent. Time \(n) is not a date and time that exists in UK time; open the case again and check it.")
                }
                times.append(rfc3339(unixSeconds: t))
            }
            let draft = InterviewInvitationDraft(purpose: fields.trimmed("purpose"), form: fields.value("form"), times: times)
            let invitation: InterviewInvitation
            do throws(Problem) {
                invitation = try InterviewInvitation.validate(draft, now: casework.now)
            } catch {
                return try caseInputPage(
                    request, session, reference, heading: "Your invitation was not sent",
                    message: "Nothing was sent. \(Self.invitationProblem(error))")
            }
            do {
                _ = try await casework.invite(reference, invitation, by: session.identity)
            } catch let p as Problem where p.code == "contact-paused" {
                return try caseInputPage(
                    request, session, reference, heading: "Contact is paused",
                    message: "Nothing was sent. The survivor asked for no contact for now; you can invite them once the pause ends.")
            }
            return nil
        }
        caseAction(on: group, "status", fields: ["status"], refused: "The status was not changed", done: "status") {
            request, fields, session, reference in
            guard let status = fields.value("status").flatMap(CaseStatus.init(rawValue:)) else {
                return try caseInputPage(
                    request, session, reference, heading: "Choose a status", message: "Nothing was changed. Choose one of the statuses in the list.")
            }
            try await casework.setStatus(reference, to: status, by: session.identity)
            return nil
        }
    }

    /// `POST /cases/{reference}/<action>`: reads and checks the form, then runs `act`, which returns
    /// a page for input it cannot take or nil when done (back to the case with `?done=<done>`); a
    /// refusal of the access rule becomes the refusal page headed `refused`.
    func caseAction(
        on group: RouterGroup<StaffContext>, _ action: String, fields allowed: Set<String>, refused: String, done: String,
        _ act: @escaping @Sendable (Request, FormFields, AuthenticatedStaff, RecordID) async throws -> Response?
    ) {
        group.post("/cases/:reference/\(action)") { request, context in
            let fields = try await FormFields.read(request, allowed: allowed)
            try pages.forms.verify(request, fields)
            let reference = try CaseworkRoutes.reference(context)
            do {
                if let page = try await act(request, fields, context.session, reference) { return page }
            } catch let denial as AccessDenial {
                return try refusalPage(request, context.session, denial, heading: refused, reference: reference)
            }
            return seeOther("/cases/\(reference.reference)?done=\(done)")
        }
    }

    /// The invitation form's problem in plain words (the API's codes name the field).
    static func invitationProblem(_ p: Problem) -> String {
        if p.message.contains("'purpose'") {
            return p.code == "field-too-long"
                ? "Keep what it is for to \(Limits.interviewPurpose) characters or fewer." : "Say what the interview is for, in plain words."
        }
        if p.message.contains("'form'") { return "Choose how the interview would happen." }
        if p.code == "duplicate-value" { return "The same time is offered twice; offer each time once." }
        return "Each time must be in the future, and no more than two years away."
    }

    /// A 400 page for a case form's input, with the way back to the case.
    func caseInputPage(
        _ request: Request, _ session: AuthenticatedStaff, _ reference: RecordID, heading: String, message: String
    ) throws
        -> Response
    {
        try page(
            request, "staff-error", status: .badRequest, staff: session,
            [
                "heading": heading, "message": message,
                "back": ["href": "/cases/\(reference.reference)", "text": "Back to case \(reference.reference)"],
            ])
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
