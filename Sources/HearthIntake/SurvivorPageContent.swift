import HearthCore
import HearthHTTP

// What the survivor pages say and how their contact form is checked. The routes are in
// SurvivorPages.swift; the markup is in the `survivor-*` templates of HearthHTTP.

/// One problem with a form answer: the id of the field it belongs to (the error summary links to
/// it) and what to do, in plain words.
struct FieldError: Sendable, Equatable {
    let field: String
    let message: String
}

/// The contact form's answers as typed, carried from the form to "Check your answers" (in hidden
/// fields) and back. Nothing here is trusted: ``validate(today:)`` decides.
struct RequestAnswers: Sendable, Equatable {
    var preferredName = ""
    var contactMethod = ""
    var contactValue = ""
    var safeTimes = ""
    var mayLeaveMessage = ""
    var region = ""
    var wants: [String] = []
    var account = ""
    var verificationPhrase = ""
    var consent: [String] = []

    /// The form's fields in page order; each is also the id the error summary links to.
    static let fieldOrder = [
        "preferredName", "contactMethod", "contactValue", "safeTimes", "mayLeaveMessage", "region", "wants", "account", "verificationPhrase",
        "consent",
    ]
    /// The field names the form may send.
    static let fieldNames = Set(fieldOrder)

    init() {}

    /// Reads the answers from a posted form; surrounding white space is dropped, so a blank answer is "".
    init(_ fields: FormFields) {
        preferredName = fields.trimmed("preferredName") ?? ""
        contactMethod = fields.trimmed("contactMethod") ?? ""
        contactValue = fields.trimmed("contactValue") ?? ""
        safeTimes = fields.trimmed("safeTimes") ?? ""
        mayLeaveMessage = fields.trimmed("mayLeaveMessage") ?? ""
        region = fields.trimmed("region") ?? ""
        wants = fields.values("wants")
        account = fields.trimmed("account") ?? ""
        verificationPhrase = fields.trimmed("verificationPhrase") ?? ""
        consent = fields.values("consent")
    }

    /// The answers as name–value pairs for hidden fields (blank answers left out).
    var pairs: [(name: String, value: String)] {
        var out: [(String, String)] = []
        for (name, value) in [
            ("preferredName", preferredName), ("contactMethod", contactMethod), ("contactValue", contactValue), ("safeTimes", safeTimes),
            ("mayLeaveMessage", mayLeaveMessage), ("region", region),
        ] where !value.isEmpty {
            out.append((name, value))
        }
        out += wants.map { ("wants", $0) }
        if !account.isEmpty { out.append(("account", account)) }
        if !verificationPhrase.isEmpty { out.append(("verificationPhrase", verificationPhrase)) }
        out += consent.map { ("consent", $0) }
        return out
    }

    // MARK: Checking

    /// Every problem with the answers at once, in page order; or, when there is none, the
    /// submission exactly as the API would accept it.
    ///
    /// The page words its own messages, but validity is decided by ``Submission/validate(_:today:)``,
    /// the API's own check: first each answer on its own (with harmless stand-ins for the other
    /// required answers), so that every problem shows at once, then all answers together.
    func validate(today: Day) -> (submission: Submission?, errors: [FieldError]) {
        let words = Catalogue.current
        var errors: [String: String] = [:]
        let method = ContactMethodKind(rawValue: contactMethod)
        if contactMethod.isEmpty {
            errors["contactMethod"] = words.text("requestError.contactMethod.missing")
        } else if method == nil {
            errors["contactMethod"] = words.text("requestError.contactMethod.unknown")
        }
        if contactValue.isEmpty { errors["contactValue"] = SurvivorText.missingContactValue(method) }
        if wants.isEmpty { errors["wants"] = words.text("requestError.wants.missing") }
        for field in Self.fieldOrder where errors[field] == nil && field != "contactMethod" && !isBlank(field) {
            if field == "contactValue" && method == nil { continue }
            do {
                _ = try Submission.validate(draft(only: field), today: today)
            } catch {
                errors[field] = SurvivorText.fieldError(field, error, method: method)
            }
        }
        if errors.isEmpty {
            do {
                return (try Submission.validate(draft(), today: today), [])
            } catch {
                // Each answer passed on its own, so this does not happen; say something useful if it does.
                errors["contactMethod"] = words.text("requestError.checkAgain")
            }
        }
        return (nil, Self.fieldOrder.compactMap { field in errors[field].map { FieldError(field: field, message: $0) } })
    }

