import Foundation
import HearthCore
import HearthHTTP
import HearthKeys

// How the staff pages word what they show: template values for cases and plain names for codes,
// all in the request's language (`Catalogue.current`).
extension StaffPages {
    static func summaryContext(_ c: CaseSummary) -> [String: Any] {
        var context: [String: Any] = [
            "reference": c.reference, "created": displayTime(c.createdHour), "region": regionName(c.region), "status": statusName(c.status),
            "scopes": c.liveScopes.map { ["name": scopeName($0)] }, "assignee": c.assignee ?? Catalogue.current.text("staffNames.notAssigned"),
        ]
        if let pause = c.pause { context["paused"] = pauseText(pause) }
        return context
    }

    /// "paused (until the end of 2027-03-31)" or "paused (until they resume)".
    static func pauseText(_ p: ContactPause) -> String {
        let words = Catalogue.current
        return p.until.map { words.text("staffNames.pausedUntilDay", ["day": "\($0)"]) } ?? words.text("staffNames.pausedUntilResumed")
    }

    static func openedContext(_ o: OpenedCase, role: Role) -> [String: Any] {
        let words = Catalogue.current
        let r = o.request
        var request: [String: Any] = [
            "contacts": r.contact.map { c -> [String: Any] in
                let method = contactMethodName(c.method)
                var d: [String: Any] = [
                    "method": method, "value": c.value,
                    "safeTimesLabel": words.text("staffOpened.safeTimes", ["method": method]),
                    "mayLeaveMessageLabel": words.text("staffOpened.mayLeaveMessage", ["method": method]),
                ]
                if let safe = c.safeTimes { d["safeTimes"] = safe }
                if let leave = c.mayLeaveMessage { d["mayLeaveMessage"] = words.text(leave ? "staffNames.yes" : "staffNames.no") }
                return d
            },
            "wants": r.wants.map(wantName).joined(separator: ", "),
        ]
        if let name = r.preferredName { request["preferredName"] = name }
        if let account = r.account { request["account"] = account }
        if let phrase = r.verificationPhrase { request["verificationPhrase"] = words.text("staffOpened.checkPhrase", ["phrase": phrase]) }
        let group = groupName(o.group)
        var context: [String: Any] = [
            "reference": o.reference, "status": statusName(o.status), "created": displayTime(o.createdHour), "region": regionName(o.region),
            "caseTitle": words.text("staffCase.title", ["reference": o.reference]),
            "openedTitle": words.text("staffOpened.title", ["reference": o.reference]),
            "request": request,
            "consents": o.consents.map { c -> [String: Any] in
                var d: [String: Any] = ["name": scopeName(c.scope)]
                if let until = c.expires { d["expires"] = words.text("staffOpened.until", ["day": "\(until)"]) }
                return d
            },
            "messages": o.messages.map { m -> [String: Any] in
                let fromStaff = m.author != "survivor"
                let pseudonym = m.pseudonym ?? words.text("staffOpened.staff")
                let who =
                    fromStaff
                    ? m.role.map { words.text("staffOpened.fromStaff", ["pseudonym": pseudonym, "role": roleName($0)]) } ?? pseudonym
                    : words.text("staffOpened.survivor")
                return ["mine": fromStaff, "from": who, "at": displayTime(m.at), "text": m.text]
            },
            "messagesHeading": words.text("staffOpened.messagesHeading", ["group": group]),
            "conversationScope": words.text("staffOpened.conversationScope", ["group": group]),
            "replyHint": words.text("staffOpened.replyHint", count: Limits.message, ["group": group]),
            "statuses": CaseStatus.allCases.map { ["value": $0.rawValue, "name": statusName($0), "selected": $0 == o.status] },
            // Browsers count `maxlength` in UTF-16 units, in which a 4-byte character is two: the box
            // holds twice the limit, so no script is cut short, and the service counts characters.
            "maxMessage": 2 * Limits.message,
        ]
        if let pause = o.pause { context["paused"] = words.text("staffOpened.contactIs", ["pause": pauseText(pause)]) }
        context["interviews"] = o.interviews.reversed().map(interviewContext)
        context["hasInterviews"] = !o.interviews.isEmpty
        if role.invitesToInterview {
            context["invite"] = [
                "forms": InterviewForm.allCases.map { ["value": $0.rawValue, "name": interviewFormName($0)] },
                "slots": (1...Limits.interviewTimes.upperBound).map { ["n": $0, "label": words.text("staffOpened.timeLabel", ["n": String($0)])] },
                "maxPurpose": 2 * Limits.interviewPurpose,
                "purposeHint": words.text("staffOpened.purposeHint", count: Limits.interviewPurpose),
            ]
        }
        return context
    }

