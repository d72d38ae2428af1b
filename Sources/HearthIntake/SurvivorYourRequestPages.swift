import Foundation
import HTTPTypes
import HearthCore
import HearthHTTP
import Hummingbird

// "Your request": the survivor's own pages behind the session that `POST /return` starts.
extension SurvivorPages {
    /// `GET /your-request`, its forms, and erasure.
    func registerYourRequest(on group: RouterGroup<SurvivorContext>) {
        group.get("/your-request") { request, context in try await yourRequest(request, context.survivor) }
        group.post("/your-request/messages") { request, context in try await reply(request, context.survivor) }
        group.post("/your-request/verification-phrase") { request, context in try await changePhrase(request, context.survivor) }
        group.post("/your-request/pause") { request, context in try await pauseContact(request, context.survivor) }
        group.post("/your-request/resume") { request, context in
            _ = try await readForm(request, allowed: [])
            try await service.resume(for: context.survivor)
            return seeOther("/your-request#pause")
        }
        registerInterviews(on: group)
        group.post("/your-request/consents/give") { request, context in try await give(request, context.survivor) }
        group.post("/your-request/consents/withdraw") { request, context in try await withdraw(request, context.survivor) }
        group.get("/your-request/erase") { request, context in
            let reference = context.survivor.reference
            return try page(request, "survivor-erase", ["lead": Catalogue.current.text("erase.lead", ["reference": reference])])
        }
        group.post("/your-request/erase") { request, context in try await erase(request, context.survivor) }
    }

    /// What to show again after a post on "Your request" that needs changing.
    struct Problems {
        /// The message for the reply box, and what was typed in it.
        var reply: String?
        var replyText = ""
        /// The message for the choice of group, and the group that was chosen.
        var replyGroup: String?
        var chosenGroup: Scope?
        /// A message posted while the survivor shares with no one (there is no form to show).
        var nobody: String?
        /// The message for the check phrase, and what was typed.
        var phrase: (message: String, typed: String)?
        /// The message for the end of a pause, and what was typed.
        var pause: (message: String, typed: String)?
        /// The message for one group's end date, and what was typed.
        var expires: (scope: Scope, message: String, typed: String)?
    }

