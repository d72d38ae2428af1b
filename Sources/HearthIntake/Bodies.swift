public import HearthCore

/// `{"scope", "expires"?}`.
struct ConsentBody: Encodable {
    let scope: String
    let expires: String?

    init(_ c: ConsentChoice) {
        scope = c.scope.rawValue
        expires = c.expires?.description
    }
}

/// `{"days", "summary"}`.
struct RetentionBody: Encodable {
    let days: Int
    let summary: String

    init(_ r: RetentionPolicy) {
        days = r.days
        summary = r.summary
    }
}

/// The 201 answer to a submission: the only time the receipt is shown.
struct SubmissionBody: Encodable {
    let reference: String
    let receipt: String
    let consents: [ConsentBody]
    let retention: RetentionBody
}

/// `GET /api/v1/me`.
struct MeBody: Encodable {
    struct Event: Encodable {
        let scope: String
        let action: String
        let at: String
        let expires: String?
    }

    let reference: String
    let status: String
    let created: String
    let region: String?
    let request: ContactRequest
    let consents: [ConsentBody]
    let consentHistory: [Event]
    let retention: RetentionBody

    init(_ v: SurvivorView, retention: RetentionPolicy) {
        reference = v.reference
        status = v.status.rawValue
        created = rfc3339(unixSeconds: v.createdHour)
        region = v.region?.rawValue
        request = v.request
        consents = v.consents.map(ConsentBody.init)
        consentHistory = v.history.map {
            Event(scope: $0.scope.rawValue, action: $0.action.rawValue, at: rfc3339(unixSeconds: $0.at), expires: $0.expires?.description)
        }
        self.retention = RetentionBody(retention)
    }
}

/// One message of a thread as the API shows it.
public struct MessageBody: Encodable, Sendable {
    let author: String
    let pseudonym: String?
    let role: String?
    let at: String
    let text: String

    public init(_ m: ThreadMessage) {
        author = m.author
        pseudonym = m.pseudonym
        role = m.role?.rawValue
        at = rfc3339(unixSeconds: m.at)
        text = m.text
    }
}

/// One line of a survivor's access log.
struct AccessBody: Encodable {
    let role: String
    let roleName: String
    let staff: String
    let at: String
    let reason: String

    init(_ e: AccessLogEntry) {
        role = e.role.rawValue
        roleName = e.role.plainName
        staff = e.pseudonym
        at = rfc3339(unixSeconds: e.at)
        reason = e.reason
    }
}
