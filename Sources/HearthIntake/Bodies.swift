import HearthCore
import HearthHTTP

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

/// `GET /api/v1/me`: the record, its consent history and the retention policy.
typealias MeBody = RecordBody<MeExtras>

/// What `GET /api/v1/me` adds to the record.
struct MeExtras: Encodable {
    struct Event: Encodable {
        let scope: String
        let action: String
        let at: String
        let expires: String?
    }

    let consentHistory: [Event]
    let retention: RetentionBody
    /// Whether all contact is paused today, and until which day (null: until resumed).
    let paused: Bool
    let pausedUntil: String?
}

extension RecordBody<MeExtras> {
    init(_ v: SurvivorView, retention: RetentionPolicy, pause: ContactPause?) {
        self.init(
            v.record,
            adding: MeExtras(
                consentHistory: v.history.map {
                    .init(scope: $0.scope.rawValue, action: $0.action.rawValue, at: rfc3339(unixSeconds: $0.at), expires: $0.expires?.description)
                },
                retention: RetentionBody(retention), paused: pause != nil, pausedUntil: pause?.until?.description))
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

/// A pause of all contact as the API shows it: `{"paused": true, "until": "YYYY-MM-DD" | null}`.
struct PauseBody: Encodable {
    let pause: ContactPause

    init(_ pause: ContactPause) { self.pause = pause }

    enum Key: String, CodingKey { case paused, until }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(true, forKey: .paused)
        try c.encode(pause.until?.description, forKey: .until)
    }
}