    func isBlank(_ field: String) -> Bool {
        switch field {
        case "preferredName": preferredName.isEmpty
        case "contactMethod": contactMethod.isEmpty
        case "contactValue": contactValue.isEmpty
        case "safeTimes": safeTimes.isEmpty
        case "mayLeaveMessage": mayLeaveMessage.isEmpty
        case "region": region.isEmpty
        case "wants": wants.isEmpty
        case "account": account.isEmpty
        case "verificationPhrase": verificationPhrase.isEmpty
        case "consent": consent.isEmpty
        default: true
        }
    }

    /// The draft the API would read for these answers. With `only`, just that answer is real
    /// and the required ones are stand-ins that always pass, so a problem found belongs to that answer.
    func draft(only field: String? = nil) throws(Problem) -> SubmissionDraft {
        func real(_ name: String) -> Bool { field == nil || field == name }
        func text(_ s: String) -> String? { s.isEmpty ? nil : s }
        var contact = ContactMethodDraft(method: ContactMethodKind.organisation.rawValue, value: "stand-in")
        if real("contactValue") {
            contact.method = contactMethod
            contact.value = text(contactValue)
        }
        if real("safeTimes") { contact.safeTimes = text(safeTimes) }
        if real("mayLeaveMessage") {
            // A radio button sends yes or no; anything else is refused as the API refuses text there.
            switch mayLeaveMessage {
            case "": break
            case "yes": contact.mayLeaveMessage = true
            case "no": contact.mayLeaveMessage = false
            default: throw Problem(.badRequest, code: "wrong-type", "'contact[0].mayLeaveMessage' must be true or false, not text")
            }
        }
        var draft = SubmissionDraft(
            contact: [contact], wants: real("wants") ? wants : [Want.support.rawValue],
            consents: real("consent") ? consent.map { ConsentDraft(scope: $0) } : [])
        if real("preferredName") { draft.preferredName = text(preferredName) }
        if real("region") { draft.region = text(region) }
        if real("account") { draft.account = text(account) }
        if real("verificationPhrase") { draft.verificationPhrase = text(verificationPhrase) }
        return draft
    }
}

/// The plain words of the survivor pages that come from code rather than templates.
enum SurvivorText {
    /// "a", "a and b", "a, b and c" (in the page's language).
    static func list(_ items: [String]) -> String {
        guard items.count > 1, let first = items.first, let last = items.last else { return items.first ?? "" }
        let words = Catalogue.current
        if items.count == 2 { return words.text("list.two", ["first": first, "last": last]) }
        return words.text("list.more", ["first": first, "rest": list(Array(items.dropFirst()))])
    }

    /// Who each consent scope lets read the request, in plain words.
    static func scope(_ scope: Scope) -> (title: String, short: String, explanation: String) {
        let words = Catalogue.current
        let key = "scope.\(scope.rawValue)"
        return (words.text("\(key).title"), words.text("\(key).short"), words.text("\(key).explanation"))
    }

    /// How long a record is kept with no live consent, in plain words.
    static func retention(_ policy: RetentionPolicy) -> String {
        Catalogue.current.text("retention.summary", count: policy.days)
    }

    /// Scopes as template rows: `value`, `title`, `short`, `explanation`.
    static func scopeRows(checked: Set<String> = []) -> [[String: Any]] {
        Scope.allCases.map { s in
            let t = scope(s)
            return ["value": s.rawValue, "title": t.title, "short": t.short, "explanation": t.explanation, "checked": checked.contains(s.rawValue)]
        }
    }

    /// A way to contact the survivor: its label and, for some, a hint.
    static func method(_ m: ContactMethodKind) -> (label: String, hint: String?) {
        let words = Catalogue.current
        let key = "contactMethod.\(m.rawValue)"
        return (words.text("\(key).label"), m == .organisation ? words.text("\(key).hint") : nil)
    }

    /// Something the survivor would like from the programme: its label and a hint.
    static func want(_ w: Want) -> (label: String, hint: String) {
        let words = Catalogue.current
        return (words.text("want.\(w.rawValue).label"), words.text("want.\(w.rawValue).hint"))
    }

    /// A region's name, in the page's language (``Region/name`` is the English one, for the API).
    static func region(_ region: Region) -> String {
        let key =
            switch region {
            case .northEast: "region.northEast"
            case .northWest: "region.northWest"
            case .yorkshireHumber: "region.yorkshireHumber"
            case .eastMidlands: "region.eastMidlands"
            case .westMidlands: "region.westMidlands"
            case .east: "region.east"
            case .london: "region.london"
            case .southEast: "region.southEast"
            case .southWest: "region.southWest"
            case .wales: "region.wales"
            case .scotland: "region.scotland"
            case .northernIreland: "region.northernIreland"
            }
        return Catalogue.current.text(key)
    }