    /// "Your request": status, thread and reply box, consent per group, access log, what was
    /// sent, erase and leave; after a post that needs changing, with its error.
    func yourRequest(
        _ request: Request, _ survivor: AuthenticatedSurvivor, status: HTTPResponse.Status = .ok, problems: Problems = Problems()
    ) async throws -> Response {
        let view = try await service.view(survivor)
        let thread = try await service.messages(survivor)
        let interviews = try await service.interviews(survivor)
        let access = try await service.accessLog(survivor)
        let today = service.today
        var errors: [FieldError] = []
        if let message = problems.nobody { errors.append(FieldError(field: "no-one-to-write-to", message: message)) }
        if let message = problems.replyGroup { errors.append(FieldError(field: "reply-group", message: message)) }
        if let problem = problems.phrase { errors.append(FieldError(field: "phrase", message: problem.message)) }
        if let problem = problems.pause { errors.append(FieldError(field: "pause-until", message: problem.message)) }
        if let message = problems.reply { errors.append(FieldError(field: "reply-text", message: message)) }
        if let problem = problems.expires {
            // A group already shared with has the "change the end date" box instead.
            let live = view.consents.contains { $0.scope == problem.scope }
            errors.append(FieldError(field: "\(live ? "change-" : "")expires-\(problem.scope.rawValue)", message: problem.message))
        }
        var context = Self.errorContext(errors)
        let words = Catalogue.current
        let progress = SurvivorText.status(view.status)
        context["reference"] = view.reference
        context["lead"] = words.text(
            "yourRequest.lead", ["reference": view.reference, "sent": words.date(Day(unixSeconds: view.createdHour))])
        context["statusLabel"] = progress.label
        context["statusText"] = progress.text
        context["rows"] = SurvivorText.rows(view.request)
        // One conversation per group: those shared with now, and those with messages from before.
        let shared = Set(view.consents.map(\.scope))
        context["conversations"] = Scope.allCases.filter { scope in shared.contains(scope) || thread.contains { $0.group == scope } }.map {
            scope -> [String: Any] in
            let short = SurvivorText.scope(scope).short
            return [
                "scope": scope.rawValue, "live": shared.contains(scope),
                "heading": words.text("yourRequest.conversationWith", ["group": short]),
                "notShared": words.text("yourRequest.conversationNotShared", ["group": short]),
                "empty": words.text("yourRequest.noMessagesWith", ["group": short]),
                "messages": thread.filter { $0.group == scope }.map { m -> [String: Any] in
                    let mine = m.author == "survivor"
                    let who = mine ? words.text("yourRequest.messageFromYou") : Self.staffWho(m.role, m.pseudonym)
                    return [
                        "mine": mine, "meta": words.text("yourRequest.messageMeta", ["who": who, "when": SurvivorText.time(m.at)]), "text": m.text,
                    ]
                },
            ]
        }
        context["hasInterviews"] = !interviews.isEmpty
        context["interviews"] = interviews.reversed().map { i -> [String: Any] in
            let state = SurvivorText.interviewState(i.state)
            return [
                "id": i.id,
                "link": words.text(
                    "yourRequest.invitationLink", ["group": SurvivorText.scope(i.group).short, "form": SurvivorText.interviewForm(i.invitation.form)]),
                "sentNote": words.text("yourRequest.invitationSent", ["when": SurvivorText.time(i.invitedAt)]),
                "state": state, "stateSentence": words.text("yourRequest.invitationState", ["state": state]), "waiting": i.state == .invited,
            ]
        }
        let writable = Scope.allCases.filter(shared.contains)
        context["canWrite"] = !writable.isEmpty
        context["writable"] = writable.map { scope -> [String: Any] in
            // With one group there is nothing to choose: it is ticked.
            ["scope": scope.rawValue, "title": SurvivorText.scope(scope).title, "checked": problems.chosenGroup == scope || writable.count == 1]
        }
        context["replyText"] = problems.replyText
        context["replyHint"] = Self.charactersHint(Limits.message)
        if let phrase = view.request.verificationPhrase { context["phrase"] = phrase }
        context["typedPhrase"] = problems.phrase?.typed ?? ""
        if let pause = service.pause(survivor) {
            context["paused"] = true
            context["pausedUntil"] =
                pause.until.map { words.text("yourRequest.pausedUntil", ["date": words.date($0)]) } ?? words.text("yourRequest.pausedUntilResumed")
        }
        context["typedPause"] = problems.pause?.typed ?? ""
        context["scopes"] = Scope.allCases.map { scope -> [String: Any] in
            let text = SurvivorText.scope(scope)
            let live = view.consents.first { $0.scope == scope }
            let problem = problems.expires.flatMap { $0.scope == scope ? $0 : nil }
            var row: [String: Any] = [
                "scope": scope.rawValue, "title": text.title, "explanation": text.explanation, "live": live != nil,
                "typedExpires": problem?.typed ?? live?.expires?.description ?? "",
                "until": live?.expires.map { words.text("yourRequest.sharedUntil", ["date": words.date($0)]) }
                    ?? words.text("yourRequest.sharedUntilStopped"),
                "stopSharing": words.text("yourRequest.stopSharing", ["group": text.short]),
                "shareWith": words.text("yourRequest.shareWith", ["group": text.short]),
            ]
            if let problem { row["expiresError"] = problem.message }
            return row
        }
        context["today"] = today.description
        context["horizon"] = today.adding(days: Limits.consentHorizonDays).description
        context["history"] = view.history.map { e -> String in
            let values = ["group": SurvivorText.scope(e.scope).short, "when": words.date(Day(unixSeconds: e.at))]
            switch e.action {
            case .granted:
                guard let until = e.expires else { return words.text("yourRequest.history.granted", values) }
                return words.text("yourRequest.history.grantedUntil", values.merging(["date": words.date(until)]) { a, _ in a })
            case .withdrawn: return words.text("yourRequest.history.withdrawn", values)
            case .expired: return words.text("yourRequest.history.expired", values)
            }
        }
        context["hasHistory"] = !view.history.isEmpty
        context["hasAccess"] = !access.isEmpty
        context["access"] = access.map {
            ["role": Self.roleName($0.role), "pseudonym": $0.pseudonym, "when": SurvivorText.time($0.at), "reason": $0.reason]
        }
        context["retention"] = SurvivorText.retention(service.retention)
        return try page(request, "survivor-your-request", status: status, context)
    }

