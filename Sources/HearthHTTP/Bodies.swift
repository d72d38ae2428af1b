public import HearthCore

// Answer bodies both listeners' APIs share. Times are RFC 3339, enums their raw values.

/// `{"scope", "expires"?}`.
public struct ConsentBody: Encodable, Sendable {
    let scope: String
    let expires: String?

    /// A consent as the API shows it.
    public init(_ c: ConsentChoice) {
        scope = c.scope.rawValue
        expires = c.expires?.description
    }
}

/// One message of a thread as the API shows it.
public struct MessageBody: Encodable, Sendable {
    let author: String
    /// The group whose conversation the message is in.
    let group: String
    let pseudonym: String?
    let role: String?
    let at: String
    let text: String

    /// A message as the API shows it.
    public init(_ m: ThreadMessage) {
        author = m.author
        group = m.group.rawValue
        pseudonym = m.pseudonym
        role = m.role?.rawValue
        at = rfc3339(unixSeconds: m.at)
        text = m.text
    }
}

/// One invitation to an interview as the API shows it, with the survivor's latest answer.
public struct InterviewBody: Encodable, Sendable {
    struct Requests: Encodable {
        let supporter: Bool
        let interviewer: String?
        let interpreter: String?
        let breaks: Bool
        let accessibility: String?
        let place: String?
    }

    struct Answer: Encodable {
        let action: String
        let time: String?
        let proposedTimes: String?
        let question: String?
        let requests: Requests?
    }

    let id: String
    let group: String
    let state: String
    let purpose: String
    let form: String
    /// The times offered; empty means "you suggest a time".
    let times: [String]
    let invitedAt: String
    let answeredAt: String?
    let pseudonym: String?
    let role: String?
    let answer: Answer?

    /// An invitation as the API shows it.
    public init(_ i: Interview) {
        id = i.id
        group = i.group.rawValue
        state = i.state.rawValue
        purpose = i.invitation.purpose
        form = i.invitation.form.rawValue
        times = i.invitation.times.map { rfc3339(unixSeconds: $0) }
        invitedAt = rfc3339(unixSeconds: i.invitedAt)
        answeredAt = i.answeredAt.map { rfc3339(unixSeconds: $0) }
        pseudonym = i.pseudonym
        role = i.role?.rawValue
        answer = i.answer.map { a in
            Answer(
                action: a.action.rawValue, time: a.time.map { rfc3339(unixSeconds: $0) }, proposedTimes: a.proposedTimes, question: a.question,
                requests: a.requests.map {
                    Requests(
                        supporter: $0.supporter, interviewer: $0.interviewer?.rawValue, interpreter: $0.interpreter, breaks: $0.breaks,
                        accessibility: $0.accessibility, place: $0.place)
                })
        }
    }
}

/// An opened record as the API shows it — `reference`, `status`, `created`, `region`,
/// `request`, `consents` — with `Extras`' fields in the same object (the survivor's consent
/// history, or the staff member's thread).
public struct RecordBody<Extras: Encodable>: Encodable {
    let record: RecordView
    let extras: Extras

    /// `record` with `extras` beside its fields.
    public init(_ record: RecordView, adding extras: Extras) {
        self.record = record
        self.extras = extras
    }

    enum Key: String, CodingKey {
        case reference, status, created, region, request, consents
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(record.reference, forKey: .reference)
        try c.encode(record.status.rawValue, forKey: .status)
        try c.encode(rfc3339(unixSeconds: record.createdHour), forKey: .created)
        try c.encodeIfPresent(record.region?.rawValue, forKey: .region)
        try c.encode(record.request, forKey: .request)
        try c.encode(record.consents.map(ConsentBody.init), forKey: .consents)
        try extras.encode(to: encoder)
    }
}
