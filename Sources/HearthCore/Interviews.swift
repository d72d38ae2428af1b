import HearthCrypto

/// How an interview would take place.
public enum InterviewForm: String, CaseIterable, Codable, Sendable {
    case inPerson = "in-person"
    case video
    case phone
}

/// Where an invitation to an interview stands: metadata in clear (SECURITY.md §4), set only by
/// the survivor's answers after staff send it.
public enum InterviewState: String, CaseIterable, Codable, Sendable {
    /// Sent, not yet answered.
    case invited
    /// The survivor accepted one of the times offered.
    case accepted
    /// The survivor proposed other times.
    case timesProposed = "times-proposed"
    /// The survivor asked a question first.
    case questionAsked = "question-asked"
    /// The survivor said no. Nothing else changes.
    case declined
    /// The survivor withdrew an acceptance.
    case withdrawn
}

/// What a survivor can answer to an invitation.
public enum InterviewAction: String, CaseIterable, Codable, Sendable {
    case accept
    case proposeTimes = "propose-times"
    case ask
    case decline
    case withdraw

    /// The state an answer leaves the invitation in.
    public var state: InterviewState {
        switch self {
        case .accept: .accepted
        case .proposeTimes: .timesProposed
        case .ask: .questionAsked
        case .decline: .declined
        case .withdraw: .withdrawn
        }
    }
}

/// Who the survivor would like to interview them.
public enum InterviewerPreference: String, CaseIterable, Codable, Sendable {
    case woman
    case man
    case noPreference = "no-preference"
}

/// The roles that can invite a survivor to an interview: the reviewer, the police liaison and
/// the prosecution liaison (support caseworkers do not interview).
extension Role {
    /// Whether this role may send an invitation to an interview.
    public var invitesToInterview: Bool { self == .reviewer || self == .policeLiaison || self == .prosecutionLiaison }
}

extension Limits {
    /// Longest "what it is for" of an invitation.
    public static let interviewPurpose = 2_000
    /// How many times an invitation may propose (none means "you suggest a time").
    public static let interviewTimes = 0...5
    /// Longest question, or proposal of other times, in an answer.
    public static let interviewNote = 1_000
    /// Longest description of accessibility needs, or of where the interview could happen.
    public static let interviewNeeds = 500
    /// Longest interpreter language.
    public static let interpreterLanguage = 60
    /// The most characters one answer form carries together: a question and other times (an
    /// answer keeps only its action's, but the page's form sends both boxes) and the requests'
    /// interpreter, accessibility and place. The answer routes' body limit is sized from it.
    public static let interviewAnswerCharacters = 2 * interviewNote + interpreterLanguage + 2 * interviewNeeds
    /// How far ahead an interview may be proposed, in days (about two years).
    public static let interviewHorizonDays = 731
}

/// What the survivor may ask for, all optional and all theirs to choose.
public struct InterviewRequests: Codable, Sendable, Equatable {
    /// A supporter of their choosing present.
    public var supporter: Bool
    /// The interviewer's gender, if they have a preference.
    public var interviewer: InterviewerPreference?
    /// An interpreter, in this language.
    public var interpreter: String?
    /// Breaks whenever they need them.
    public var breaks: Bool
    /// Accessibility needs, in their words.
    public var accessibility: String?
    /// Where they would like it to happen, in their words.
    public var place: String?

    /// Requests as given.
    public init(
        supporter: Bool = false, interviewer: InterviewerPreference? = nil, interpreter: String? = nil, breaks: Bool = false,
        accessibility: String? = nil, place: String? = nil
    ) {
        self.supporter = supporter
        self.interviewer = interviewer
        self.interpreter = interpreter
        self.breaks = breaks
        self.accessibility = accessibility
        self.place = place
    }

    /// Whether nothing was asked for.
    public var isEmpty: Bool { self == InterviewRequests() }
}

/// An invitation as staff wrote it: sealed in the group's conversation (the times are also kept
/// in clear, so the survivor's acceptance can be checked against them).
public struct InterviewInvitation: Codable, Sendable, Equatable {
    /// What the interview is for, in plain words.
    public var purpose: String
    public var form: InterviewForm
    /// One to five proposed times (Unix seconds, on the minute), or none for "you suggest a time".
    public var times: [Int64]

    /// An invitation with these parts (``validate(_:now:)`` checks a draft into one).
    public init(purpose: String, form: InterviewForm, times: [Int64]) {
        self.purpose = purpose
        self.form = form
        self.times = times
    }
}

/// A survivor's answer: sealed in the group's conversation. Its action and accepted time are
/// also metadata in clear (the invitation's state), and must agree with the sealed copy.
public struct InterviewAnswer: Codable, Sendable, Equatable {
    public var action: InterviewAction
    /// The accepted time (accept only).
    public var time: Int64?
    /// Other times that suit them, in their words (propose-times only).
    public var proposedTimes: String?
    /// Their question (ask only).
    public var question: String?
    /// What they ask for (accept and propose-times only).
    public var requests: InterviewRequests?