    /// One invitation and the survivor's answer, for the opened case.
    static func interviewContext(_ i: Interview) -> [String: Any] {
        let words = Catalogue.current
        var rows: [[String: String]] = []
        func row(_ labelKey: String, _ value: String) { rows.append(["label": words.text(labelKey), "value": value]) }
        row("staffInterview.purpose", i.invitation.purpose)
        row("staffInterview.how", interviewFormName(i.invitation.form))
        row(
            "staffInterview.timesOffered",
            i.invitation.times.isEmpty
                ? words.text("staffInterview.noTimes") : i.invitation.times.map { words.ukTime($0) }.joined(separator: "; "))
        row(
            "staffInterview.sent",
            words.text("staffInterview.sentBy", ["time": displayTime(i.invitedAt), "pseudonym": i.pseudonym ?? words.text("staffInterview.staff")]))
        if let at = i.answeredAt { row("staffInterview.answered", displayTime(at)) }
        if let a = i.answer {
            if let t = a.time { row("staffInterview.timeAccepted", words.ukTime(t)) }
            if let text = a.proposedTimes { row("staffInterview.timesSuit", text) }
            if let text = a.question { row("staffInterview.question", text) }
            if let r = a.requests {
                if r.supporter { row("staffInterview.supporter", words.text("staffInterview.supporterWanted")) }
                if let p = r.interviewer { row("staffInterview.interviewer", interviewerName(p)) }
                if let language = r.interpreter { row("staffInterview.interpreter", language) }
                if r.breaks { row("staffInterview.breaks", words.text("staffInterview.breaksWhenever")) }
                if let text = r.accessibility { row("staffInterview.accessibility", text) }
                if let text = r.place { row("staffInterview.where", text) }
            }
        }
        return ["id": i.id, "state": interviewStateName(i.state), "rows": rows]
    }

    static func interviewFormName(_ f: InterviewForm) -> String {
        let key =
            switch f {
            case .inPerson: "staffNames.interviewForm.inPerson"
            case .video: "staffNames.interviewForm.video"
            case .phone: "staffNames.interviewForm.phone"
            }
        return name(key)
    }

    static func interviewStateName(_ s: InterviewState) -> String {
        let key =
            switch s {
            case .invited: "staffNames.interviewState.invited"
            case .accepted: "staffNames.interviewState.accepted"
            case .timesProposed: "staffNames.interviewState.timesProposed"
            case .questionAsked: "staffNames.interviewState.questionAsked"
            case .declined: "staffNames.interviewState.declined"
            case .withdrawn: "staffNames.interviewState.withdrawn"
            }
        return name(key)
    }

    static func interviewerName(_ p: InterviewerPreference) -> String {
        let key =
            switch p {
            case .woman: "staffNames.interviewer.woman"
            case .man: "staffNames.interviewer.man"
            case .noPreference: "staffNames.interviewer.noPreference"
            }
        return name(key)
    }

    static func keyStateName(_ line: KeyStatusReport.Line) -> String {
        guard line.problems.isEmpty else { return name("staffNames.keyState.problem") }
        return switch line.state {
        case "primary": name("staffNames.keyState.primary")
        case "decrypt-only": name("staffNames.keyState.decryptOnly")
        case "retired": name("staffNames.keyState.retired")
        case "present": name("staffNames.keyState.present")
        case "missing": name("staffNames.keyState.missing")
        default: line.state
        }
    }

