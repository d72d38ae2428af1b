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
