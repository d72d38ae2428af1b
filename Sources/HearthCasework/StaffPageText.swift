import Foundation
import HearthCore
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

    static func openedContext(_ o: OpenedCase) -> [String: Any] {
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
        return context
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