    /// An answer with these parts (``validate(_:invitation:state:)`` checks a draft into one).
    public init(
        action: InterviewAction, time: Int64? = nil, proposedTimes: String? = nil, question: String? = nil, requests: InterviewRequests? = nil
    ) {
        self.action = action
        self.time = time
        self.proposedTimes = proposedTimes
        self.question = question
        self.requests = requests
    }
}

/// An invitation as sent, before any check: what a JSON body or the staff form holds.
public struct InterviewInvitationDraft: Sendable, Equatable {
    public var purpose: String?
    public var form: String?
    /// RFC 3339 times in UTC (`2026-12-10T10:00:00Z`).
    public var times: [String]?

    /// A draft with these raw answers.
    public init(purpose: String? = nil, form: String? = nil, times: [String]? = nil) {
        self.purpose = purpose
        self.form = form
        self.times = times
    }
}

/// What the survivor may ask for, as sent.
public struct InterviewRequestsDraft: Sendable, Equatable {
    public var supporter: Bool?
    public var interviewer: String?
    public var interpreter: String?
    public var breaks: Bool?
    public var accessibility: String?
    public var place: String?

    /// A draft with these raw answers.
    public init(
        supporter: Bool? = nil, interviewer: String? = nil, interpreter: String? = nil, breaks: Bool? = nil, accessibility: String? = nil,
        place: String? = nil
    ) {
        self.supporter = supporter
        self.interviewer = interviewer
        self.interpreter = interpreter
        self.breaks = breaks
        self.accessibility = accessibility
        self.place = place
    }
}

/// An answer as sent, before any check.
public struct InterviewAnswerDraft: Sendable, Equatable {
    public var action: String?
    /// RFC 3339, one of the invitation's times.
    public var time: String?
    public var proposedTimes: String?
    public var question: String?
    public var requests: InterviewRequestsDraft?

    /// A draft with these raw answers.
    public init(
        action: String? = nil, time: String? = nil, proposedTimes: String? = nil, question: String? = nil, requests: InterviewRequestsDraft? = nil
    ) {
        self.action = action
        self.time = time
        self.proposedTimes = proposedTimes
        self.question = question
        self.requests = requests
    }
}

extension UTCTime {
    /// Reads `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DDTHH:MMZ` (UTC only), as Unix seconds.
    public static func unixSeconds(rfc3339 text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count == 17 || u.count == 20, u[10] == UInt8(ascii: "T"), u.last == UInt8(ascii: "Z"), u[13] == UInt8(ascii: ":"),
            let day = Day(iso: String(decoding: u[0..<10], as: UTF8.self))
        else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard u[i] >= 0x30, u[i] <= 0x39 else { return nil }
                n = n * 10 + Int(u[i] - 0x30)
            }
            return n
        }
        var second = 0
        if u.count == 20 {
            guard u[16] == UInt8(ascii: ":"), let s = number(17..<19), s < 60 else { return nil }
            second = s
        }
        guard let hour = number(11..<13), let minute = number(14..<16), hour < 24, minute < 60 else { return nil }
        return Int64(day.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

extension InterviewInvitation {
    /// Checks a draft: a purpose, a form, and up to five distinct times on the minute between now
    /// and two years ahead (kept in order); none means the survivor suggests a time.
    public static func validate(_ draft: InterviewInvitationDraft, now: Int64) throws(Problem) -> InterviewInvitation {
        let purpose = try FieldRules.requiredText(draft.purpose, name: "purpose", maxLength: Limits.interviewPurpose, multiline: true)
        guard let form = try FieldRules.choice(draft.form, name: "form", of: InterviewForm.self) else { throw FieldRules.missing("form") }
        let raw = draft.times ?? []
        try FieldRules.count(raw.count, name: "times", within: Limits.interviewTimes)
        var times: [Int64] = []
        for (i, text) in raw.enumerated() {
            let name = "times[\(i)]"
            guard let t = UTCTime.unixSeconds(rfc3339: text), t % 60 == 0 else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name)' must be a time in UTC on the minute, like 2027-01-14T10:30:00Z")
            }
            guard t > now, t <= now + Int64(Limits.interviewHorizonDays) * 86_400 else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name)' must be in the future, and no more than two years away")
            }
            guard !times.contains(t) else { throw Problem(.badRequest, code: "duplicate-value", "'times' lists \(text) more than once") }
            times.append(t)
        }
        return InterviewInvitation(purpose: purpose, form: form, times: times.sorted())
    }
}