    /// A role as the survivor pages name it, capitalised: `Police liaison officer` (`Member of
    /// staff` when the message or invitation carries no role).
    static func roleName(_ role: Role?) -> String {
        let key =
            switch role {
            case .caseworker?: "caseworker"
            case .reviewer?: "reviewer"
            case .policeLiaison?: "policeLiaison"
            case .prosecutionLiaison?: "prosecutionLiaison"
            case .supervisor?: "supervisor"
            case .privacyOfficer?: "privacyOfficer"
            case .admin?: "admin"
            case nil: "unknown"
            }
        return Catalogue.current.text("yourRequest.role.\(key)")
    }

    /// `Up to 5,000 characters.`: the hint under a box that takes at most `limit` characters.
    static func charactersHint(_ limit: Int) -> String {
        Catalogue.current.text("yourRequest.charactersHint", count: limit, ["count": SurvivorText.grouped(limit)])
    }

    /// Who on the staff wrote a message or sent an invitation: `Police liaison officer (Kestrel 4)`.
    static func staffWho(_ role: Role?, _ pseudonym: String?) -> String {
        let words = Catalogue.current
        return words.text("yourRequest.staffWho", ["role": roleName(role), "pseudonym": pseudonym ?? words.text("yourRequest.unknownPseudonym")])
    }

    /// `POST /your-request/messages`.
    func reply(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try await readForm(request, allowed: ["group", "text"])
        let typed = fields.value("text") ?? ""
        guard !service.sharedGroups(survivor).isEmpty else {
            return try await yourRequest(
                request, survivor, status: .badRequest,
                problems: Problems(nobody: Catalogue.current.text("yourRequest.error.nobody")))
        }
        let group = fields.value("group").flatMap(Scope.init(rawValue:))
        let groupProblem: String? =
            if let group {
                service.sharedGroups(survivor).contains(group) ? nil : Self.groupNotShared(group)
            } else {
                Catalogue.current.text("yourRequest.error.noGroup")
            }
        let text: String
        do throws(Problem) {
            // The API's own check of a message.
            text = try FieldReader(.object(["text": .string(typed)]), allowed: ["text"]).requiredText(
                "text", maxLength: Limits.message, multiline: true)
        } catch {
            let words = Catalogue.current
            let message =
                switch error.code {
                case "field-too-long":
                    words.text("yourRequest.error.messageTooLong", count: Limits.message, ["count": SurvivorText.grouped(Limits.message)])
                case "empty-field", "missing-field": words.text("yourRequest.error.messageEmpty")
                default: words.text("yourRequest.error.messageSpecial")
                }
            return try await yourRequest(
                request, survivor, status: .badRequest,
                problems: Problems(reply: message, replyText: typed, replyGroup: groupProblem, chosenGroup: group))
        }
        guard let group, groupProblem == nil else {
            return try await yourRequest(
                request, survivor, status: .badRequest, problems: Problems(replyText: typed, replyGroup: groupProblem, chosenGroup: nil))
        }
        do {
            try await service.writeMessage(text, to: group, for: survivor)
        } catch let p as Problem where p.code == "consent-not-live" {
            // Sharing ended between showing the page and sending.
            return try await yourRequest(
                request, survivor, status: .badRequest,
                problems: Problems(replyText: typed, replyGroup: Self.groupNotShared(group)))
        }
        return seeOther("/your-request")
    }

