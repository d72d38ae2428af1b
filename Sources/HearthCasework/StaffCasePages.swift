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
            let done = request.uri.queryParameters["done"].flatMap { Self.doneNotices[String($0)] }.map { Catalogue.current.text($0) }
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

    /// Fixed notices after a change, as catalogue keys (the query string carries only these
    /// names, never content).
    static let doneNotices: [String: String] = [
        "assigned": "staffCase.done.assigned", "replied": "staffCase.done.replied", "status": "staffCase.done.status",
        "invited": "staffCase.done.invited",
    ]

    /// A case's metadata and the forms the caller's role may use. Metadata only: nothing here is decrypted.
    func casePage(
        _ request: Request, _ session: AuthenticatedStaff, _ reference: RecordID, status: HTTPResponse.Status, form: CaseForm
    ) async throws -> Response {
        let role = session.identity.role
        guard role.seesQueue else {
            return try refusalPage(request, session, AccessDenial.roleCannotRead, headingKey: "staffRefusal.caseNotShown", reference: nil)
        }
        // Supervisors see every case; readers see the cases assigned to them.
        let summary = try await casework.queue(for: session.identity).first { $0.reference == reference.reference }
        if role == .supervisor && summary == nil {
            throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        }
        let words = Catalogue.current
        var context = Self.errorContext(form.errors)
        context["reference"] = reference.reference
        context["caseTitle"] = words.text("staffCase.title", ["reference": reference.reference])
        if let summary { context["summary"] = Self.summaryContext(summary) } else { context["notInQueue"] = true }
        if let notice = form.notice { context["notice"] = notice }
        if role == .supervisor { context["assign"] = ["value": form.staff] }
        if let scope = role.readScope {
            context["open"] = [
                "value": form.reason, "maxLength": 2 * Limits.reason,  // UTF-16 units, as for "maxMessage"
                "explanation": words.text("staffCase.openExplanation", ["member": Self.teamMemberName(scope)]),
                "hint": words.text("staffCase.reasonHint", count: Limits.reason),
            ]
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
                    form: CaseForm(errors: [FieldError(field: "assign-staff", text: Catalogue.current.text("staffCase.assignMissing"))]))
            }
            do {
                try await casework.assign(reference, to: username, by: session.identity)
            } catch let denial as AccessDenial {
                return try refusalPage(request, session, denial, headingKey: "staffRefusal.notAssignedHeading", reference: reference)
            } catch let p as Problem where p.kind == .badRequest {
                return try await casePage(
                    request, session, reference, status: .badRequest,
                    form: CaseForm(
                        errors: [
                            FieldError(
                                field: "assign-staff",
                                text: Catalogue.current.text("staffCase.assignUnknown", ["username": username]))
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
                problem = Catalogue.current.text("staffCase.reasonMissing")
            } else if FieldRules.length(reason) > Limits.reason {
                problem = Catalogue.current.text("staffCase.reasonTooLong", count: Limits.reason)
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
                return try refusalPage(request, session, denial, headingKey: "staffRefusal.notOpened", reference: reference)
            }
        }
        caseAction(on: group, "replies", fields: ["text"], refusedKey: "staffRefusal.replyNotSent", done: "replied") {
            request, fields, session, reference in
            let text = fields.trimmed("text") ?? ""
            guard !text.isEmpty, FieldRules.length(text) <= Limits.message else {
                let words = Catalogue.current
                return try caseInputPage(
                    request, session, reference, heading: words.text(text.isEmpty ? "staffAction.replyEmpty" : "staffAction.replyTooLong"),
                    message: text.isEmpty
                        ? words.text("staffAction.replyEmptyMessage") : words.text("staffAction.replyTooLongMessage", count: Limits.message))
            }
            do {
                try await casework.reply(reference, text: text, by: session.identity)
            } catch let p as Problem where p.code == "contact-paused" {
                return try caseInputPage(
                    request, session, reference, heading: Catalogue.current.text("staffAction.contactPaused"),
                    message: Catalogue.current.text("staffAction.replyPausedMessage"))
            }
            return nil
        }
        caseAction(
            on: group, "interviews", fields: Set(["purpose", "form"]).union((1...Limits.interviewTimes.upperBound).map { "time\($0)" }),
            refusedKey: "staffRefusal.invitationNotSent", done: "invited"
        ) { request, fields, session, reference in
            // Times are typed in UK time; the API's own rules check the rest.
            var times: [String] = []
            for n in 1...Limits.interviewTimes.upperBound {
                guard let typed = fields.trimmed("time\(n)") else { continue }
                guard let t = UKTime.unixSeconds(inputValue: typed) else {
                    return try caseInputPage(
                        request, session, reference, heading: Catalogue.current.text("staffAction.checkTimes"),
                        message: Catalogue.current.text("staffAction.timeInvalid", ["n": String(n)]))
                }
                times.append(rfc3339(unixSeconds: t))
            }
            let draft = InterviewInvitationDraft(purpose: fields.trimmed("purpose"), form: fields.value("form"), times: times)
            let invitation: InterviewInvitation
            do throws(Problem) {
                invitation = try InterviewInvitation.validate(draft, now: casework.now)
            } catch {
                return try caseInputPage(
                    request, session, reference, heading: Catalogue.current.text("staffRefusal.invitationNotSent"),
                    message: Catalogue.current.text("staffAction.invitationProblem", ["problem": Self.invitationProblem(error)]))
            }
            do {
                _ = try await casework.invite(reference, invitation, by: session.identity)
            } catch let p as Problem where p.code == "contact-paused" {
                return try caseInputPage(
                    request, session, reference, heading: Catalogue.current.text("staffAction.contactPaused"),
                    message: Catalogue.current.text("staffAction.invitePausedMessage"))
            }
            return nil
        }
        caseAction(on: group, "status", fields: ["status"], refusedKey: "staffRefusal.statusNotChanged", done: "status") {
            request, fields, session, reference in
            guard let status = fields.value("status").flatMap(CaseStatus.init(rawValue:)) else {
                return try caseInputPage(
                    request, session, reference, heading: Catalogue.current.text("staffAction.chooseStatus"),
                    message: Catalogue.current.text("staffAction.chooseStatusMessage"))
            }
            try await casework.setStatus(reference, to: status, by: session.identity)
            return nil
        }
    }

    /// `POST /cases/{reference}/<action>`: reads and checks the form, then runs `act`, which returns
    /// a page for input it cannot take or nil when done (back to the case with `?done=<done>`); a
    /// refusal of the access rule becomes the refusal page headed by the words of `refusedKey`.
    func caseAction(
        on group: RouterGroup<StaffContext>, _ action: String, fields allowed: Set<String>, refusedKey: String, done: String,
        _ act: @escaping @Sendable (Request, FormFields, AuthenticatedStaff, RecordID) async throws -> Response?
    ) {
        group.post("/cases/:reference/\(action)") { request, context in
            let fields = try await FormFields.read(request, allowed: allowed)
            try pages.forms.verify(request, fields)
            let reference = try CaseworkRoutes.reference(context)
            do {
                if let page = try await act(request, fields, context.session, reference) { return page }
            } catch let denial as AccessDenial {
                return try refusalPage(request, context.session, denial, headingKey: refusedKey, reference: reference)
            }
            return seeOther("/cases/\(reference.reference)?done=\(done)")
        }
    }

    /// The invitation form's problem in plain words (the API's codes name the field).
    static func invitationProblem(_ p: Problem) -> String {
        let words = Catalogue.current
        if p.message.contains("'purpose'") {
            return p.code == "field-too-long"
                ? words.text("staffAction.purposeTooLong", count: Limits.interviewPurpose) : words.text("staffAction.purposeMissing")
        }
        if p.message.contains("'form'") { return words.text("staffAction.formMissing") }
        if p.code == "duplicate-value" { return words.text("staffAction.duplicateTime") }
        return words.text("staffAction.timeRange")
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
                "back": Self.backToCase(reference),
            ])
    }

    // MARK: Keys

    static let keysRefusal = AccessDenial(code: "role-cannot-see-keys", message: "only privacy officers and administrators see key status")

    static func canSeeKeys(_ role: Role) -> Bool { role == .privacyOfficer || role == .admin }

    func keysPage(_ request: Request, _ session: AuthenticatedStaff) async throws -> Response {
        guard Self.canSeeKeys(session.identity.role) else {
            return try refusalPage(request, session, Self.keysRefusal, headingKey: "staffRefusal.keysNotAvailable", reference: nil)
        }
        let report = try await keyStatus.report()
        let words = Catalogue.current
        let lines: [[String: Any]] = report.keys.map { line in
            var row: [String: Any] = [
                "key": line.key, "version": line.version.map { "v\($0)" } ?? words.text("staffKeys.notVersioned"), "state": Self.keyStateName(line),
                "wraps": line.wraps.map(String.init) ?? words.text("staffKeys.notApplicable"),
                "canRetire": words.text(line.canRetire ? "staffNames.yes" : "staffNames.no"),
            ]
            // The problems are the key directory's own diagnostics (file names and what is wrong with
            // them), the same words `hearth keys status` prints: for whoever runs the server.
            if !line.problems.isEmpty { row["problems"] = line.problems.map { ["text": $0] } }
            return row
        }
        return try page(
            request, "staff-keys", staff: session, ["keys": lines, "hasProblems": report.hasProblems])
    }

}