extension InterviewRequests {
    /// Checks what the survivor asks for.
    public static func validate(_ draft: InterviewRequestsDraft, path: String = "requests") throws(Problem) -> InterviewRequests {
        InterviewRequests(
            supporter: draft.supporter ?? false,
            interviewer: try FieldRules.choice(draft.interviewer, name: "\(path).interviewer", of: InterviewerPreference.self),
            interpreter: try FieldRules.text(draft.interpreter, name: "\(path).interpreter", maxLength: Limits.interpreterLanguage),
            breaks: draft.breaks ?? false,
            accessibility: try FieldRules.text(draft.accessibility, name: "\(path).accessibility", maxLength: Limits.interviewNeeds, multiline: true),
            place: try FieldRules.text(draft.place, name: "\(path).place", maxLength: Limits.interviewNeeds, multiline: true))
    }
}

extension InterviewAnswer {
    /// Checks a draft against the invitation and where it stands. Each action takes only its own
    /// fields: a time to accept (one of those offered), other times to propose, a question to ask;
    /// requests go with accept and propose-times; a decline takes nothing, not even a reason; only
    /// an acceptance can be withdrawn, and an acceptance can only be withdrawn.
    public static func validate(
        _ draft: InterviewAnswerDraft, invitation: InterviewInvitation, state: InterviewState
    ) throws(Problem) -> InterviewAnswer {
        guard let action = try FieldRules.choice(draft.action, name: "action", of: InterviewAction.self) else {
            throw FieldRules.missing("action")
        }
        func refuse(_ field: String, unless allowed: Bool) throws(Problem) {
            guard allowed else {
                throw Problem(.badRequest, code: "unexpected-field", "'\(field)' does not go with the action '\(action.rawValue)'; leave it out")
            }
        }
        try refuse("time", unless: draft.time == nil || action == .accept)
        try refuse("proposedTimes", unless: draft.proposedTimes == nil || action == .proposeTimes)
        try refuse("question", unless: draft.question == nil || action == .ask)
        try refuse("requests", unless: draft.requests == nil || action == .accept || action == .proposeTimes)
        if state == .accepted, action != .withdraw {
            throw Problem(
                .conflict, code: "interview-accepted",
                "you have accepted this invitation; to change your answer, withdraw your acceptance first (you can also write a message)")
        }
        if action == .withdraw, state != .accepted {
            throw Problem(.conflict, code: "not-accepted", "there is no acceptance to withdraw")
        }
        var answer = InterviewAnswer(action: action)
        switch action {
        case .accept:
            guard !invitation.times.isEmpty else {
                throw Problem(.badRequest, code: "invalid-value", "this invitation offers no times; use 'propose-times' to suggest one")
            }
            guard let text = draft.time else { throw Problem(.badRequest, code: "missing-field", "'time' is required: one of the times offered") }
            guard let t = UTCTime.unixSeconds(rfc3339: text), invitation.times.contains(t) else {
                throw Problem(.badRequest, code: "invalid-value", "'time' must be one of the times offered")
            }
            answer.time = t
        case .proposeTimes:
            answer.proposedTimes = try FieldRules.requiredText(
                draft.proposedTimes, name: "proposedTimes", maxLength: Limits.interviewNote, multiline: true)
        case .ask:
            answer.question = try FieldRules.requiredText(draft.question, name: "question", maxLength: Limits.interviewNote, multiline: true)
        case .decline, .withdraw:
            break
        }
        if let requests = draft.requests {
            let checked = try InterviewRequests.validate(requests)
            answer.requests = checked.isEmpty ? nil : checked
        }
        return answer
    }
}

/// One invitation as stored: its state, times and timestamps in clear, its content sealed.
public struct StoredInterview: Sendable, Equatable {
    /// 16 random bytes.
    public let interviewID: [UInt8]
    /// The group whose conversation it belongs to.
    public let scope: Scope
    public let state: InterviewState
    /// The times offered (Unix seconds), in order.
    public let times: [Int64]
    /// The accepted time, while accepted.
    public let chosen: Int64?
    /// When it was sent and last answered (Unix seconds, to the minute).
    public let invitedAt: Int64
    public let answeredAt: Int64?
    /// How many answers have been given (each seals with its own number).
    public let revision: Int
    public let sealedInvitation: [UInt8]
    public let sealedAnswer: [UInt8]?
    /// Who sent it (pseudonym and role), when the store knows.
    public let pseudonym: String?
    public let role: Role?

    public init(
        interviewID: [UInt8], scope: Scope, state: InterviewState, times: [Int64], chosen: Int64?, invitedAt: Int64, answeredAt: Int64?,
        revision: Int, sealedInvitation: [UInt8], sealedAnswer: [UInt8]?, pseudonym: String? = nil, role: Role? = nil
    ) {
        self.interviewID = interviewID
        self.scope = scope
        self.state = state
        self.times = times
        self.chosen = chosen
        self.invitedAt = invitedAt
        self.answeredAt = answeredAt
        self.revision = revision
        self.sealedInvitation = sealedInvitation
        self.sealedAnswer = sealedAnswer
        self.pseudonym = pseudonym
        self.role = role
    }
}

