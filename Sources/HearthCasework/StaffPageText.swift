import Foundation
import HearthCore
import HearthHTTP
import HearthKeys

// How the staff pages word what they show: template values for cases and plain names for codes.
extension StaffPages {
    static func summaryContext(_ c: CaseSummary) -> [String: Any] {
        var context: [String: Any] = [
            "reference": c.reference, "created": displayTime(c.createdHour), "region": regionName(c.region), "status": statusName(c.status),
            "scopes": c.liveScopes.map { ["name": scopeName($0)] }, "assignee": c.assignee ?? "Not assigned",
        ]
        if let pause = c.pause { context["paused"] = pauseText(pause) }
        return context
    }

    /// "paused (until 2027-03-31)" or "paused (until they resume)".
    static func pauseText(_ p: ContactPause) -> String {
        "paused (until " + (p.until.map { "the end of \($0)" } ?? "they resume") + ")"
    }

    static func openedContext(_ o: OpenedCase, role: Role) -> [String: Any] {
        let r = o.request
        var request: [String: Any] = [
            "contacts": r.contact.map { c -> [String: Any] in
                var d: [String: Any] = ["method": contactMethodName(c.method), "value": c.value]
                if let safe = c.safeTimes { d["safeTimes"] = safe }
                if let leave = c.mayLeaveMessage { d["mayLeaveMessage"] = leave ? "Yes" : "No" }
                return d
            },
            "wants": r.wants.map(wantName).joined(separator: ", "),
        ]
        if let name = r.preferredName { request["preferredName"] = name }
        if let account = r.account { request["account"] = account }
        if let phrase = r.verificationPhrase { request["verificationPhrase"] = phrase }
        var context: [String: Any] = [
            "reference": o.reference, "status": statusName(o.status), "created": displayTime(o.createdHour), "region": regionName(o.region),
            "request": request,
            "consents": o.consents.map { c -> [String: Any] in
                var d: [String: Any] = ["name": scopeName(c.scope)]
                if let until = c.expires { d["expires"] = "\(until)" }
                return d
            },
            "messages": o.messages.map { m -> [String: Any] in
                let fromStaff = m.author != "survivor"
                let who = fromStaff ? "\(m.pseudonym ?? "Staff")\(m.role.map { " (\($0.plainName))" } ?? "")" : "The survivor"
                return ["mine": fromStaff, "from": who, "at": displayTime(m.at), "text": m.text]
            },
            "groupName": "the \(scopeName(o.group).lowercased()) group",
            "statuses": CaseStatus.allCases.map { ["value": $0.rawValue, "name": statusName($0), "selected": $0 == o.status] },
            "maxMessage": Limits.message,
        ]
        if let pause = o.pause { context["paused"] = pauseText(pause) }
        context["interviews"] = o.interviews.reversed().map(interviewContext)
        context["hasInterviews"] = !o.interviews.isEmpty
        if role.invitesToInterview {
            context["invite"] = [
                "forms": InterviewForm.allCases.map { ["value": $0.rawValue, "name": interviewFormName($0)] },
                "slots": (1...Limits.interviewTimes.upperBound).map { ["n": $0] }, "maxPurpose": Limits.interviewPurpose,
            ]
        }
        return context
    }

    /// One invitation and the survivor's answer, for the opened case.
    static func interviewContext(_ i: Interview) -> [String: Any] {
        var rows: [[String: String]] = [
            ["label": "Purpose", "value": i.invitation.purpose], ["label": "How", "value": interviewFormName(i.invitation.form)],
            [
                "label": "Times offered",
                "value": i.invitation.times.isEmpty
                    ? "None: the survivor was asked to suggest a time" : i.invitation.times.map { UKTime.words($0) }.joined(separator: "; "),
            ],
            ["label": "Sent", "value": "\(displayTime(i.invitedAt)) by \(i.pseudonym ?? "staff")"],
        ]
        if let at = i.answeredAt { rows.append(["label": "Answered", "value": displayTime(at)]) }
        if let a = i.answer {
            if let t = a.time { rows.append(["label": "Time accepted", "value": UKTime.words(t)]) }
            if let text = a.proposedTimes { rows.append(["label": "Times that would suit them", "value": text]) }
            if let text = a.question { rows.append(["label": "Their question", "value": text]) }
            if let r = a.requests {
                if r.supporter { rows.append(["label": "Supporter", "value": "They would like a supporter of their choice present"]) }
                if let p = r.interviewer { rows.append(["label": "Interviewer", "value": interviewerName(p)]) }
                if let language = r.interpreter { rows.append(["label": "Interpreter", "value": language]) }
                if r.breaks { rows.append(["label": "Breaks", "value": "Whenever they need them"]) }
                if let text = r.accessibility { rows.append(["label": "Accessibility", "value": text]) }
                if let text = r.place { rows.append(["label": "Where", "value": text]) }
            }
        }
        return ["id": i.id, "state": interviewStateName(i.state), "rows": rows]
    }

    static func interviewFormName(_ f: InterviewForm) -> String {
        switch f {
        case .inPerson: "In person"
        case .video: "Video call"
        case .phone: "Phone"
        }
    }

    static func interviewStateName(_ s: InterviewState) -> String {
        switch s {
        case .invited: "Invited: no answer yet"
        case .accepted: "Accepted"
        case .timesProposed: "Other times proposed"
        case .questionAsked: "Question asked"
        case .declined: "Declined (no reason is asked; nothing else changes)"
        case .withdrawn: "Acceptance withdrawn"
        }
    }

    static func interviewerName(_ p: InterviewerPreference) -> String {
        switch p {
        case .woman: "A woman, please"
        case .man: "A man, please"
        case .noPreference: "No preference"
        }
    }

    static func keyStateName(_ line: KeyStatusReport.Line) -> String {
        guard line.problems.isEmpty else { return "Problem" }
        return switch line.state {
        case "primary": "Primary"
        case "decrypt-only": "Decrypt only"
        case "retired": "Retired"
        case "present": "Present"
        case "missing": "Missing"
        default: line.state
        }
    }

    // MARK: Plain names

    /// `2026-11-29 14:05 UTC`.
    static func displayTime(_ unixSeconds: Int64) -> String {
        let t = UTCTime(unixSeconds: unixSeconds)
        return "\(t.day) \(t.hourMinute) UTC"
    }

    static func statusName(_ status: CaseStatus) -> String {
        switch status {
        case .new: "New"
        case .inProgress: "In progress"
        case .waiting: "Waiting"
        case .closed: "Closed"
        }
    }

    static func scopeName(_ scope: Scope) -> String {
        switch scope {
        case .support: "Support"
        case .review: "Review"
        case .police: "Police"
        case .prosecution: "Prosecution"
        }
    }

    static func regionName(_ region: Region?) -> String { region?.name ?? "Not given" }

    static func contactMethodName(_ kind: ContactMethodKind) -> String {
        switch kind {
        case .phone: "Phone"
        case .email: "Email"
        case .post: "Post"
        case .organisation: "Through an organisation"
        }
    }

    static func wantName(_ want: Want) -> String {
        switch want {
        case .support: "Support"
        case .reopen: "Reopening their case"
        case .information: "Information"
        }
    }
}