    // MARK: Plain names

    /// The words of the catalogue key `key` in the request's language.
    static func name(_ key: String) -> String { Catalogue.current.text(key) }

    /// `2026-11-29 14:05 UTC`.
    static func displayTime(_ unixSeconds: Int64) -> String {
        let t = UTCTime(unixSeconds: unixSeconds)
        return Catalogue.current.text("staffNames.utcTime", ["day": "\(t.day)", "time": t.hourMinute])
    }

    /// The role's name on the staff pages, lowercase as in "alice (support caseworker)".
    static func roleName(_ role: Role) -> String {
        let key =
            switch role {
            case .caseworker: "staffNames.role.caseworker"
            case .reviewer: "staffNames.role.reviewer"
            case .policeLiaison: "staffNames.role.policeLiaison"
            case .prosecutionLiaison: "staffNames.role.prosecutionLiaison"
            case .supervisor: "staffNames.role.supervisor"
            case .privacyOfficer: "staffNames.role.privacyOfficer"
            case .admin: "staffNames.role.admin"
            }
        return name(key)
    }

    static func statusName(_ status: CaseStatus) -> String {
        let key =
            switch status {
            case .new: "staffNames.status.new"
            case .inProgress: "staffNames.status.inProgress"
            case .waiting: "staffNames.status.waiting"
            case .closed: "staffNames.status.closed"
            }
        return name(key)
    }

    /// `Support`: the group a survivor shares with, as a tag.
    static func scopeName(_ scope: Scope) -> String {
        let key =
            switch scope {
            case .support: "staffNames.scope.support"
            case .review: "staffNames.scope.review"
            case .police: "staffNames.scope.police"
            case .prosecution: "staffNames.scope.prosecution"
            }
        return name(key)
    }

    /// `the support group`: the group inside a sentence.
    static func groupName(_ scope: Scope) -> String {
        let key =
            switch scope {
            case .support: "staffNames.group.support"
            case .review: "staffNames.group.review"
            case .police: "staffNames.group.police"
            case .prosecution: "staffNames.group.prosecution"
            }
        return name(key)
    }

    /// `a support team member`: whom the survivor sees opening their case.
    static func teamMemberName(_ scope: Scope) -> String {
        let key =
            switch scope {
            case .support: "staffNames.teamMember.support"
            case .review: "staffNames.teamMember.review"
            case .police: "staffNames.teamMember.police"
            case .prosecution: "staffNames.teamMember.prosecution"
            }
        return name(key)
    }

    static func regionName(_ region: Region?) -> String {
        guard let region else { return name("staffNames.notGiven") }
        let key =
            switch region {
            case .northEast: "staffNames.region.northEast"
            case .northWest: "staffNames.region.northWest"
            case .yorkshireHumber: "staffNames.region.yorkshireHumber"
            case .eastMidlands: "staffNames.region.eastMidlands"
            case .westMidlands: "staffNames.region.westMidlands"
            case .east: "staffNames.region.east"
            case .london: "staffNames.region.london"
            case .southEast: "staffNames.region.southEast"
            case .southWest: "staffNames.region.southWest"
            case .wales: "staffNames.region.wales"
            case .scotland: "staffNames.region.scotland"
            case .northernIreland: "staffNames.region.northernIreland"
            }
        return name(key)
    }

    static func contactMethodName(_ kind: ContactMethodKind) -> String {
        let key =
            switch kind {
            case .phone: "staffNames.contactMethod.phone"
            case .email: "staffNames.contactMethod.email"
            case .post: "staffNames.contactMethod.post"
            case .organisation: "staffNames.contactMethod.organisation"
            }
        return name(key)
    }

    static func wantName(_ want: Want) -> String {
        let key =
            switch want {
            case .support: "staffNames.want.support"
            case .reopen: "staffNames.want.reopen"
            case .information: "staffNames.want.information"
            }
        return name(key)
    }
}