/// The outcome of a survivor's answer to an invitation.
public enum InterviewWrite: Sendable, Equatable {
    /// Stored, with its audit event.
    case done
    /// The record or the invitation is gone.
    case gone
    /// Another answer was stored first (the revision moved on); nothing was written.
    case stale
    /// The survivor no longer shares the request with the invitation's group; nothing was written.
    case consentGone
}

/// An invitation, opened: what the survivor and the inviting group see.
public struct Interview: Sendable, Equatable {
    /// The id as text (32 lower-case hex digits).
    public let id: String
    public let group: Scope
    public let state: InterviewState
    public let invitation: InterviewInvitation
    /// The latest answer, if any.
    public let answer: InterviewAnswer?
    public let invitedAt: Int64
    public let answeredAt: Int64?
    /// The inviter's pseudonym and role.
    public let pseudonym: String?
    public let role: Role?
    /// The revision the next answer must follow.
    public let revision: Int
}

extension Label {
    static let interview = Array("hearth/v1/interview".utf8)
}

extension Envelope {
    /// Length of an interview id.
    public static let interviewIDByteCount = 16

    /// Which part of an invitation a blob seals.
    enum InterviewPart: UInt8 {
        case invitation = 1
        case answer = 2
    }

    static func interviewAssociatedData(recordID: RecordID, scope: Scope, interviewID: [UInt8], part: InterviewPart, revision: UInt32) -> [UInt8] {
        Label.interview + [formatVersion] + recordID.bytes + [scope.id] + interviewID + [part.rawValue] + revision.bigEndianBytes
    }

    /// Pads and seals one part of an invitation under the conversation key of its group (SECURITY.md
    /// §3.13): `0x01 || nonce || ciphertext || tag`, bound to the record, group, id, part and revision.
    static func sealInterview(
        _ json: [UInt8], part: InterviewPart, revision: UInt32, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope,
        interviewID: [UInt8]
    ) throws -> [UInt8] {
        guard interviewID.count == interviewIDByteCount else { throw CryptoError(.malformedInput, "an interview id must be 16 bytes") }
        let padded = try BucketPadding.pad(SecretBytes(copying: json))
        let box = try padded.withUnsafeBytes { p in
            try XChaCha20Poly1305.seal(
                Array(p), using: key.key,
                authenticating: interviewAssociatedData(recordID: recordID, scope: scope, interviewID: interviewID, part: part, revision: revision))
        }
        return [formatVersion] + box
    }

    /// Opens a part sealed by ``sealInterview(_:part:revision:with:recordID:scope:interviewID:)``.
    static func openInterview(
        _ blob: [UInt8], part: InterviewPart, revision: UInt32, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope,
        interviewID: [UInt8]
    ) throws -> [UInt8] {
        guard blob.first == formatVersion, interviewID.count == interviewIDByteCount else {
            throw CryptoError(.malformedInput, "failed to open interview: unknown format version")
        }
        let padded = try XChaCha20Poly1305.open(
            blob[1...], using: key.key,
            authenticating: interviewAssociatedData(recordID: recordID, scope: scope, interviewID: interviewID, part: part, revision: revision))
        return try BucketPadding.unpad(padded).withUnsafeBytes { Array($0) }
    }
}

extension Interview {
    /// An interview id as text: 32 lower-case hex digits.
    public static func text(of id: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(id.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// The id named by `text`, or nil unless it is 32 lower-case hex digits.
    public static func id(parsing text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count == Envelope.interviewIDByteCount * 2 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        for i in stride(from: 0, to: u.count, by: 2) {
            guard let high = nibble(u[i]), let low = nibble(u[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }
}

extension AuditEvent {
    /// Staff invited the survivor to an interview (the scope names the group; never the content).
    static func interviewInvited(_ staff: StaffIdentity, _ id: RecordID, scope: Scope) -> AuditEvent {
        AuditEvent(
            actor: "staff:\(staff.id)", role: staff.role.rawValue, action: "interview.invite", subject: id.reference, scope: scope.rawValue)
    }

    /// The survivor answered an invitation: the action is in the event's name (`interview.accept`,
    /// `interview.decline`, …); what they wrote or asked for never is.
    public static func interviewAnswered(_ id: RecordID, scope: Scope, action: InterviewAction) -> AuditEvent {
        AuditEvent(actor: "survivor", action: "interview.\(action.rawValue)", subject: id.reference, scope: scope.rawValue)
    }
}