    /// The answer "yes" (`true`) or "no", as the form's radio buttons and the summary say it.
    static func yesNo(_ answer: Bool) -> String { Catalogue.current.text(answer ? "choice.yes" : "choice.no") }

    /// A case status as a short label and a sentence.
    static func status(_ status: CaseStatus) -> (label: String, text: String) {
        let words = Catalogue.current
        let key =
            switch status {
            case .new: "caseStatus.new"
            case .inProgress: "caseStatus.inProgress"
            case .waiting: "caseStatus.waiting"
            case .closed: "caseStatus.closed"
            }
        return (words.text("\(key).label"), words.text("\(key).text"))
    }

    /// What to write when the contact details are missing, for the chosen way (or none).
    static func missingContactValue(_ method: ContactMethodKind?) -> String {
        Catalogue.current.text("requestError.contactValue.missing.\(method?.rawValue ?? "any")")
    }

    /// The page's message for a problem the shared check found with one answer.
    static func fieldError(_ field: String, _ p: Problem, method: ContactMethodKind?) -> String {
        let words = Catalogue.current
        return switch (field, p.code) {
        case ("preferredName", "field-too-long"): words.text("requestError.preferredName.tooLong", ["max": String(Limits.preferredName)])
        case ("contactValue", "field-too-long"): words.text("requestError.contactValue.tooLong", ["max": String(Limits.contactValue)])
        case ("contactValue", "invalid-value") where method == .email: words.text("requestError.contactValue.email")
        case ("contactValue", "invalid-value") where method == .phone: words.text("requestError.contactValue.phone")
        case ("safeTimes", "field-too-long"): words.text("requestError.safeTimes.tooLong", ["max": String(Limits.safeTimes)])
        case ("account", "field-too-long"): words.text("requestError.account.tooLong", ["max": grouped(Limits.account)])
        case ("preferredName", "invalid-value"), ("contactValue", "invalid-value"), ("safeTimes", "invalid-value"), ("account", "invalid-value"):
            words.text("requestError.oneLine")
        case ("preferredName", _): words.text("requestError.preferredName.check")
        case ("contactValue", _): words.text("requestError.contactValue.check")
        case ("safeTimes", _): words.text("requestError.safeTimes.check")
        case ("mayLeaveMessage", _): words.text("requestError.mayLeaveMessage.check")
        case ("region", _): words.text("requestError.region.check")
        case ("wants", _): words.text("requestError.wants.check")
        case ("account", _): words.text("requestError.account.check")
        case ("verificationPhrase", _): phraseError(p)
        case ("consent", _): words.text("requestError.consent.check")
        default: words.text("requestError.other")
        }
    }

