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
        var errors: [String: String] = [:]
        let method = ContactMethodKind(rawValue: contactMethod)
        if contactMethod.isEmpty {
            errors["contactMethod"] = "Choose how we can contact you"
        } else if method == nil {
            errors["contactMethod"] = "Choose one of the ways to contact you from the list"
        }
        if contactValue.isEmpty { errors["contactValue"] = SurvivorText.missingContactValue(method) }
        if wants.isEmpty { errors["wants"] = "Choose at least one thing you would like from us" }
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
                errors["contactMethod"] = "Please check your answers and try again"
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

    static func method(_ m: ContactMethodKind) -> (label: String, hint: String?) {
        switch m {
        case .phone: ("Phone", nil)
        case .email: ("Email", nil)
        case .post: ("Post", nil)
        case .organisation: ("Through an organisation", "For example a support centre, a counsellor or a solicitor you trust.")
        }
    }

    static func want(_ w: Want) -> (label: String, hint: String) {
        switch w {
        case .support: ("Support for me", "Someone to talk to, or help to find support near you.")
        case .reopen: ("To have my case looked at again", "Asking for how your case was handled to be looked at again.")
        case .information: ("Information", "About what happened with your case, or about the choices you have.")
        }
    }

    /// A case status as a short label and a sentence.
    static func status(_ status: CaseStatus) -> (label: String, text: String) {
        switch status {
        case .new: ("Received", "Your request has arrived. It is waiting for someone to pick it up.")
        case .inProgress: ("In progress", "Someone is working on your request.")
        case .waiting: ("Waiting", "We are waiting for something before we can go further, for example a reply.")
        case .closed: ("Closed", "The people working on your request have closed it. You can still write to them below.")
        }
    }

    static func missingContactValue(_ method: ContactMethodKind?) -> String {
        switch method {
        case .phone: "Enter a phone number we can use"
        case .email: "Enter an email address we can use"
        case .post: "Enter a postal address we can use"
        case .organisation: "Enter the organisation and how we can reach you there"
        case nil: "Enter the phone number, email address, postal address or organisation we can use"
        }
    }

    /// The page's message for a problem the shared check found with one answer.
    static func fieldError(_ field: String, _ p: Problem, method: ContactMethodKind?) -> String {
        switch (field, p.code) {
        case ("preferredName", "field-too-long"): "The name must be \(Limits.preferredName) characters or fewer"
        case ("contactValue", "field-too-long"): "Contact details must be \(Limits.contactValue) characters or fewer"
        case ("contactValue", "invalid-value") where method == .email: "Enter an email address in the right format, like name@example.org"
        case ("contactValue", "invalid-value") where method == .phone:
            "Enter a phone number using only numbers, spaces and + ( ) -, like 07700 900123"
        case ("safeTimes", "field-too-long"): "Safe times must be \(Limits.safeTimes) characters or fewer"
        case ("account", "field-too-long"):
            "What happened must be \(grouped(Limits.account)) characters or fewer. You can shorten it now and tell us more later in a message"
        case ("preferredName", "invalid-value"), ("contactValue", "invalid-value"), ("safeTimes", "invalid-value"), ("account", "invalid-value"):
            "Remove line breaks and special characters from this answer"
        case ("preferredName", _): "Check the name you would like us to use"
        case ("contactValue", _): "Check the contact details"
        case ("safeTimes", _): "Check when it is safe to contact you"
        case ("mayLeaveMessage", _): "Choose yes or no, or leave both empty"
        case ("region", _): "Choose a region from the list, or ‘Prefer not to say’"
        case ("wants", _): "Choose what you would like from the list, each once"
        case ("account", _): "Check what you have written"
        case ("verificationPhrase", _): phraseError(p)
        case ("consent", _): "Choose from the groups listed, each once, or none"
        default: "Check this answer"
        }
    }

    /// `police liaison officer` as `Police liaison officer`.
    static func capitalised(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    /// How an interview would happen, in plain words.
    static func interviewForm(_ form: InterviewForm) -> String {
        switch form {
        case .inPerson: "In person"
        case .video: "By video call"
        case .phone: "By phone"
        }
    }

    /// Where an invitation stands, as the survivor sees it.
    static func interviewState(_ state: InterviewState) -> String {
        switch state {
        case .invited: "Waiting for your answer"
        case .accepted: "You said yes"
        case .timesProposed: "You suggested other times"
        case .questionAsked: "You asked a question"
        case .declined: "You said no, thank you"
        case .withdrawn: "You withdrew your yes"
        }
    }

    /// The answers a survivor can choose, each with a hint.
    static func interviewAction(_ action: InterviewAction, hasTimes: Bool) -> (label: String, hint: String) {
        switch action {
        case .accept: ("Yes, at one of these times", "Choose the time below. You can still change your mind later.")
        case .proposeTimes:
            hasTimes
                ? ("Yes, but at another time", "Tell us which days and times would suit you.")
                : ("Yes, and this is when would suit me", "Tell us which days and times would suit you.")
        case .ask: ("I have a question first", "Ask anything. You do not have to decide yet.")
        case .decline: ("No, thank you", "You do not need to give a reason. Nothing else changes.")
        case .withdraw: ("Withdraw my yes", "")
        }
    }

    /// A preference for who interviews them.
    static func interviewer(_ p: InterviewerPreference) -> String {
        switch p {
        case .woman: "A woman"
        case .man: "A man"
        case .noPreference: "I do not mind"
        }
    }

    /// The survivor's answer as rows of label and value.
    static func interviewAnswer(_ a: InterviewAnswer) -> [[String: String]] {
        var rows: [[String: String]] = []
        if let t = a.time { rows.append(["label": "The time you chose", "value": UKTime.words(t)]) }
        if let text = a.proposedTimes { rows.append(["label": "Times that would suit you", "value": text]) }
        if let text = a.question { rows.append(["label": "Your question", "value": text]) }
        rows += interviewRequests(a.requests)
        return rows
    }

    /// What the survivor asked for, as rows (shared with the staff pages' wording).
    static func interviewRequests(_ r: InterviewRequests?) -> [[String: String]] {
        guard let r else { return [] }
        var rows: [[String: String]] = []
        if r.supporter { rows.append(["label": "Someone with you", "value": "A supporter of your choice"]) }
        if let p = r.interviewer { rows.append(["label": "Who talks with you", "value": interviewer(p)]) }
        if let language = r.interpreter { rows.append(["label": "An interpreter", "value": language]) }
        if r.breaks { rows.append(["label": "Breaks", "value": "Whenever you need them"]) }
        if let text = r.accessibility { rows.append(["label": "What would make it easier", "value": text]) }
        if let text = r.place { rows.append(["label": "Where", "value": text]) }
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

    static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    /// `29 November 2026`.
    static func date(_ day: Day) -> String {
        let (year, month, dayOfMonth) = day.components
        return "\(dayOfMonth) \(months[month - 1]) \(year)"
    }

    /// `29 November 2026 at 14:05 UTC`.
    static func time(_ unixSeconds: Int64) -> String {
        let t = UTCTime(unixSeconds: unixSeconds)
        return "\(date(t.day)) at \(t.hourMinute) UTC"
    }

    /// The summary rows of a request: what the survivor sent, in their words.
    static func rows(_ r: ContactRequest) -> [[String: Any]] {
        let notGiven = "Not given"
        var rows: [[String: Any]] = [["label": "Name to use", "value": r.preferredName ?? notGiven]]
        for c in r.contact {
            rows.append(["label": "How to contact you", "value": "\(method(c.method).label): \(c.value)"])
            rows.append(["label": "When it is safe", "value": c.safeTimes ?? notGiven])
            let message: String =
                switch c.mayLeaveMessage {
                case true?: "Yes"
                case false?: "No"
                case nil: "Not given, so we will not leave a message"
                }
            rows.append(["label": "Can we leave a message", "value": message])
        }
        rows.append(["label": "Where you live", "value": r.region?.name ?? "Prefer not to say"])
        rows.append(["label": "What you would like", "value": r.wants.map { want($0).label }.joined(separator: "\n")])
        rows.append(["label": "What happened", "value": r.account ?? "Nothing written"])
        rows.append(["label": "Your check phrase", "value": r.verificationPhrase ?? "None chosen"])
        return rows
    }

    /// The page's message for a check phrase the shared rule refused (the form and "Your request" alike).
    static func phraseError(_ p: Problem) -> String {
        switch p.code {
        case "field-too-short": "Your check phrase must be at least \(Limits.verificationPhrase.lowerBound) characters, so it is hard to guess"
        case "field-too-long": "Your check phrase must be \(Limits.verificationPhrase.upperBound) characters or fewer"
        default: "Write your check phrase on one line, without special characters"
        }
    }

    /// A row saying who can read the request.
    static func sharingRow(_ consents: [ConsentChoice]) -> [String: Any] {
        [
            "label": "Who can read it",
            "value": consents.isEmpty
                ? "No one yet. You can choose later." : consents.map { scope($0.scope).title }.joined(separator: "\n"),
        ]
    }
}
