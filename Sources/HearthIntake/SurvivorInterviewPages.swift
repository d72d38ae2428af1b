import Foundation
import HTTPTypes
import HearthCore
import HearthHTTP
import Hummingbird

// "An invitation to talk": the survivor's page for one invitation to an interview, and their answer.
extension SurvivorPages {
    /// `GET|POST /your-request/interviews/:id`.
    func registerInterviews(on group: RouterGroup<SurvivorContext>) {
        group.get("/your-request/interviews/:id") { request, context in
            let answered = request.uri.queryParameters["done"] == "answered"
            return try await interviewPage(request, context.survivor, id: context.parameters.get("id") ?? "", answered: answered)
        }
        group.post("/your-request/interviews/:id") { request, context in
            try await answerInterview(request, context.survivor, id: context.parameters.get("id") ?? "")
        }
    }

    /// What the survivor typed into the answer form, to show again with an error.
    struct InterviewAnswers {
        var action = ""
        var time = ""
        var proposedTimes = ""
        var question = ""
        var supporter = false
        var interviewer = ""
        var interpreter = ""
        var breaks = false
        var accessibility = ""
        var place = ""

        init() {}

        init(_ fields: FormFields) {
            action = fields.value("action") ?? ""
            time = fields.value("time") ?? ""
            proposedTimes = fields.value("proposedTimes") ?? ""
            question = fields.value("question") ?? ""
            supporter = fields.value("supporter") == "yes"
            interviewer = fields.value("interviewer") ?? ""
            interpreter = fields.value("interpreter") ?? ""
            breaks = fields.value("breaks") == "yes"
            accessibility = fields.value("accessibility") ?? ""
            place = fields.value("place") ?? ""
        }

        /// Empty text counts as not given, as everywhere on these pages.
        static func given(_ s: String) -> String? { s.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? nil : s }

        /// The answer as the API would take it: only the chosen action's own fields (the page
        /// shows every box at once, so text left in another action's box is not sent).
        var draft: InterviewAnswerDraft {
            let action = InterviewAction(rawValue: action)
            var draft = InterviewAnswerDraft(action: Self.given(self.action))
            let requests = InterviewRequestsDraft(
                supporter: supporter, interviewer: Self.given(interviewer), interpreter: Self.given(interpreter), breaks: breaks,
                accessibility: Self.given(accessibility), place: Self.given(place))
            switch action {
            case .accept:
                draft.time = Self.given(time)
                draft.requests = requests
            case .proposeTimes:
                draft.proposedTimes = Self.given(proposedTimes) ?? ""
                draft.requests = requests
            case .ask: draft.question = Self.given(question) ?? ""
            case .decline, .withdraw, nil: break
            }
            return draft
        }
    }

    static let interviewFields: Set<String> = [
        "action", "time", "proposedTimes", "question", "supporter", "interviewer", "interpreter", "breaks", "accessibility", "place",
    ]