    /// `police liaison officer` as `Police liaison officer`.
    static func capitalised(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    /// How an interview would happen, in plain words.
    static func interviewForm(_ form: InterviewForm) -> String {
        let key =
            switch form {
            case .inPerson: "interviewForm.inPerson"
            case .video: "interviewForm.video"
            case .phone: "interviewForm.phone"
            }
        return Catalogue.current.text(key)
    }

    /// Where an invitation stands, as the survivor sees it.
    static func interviewState(_ state: InterviewState) -> String {
        let key =
            switch state {
            case .invited: "interviewState.invited"
            case .accepted: "interviewState.accepted"
            case .timesProposed: "interviewState.timesProposed"
            case .questionAsked: "interviewState.questionAsked"
            case .declined: "interviewState.declined"
            case .withdrawn: "interviewState.withdrawn"
            }
        return Catalogue.current.text(key)
    }

    /// The answers a survivor can choose, each with a hint.
    static func interviewAction(_ action: InterviewAction, hasTimes: Bool) -> (label: String, hint: String) {
        let words = Catalogue.current
        return switch action {
        case .accept: (words.text("interviewAction.accept.label"), words.text("interviewAction.accept.hint"))
        case .proposeTimes:
            (
                words.text(hasTimes ? "interviewAction.proposeTimes.label" : "interviewAction.proposeTimes.labelNoTimes"),
                words.text("interviewAction.proposeTimes.hint")
            )
        case .ask: (words.text("interviewAction.ask.label"), words.text("interviewAction.ask.hint"))
        case .decline: (words.text("interviewAction.decline.label"), words.text("interviewAction.decline.hint"))
        case .withdraw: (words.text("interviewAction.withdraw.label"), "")
        }
    }

    /// A preference for who interviews them.
    static func interviewer(_ p: InterviewerPreference) -> String {
        let key =
            switch p {
            case .woman: "interviewer.woman"
            case .man: "interviewer.man"
            case .noPreference: "interviewer.noPreference"
            }
        return Catalogue.current.text(key)
    }

    /// The survivor's answer as rows of label and value.
    static func interviewAnswer(_ a: InterviewAnswer) -> [[String: String]] {
        let words = Catalogue.current
        var rows: [[String: String]] = []
        if let t = a.time { rows.append(["label": words.text("interviewAnswer.time"), "value": words.ukTime(t)]) }
        if let text = a.proposedTimes { rows.append(["label": words.text("interviewAnswer.proposedTimes"), "value": text]) }
        if let text = a.question { rows.append(["label": words.text("interviewAnswer.question"), "value": text]) }
        rows += interviewRequests(a.requests)
        return rows
    }

    /// What the survivor asked for, as rows (shared with the staff pages' wording).
    static func interviewRequests(_ r: InterviewRequests?) -> [[String: String]] {
        guard let r else { return [] }
        let words = Catalogue.current
        var rows: [[String: String]] = []
        if r.supporter {
            rows.append(["label": words.text("interviewRequest.supporter.label"), "value": words.text("interviewRequest.supporter.value")])
        }
        if let p = r.interviewer { rows.append(["label": words.text("interviewRequest.interviewer"), "value": interviewer(p)]) }
        if let language = r.interpreter { rows.append(["label": words.text("interviewRequest.interpreter"), "value": language]) }
        if r.breaks { rows.append(["label": words.text("interviewRequest.breaks.label"), "value": words.text("interviewRequest.breaks.value")]) }
        if let text = r.accessibility { rows.append(["label": words.text("interviewRequest.accessibility"), "value": text]) }
        if let text = r.place { rows.append(["label": words.text("interviewRequest.place"), "value": text]) }
        return rows
    }

    /// `16000` as `16,000`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    /// `29 November 2026`, in the page's language.
    static func date(_ day: Day) -> String { Catalogue.current.date(day) }

    /// `29 November 2026 at 14:05 UTC`, in the page's language.
    static func time(_ unixSeconds: Int64) -> String {
        let t = UTCTime(unixSeconds: unixSeconds)
        return Catalogue.current.text("date.utcTime", ["date": date(t.day), "time": t.hourMinute])
    }

    /// The summary rows of a request: what the survivor sent, in their words.
    static func rows(_ r: ContactRequest) -> [[String: Any]] {
        let words = Catalogue.current
        let notGiven = words.text("answerRow.notGiven")
        var rows: [[String: Any]] = [["label": words.text("answerRow.name"), "value": r.preferredName ?? notGiven]]
        for c in r.contact {
            rows.append([
                "label": words.text("answerRow.contact"),
                "value": words.text("answerRow.contactValue", ["method": method(c.method).label, "value": c.value]),
            ])
            rows.append(["label": words.text("answerRow.safeTimes"), "value": c.safeTimes ?? notGiven])
            rows.append([
                "label": words.text("answerRow.mayLeaveMessage"), "value": c.mayLeaveMessage.map(yesNo) ?? words.text("answerRow.noMessage"),
            ])
        }
        rows.append(["label": words.text("answerRow.region"), "value": r.region.map(region) ?? words.text("region.preferNotToSay")])
        rows.append(["label": words.text("answerRow.wants"), "value": r.wants.map { want($0).label }.joined(separator: "\n")])
        rows.append(["label": words.text("answerRow.account"), "value": r.account ?? words.text("answerRow.nothingWritten")])
        rows.append(["label": words.text("answerRow.phrase"), "value": r.verificationPhrase ?? words.text("answerRow.noPhrase")])
        return rows
    }

    /// The page's message for a check phrase the shared rule refused (the form and "Your request" alike).
    static func phraseError(_ p: Problem) -> String {
        let words = Catalogue.current
        return switch p.code {
        case "field-too-short": words.text("phraseError.tooShort", ["min": String(Limits.verificationPhrase.lowerBound)])
        case "field-too-long": words.text("phraseError.tooLong", ["max": String(Limits.verificationPhrase.upperBound)])
        default: words.text("phraseError.other")
        }
    }

    /// A row saying who can read the request.
    static func sharingRow(_ consents: [ConsentChoice]) -> [String: Any] {
        let words = Catalogue.current
        return [
            "label": words.text("answerRow.sharing"),
            "value": consents.isEmpty ? words.text("answerRow.sharedWithNoOne") : consents.map { scope($0.scope).title }.joined(separator: "\n"),
        ]
    }
}