    /// The message for a reply to a group the survivor does not share with.
    static func groupNotShared(_ group: Scope) -> String {
        Catalogue.current.text("yourRequest.error.groupNotShared", ["group": SurvivorText.scope(group).short])
    }

    /// `POST /your-request/verification-phrase`: a new check phrase, sealed in the request; an
    /// empty one removes it.
    func changePhrase(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try await readForm(request, allowed: ["phrase"])
        let typed = fields.trimmed("phrase") ?? ""
        let phrase: String?
        do throws(Problem) {
            // The API's own rule.
            phrase = try VerificationPhrase.validate(typed.isEmpty ? nil : typed)
        } catch {
            return try await yourRequest(
                request, survivor, status: .badRequest, problems: Problems(phrase: (SurvivorText.phraseError(error), typed)))
        }
        try await service.setVerificationPhrase(phrase, for: survivor)
        return seeOther("/your-request#check-phrase")
    }

    /// `POST /your-request/pause`: pauses all contact until the end of a day, or until resumed.
    func pauseContact(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try await readForm(request, allowed: ["until"])
        let typed = fields.trimmed("until") ?? ""
        let until = Day(iso: typed)
        guard typed.isEmpty || until != nil else {
            return try await yourRequest(
                request, survivor, status: .badRequest,
                problems: Problems(
                    pause: (Catalogue.current.text("yourRequest.error.pauseFormat", ["example": service.today.adding(days: 30).description]), typed)))
        }
        do {
            _ = try await service.pause(until: until, for: survivor)
        } catch let p as Problem where p.code == "invalid-value" {
            return try await yourRequest(
                request, survivor, status: .badRequest,
                problems: Problems(pause: (Catalogue.current.text("yourRequest.error.pauseRange"), typed)))
        }
        return seeOther("/your-request#pause")
    }

    /// `POST /your-request/consents/give`: share with one group, with an optional end date; also
    /// changes or removes the end date of a group already shared with.
    func give(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try await readForm(request, allowed: ["scope", "expires"])
        let scope = try Self.scope(fields)
        let typed = fields.trimmed("expires") ?? ""
        var json: [String: JSONValue] = ["scope": .string(scope.rawValue)]
        if !typed.isEmpty { json["expires"] = .string(typed) }
        let choice: ConsentChoice
        do throws(Problem) {
            // The API's own check of a consent.
            choice = try ConsentChoice.validate(.object(json), today: service.today)
        } catch {
            let message =
                Day(iso: typed) == nil
                ? Catalogue.current.text("yourRequest.error.endDateFormat", ["example": service.today.adding(days: 90).description])
                : Catalogue.current.text("yourRequest.error.endDateRange")
            return try await yourRequest(
                request, survivor, status: .badRequest, problems: Problems(expires: (scope, message, typed)))
        }
        _ = try await service.grant(choice, for: survivor)
        return seeOther("/your-request")
    }

    /// `POST /your-request/consents/withdraw`. Stopping what has already stopped (a second click)
    /// is not an error: the survivor gets what they asked for.
    func withdraw(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try await readForm(request, allowed: ["scope"])
        let scope = try Self.scope(fields)
        do {
            _ = try await service.withdraw(scope, for: survivor)
        } catch let p as Problem where p.code == "consent-not-live" {}
        return seeOther("/your-request")
    }

    /// `POST /your-request/erase`: erases the record and ends every session on it.
    func erase(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        _ = try await readForm(request, allowed: [])
        try await service.erase(survivor)
        let reference = survivor.reference
        sessions.removeAll { $0.reference == reference }
        return pages.renderer.page("survivor-erased", [:], headers: [.setCookie: Self.endedCookie(Self.sessionCookie)])
    }
}