    /// The invitation, what was answered, and the form to answer (or to withdraw an acceptance).
    func interviewPage(
        _ request: Request, _ survivor: AuthenticatedSurvivor, id: String, answered: Bool = false, status: HTTPResponse.Status = .ok,
        typed: InterviewAnswers = InterviewAnswers(), errors: [FieldError] = []
    ) async throws -> Response {
        guard let interview = try await service.interviews(survivor).first(where: { $0.id == id }) else {
            throw Problem(.notFound, code: "not-found", "there is no invitation with that id")
        }
        let invitation = interview.invitation
        let words = Catalogue.current
        let group = ["group": SurvivorText.scope(interview.group).short]
        var context = Self.errorContext(errors)
        context["id"] = interview.id
        context["answeredThanks"] = words.text("yourInvitation.answeredThanks", group)
        context["lead"] = words.text("yourInvitation.lead", group)
        // The catalogue escapes the group's name and makes the link to "Your request".
        context["notSharedHTML"] = words.html("yourInvitation.notShared", group)
        context["withdrawIntro"] = words.text("yourInvitation.withdrawIntro", group)
        context["actionHint"] = words.text("yourInvitation.actionHint", group)
        context["sentBy"] = words.text(
            "yourInvitation.sentBy", ["when": SurvivorText.time(interview.invitedAt), "who": Self.staffWho(interview.role, interview.pseudonym)])
        context["purpose"] = invitation.purpose
        context["form"] = SurvivorText.interviewForm(invitation.form)
        context["state"] = SurvivorText.interviewState(interview.state)
        context["answered"] = answered
        context["accepted"] = interview.state == .accepted
        context["live"] = service.sharedGroups(survivor).contains(interview.group)
        context["hasTimes"] = !invitation.times.isEmpty
        context["times"] = invitation.times.map { t -> [String: Any] in
            let value = rfc3339(unixSeconds: t)
            return ["value": value, "words": words.ukTime(t), "checked": typed.time == value || interview.answer?.time == t]
        }
        if let answer = interview.answer { context["answer"] = SurvivorText.interviewAnswer(answer) }
        context["typed"] = [
            "proposedTimes": typed.proposedTimes, "question": typed.question, "supporter": typed.supporter, "breaks": typed.breaks,
            "interpreter": typed.interpreter, "accessibility": typed.accessibility, "place": typed.place,
        ]
        let offered: [InterviewAction] = invitation.times.isEmpty ? [.proposeTimes, .ask, .decline] : [.accept, .proposeTimes, .ask, .decline]
        context["actions"] = offered.map { action -> [String: Any] in
            let words = SurvivorText.interviewAction(action, hasTimes: !invitation.times.isEmpty)
            return [
                "value": action.rawValue, "label": words.label, "hint": words.hint, "checked": typed.action == action.rawValue,
                "accept": action == .accept, "propose": action == .proposeTimes, "ask": action == .ask,
            ]
        }
        context["interviewers"] = InterviewerPreference.allCases.map { p -> [String: Any] in
            ["value": p.rawValue, "label": SurvivorText.interviewer(p), "checked": typed.interviewer == p.rawValue]
        }
        for (name, key, limit) in [
            ("proposedTimesHint", "yourInvitation.proposedTimesHint", Limits.interviewNote),
            ("accessibilityHint", "yourInvitation.accessibilityHint", Limits.interviewNeeds),
            ("placeHint", "yourInvitation.placeHint", Limits.interviewNeeds),
        ] {
            context[name] = words.text(key, count: limit, ["count": SurvivorText.grouped(limit)])
        }
        context["questionHint"] = Self.charactersHint(Limits.interviewNote)
        return try page(request, "survivor-interview", status: status, context)
    }

    /// `POST /your-request/interviews/:id`: the answer, checked by the API's own rules.
    func answerInterview(_ request: Request, _ survivor: AuthenticatedSurvivor, id: String) async throws -> Response {
        let fields = try await readForm(request, allowed: Self.interviewFields)
        let typed = InterviewAnswers(fields)
        guard InterviewAction(rawValue: typed.action) != nil else {
            return try await interviewPage(
                request, survivor, id: id, status: .badRequest, typed: typed,
                errors: [FieldError(field: "action", message: Catalogue.current.text("yourInvitation.error.noAction"))])
        }
        do {
            _ = try await service.answerInterview(id, typed.draft, for: survivor)
        } catch let p as Problem where p.kind == .badRequest || p.kind == .conflict {
            return try await interviewPage(
                request, survivor, id: id, status: p.kind == .conflict ? .conflict : .badRequest, typed: typed,
                errors: [Self.interviewError(p)])
        }
        return seeOther("/your-request/interviews/\(id)?done=answered")
    }

    /// A refusal of the answer in the page's words, beside the box it is about.
    static func interviewError(_ p: Problem) -> FieldError {
        let words = Catalogue.current
        let tooLong = p.code == "field-too-long"
        for (name, field, missing, limit) in [
            ("requests.interpreter", "interpreter", nil, Limits.interpreterLanguage),
            ("requests.accessibility", "accessibility", nil, Limits.interviewNeeds), ("requests.place", "place", nil, Limits.interviewNeeds),
            ("proposedTimes", "proposedTimes", "yourInvitation.error.noProposedTimes", Limits.interviewNote),
            ("question", "question", "yourInvitation.error.noQuestion", Limits.interviewNote),
        ] where p.message.contains("'\(name)'") {
            let message =
                tooLong
                ? words.text("yourInvitation.error.tooLong", count: limit, ["count": SurvivorText.grouped(limit)])
                : (p.code == "missing-field" || p.code == "empty-field")
                    ? missing.map { words.text($0) } ?? "" : words.text("yourInvitation.error.special")
            return FieldError(field: field, message: message)
        }
        if p.message.contains("'time'") {
            return FieldError(field: "time", message: words.text("yourInvitation.error.time"))
        }
        let key =
            switch p.code {
            case "consent-not-live": "yourInvitation.error.notShared"
            case "interview-accepted": "yourInvitation.error.accepted"
            case "answer-changed": "yourInvitation.error.changed"
            default: "yourInvitation.error.other"
            }
        return FieldError(field: "action", message: words.text(key))
    }
}
