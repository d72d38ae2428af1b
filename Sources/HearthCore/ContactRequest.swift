/// How a survivor may be reached.
public enum ContactMethodKind: String, CaseIterable, Codable, Sendable {
    case phone, email, post, organisation
}

/// What a survivor wants from coming forward.
public enum Want: String, CaseIterable, Codable, Sendable {
    case support, reopen, information
}

/// One way to reach a survivor safely.
public struct ContactMethod: Codable, Sendable, Equatable {
    /// Phone, email, post, or through an organisation.
    public var method: ContactMethodKind
    /// The number, address or organisation.
    public var value: String
    /// When it is safe to use, in the survivor's words.
    public var safeTimes: String?
    /// Whether a message may be left.
    public var mayLeaveMessage: Bool?

    /// Creates a contact method.
    public init(method: ContactMethodKind, value: String, safeTimes: String? = nil, mayLeaveMessage: Bool? = nil) {
        self.method = method
        self.value = value
        self.safeTimes = safeTimes
        self.mayLeaveMessage = mayLeaveMessage
    }
}

/// What a survivor wrote: sealed as the record body, never stored in clear.
public struct ContactRequest: Codable, Sendable, Equatable {
    /// The name to use, if given.
    public var preferredName: String?
    /// One to four ways to make contact.
    public var contact: [ContactMethod]
    /// Coarse region, from a fixed list.
    public var region: Region?
    /// What the survivor wants.
    public var wants: [Want]
    /// The survivor's account, if they chose to write one.
    public var account: String?
    /// A short phrase staff say at the start of any call or message, so the survivor knows the
    /// contact is really from the programme (sealed in the body like everything else).
    public var verificationPhrase: String?

    /// Creates a request.
    public init(
        preferredName: String? = nil, contact: [ContactMethod], region: Region? = nil, wants: [Want], account: String? = nil,
        verificationPhrase: String? = nil
    ) {
        self.preferredName = preferredName
        self.contact = contact
        self.region = region
        self.wants = wants
        self.account = account
        self.verificationPhrase = verificationPhrase
    }
}

/// Consent for one scope, optionally until the end of a day (UTC).
public struct ConsentChoice: Sendable, Equatable {
    /// The purpose agreed to.
    public var scope: Scope
    /// The last day it is live, if it ends.
    public var expires: Day?

    /// Creates a choice.
    public init(scope: Scope, expires: Day? = nil) {
        self.scope = scope
        self.expires = expires
    }
}

/// A validated submission: the request to seal plus the consents given with it.
public struct Submission: Sendable, Equatable {
    /// What the survivor wrote.
    public var request: ContactRequest
    /// Scopes agreed to, none assumed.
    public var consents: [ConsentChoice]
}

/// Field limits, shared with the OpenAPI document and the pages. Every text limit is in characters
/// as the survivor sees them, counted as Unicode scalars by ``FieldRules/length(_:)``, never in bytes,
/// so no script has less room than another.
public enum Limits {
    public static let preferredName = 100
    public static let contactValue = 200
    public static let safeTimes = 300
    public static let account = 16_000
    public static let contacts = 1...4
    /// Longest consent expiry from today, in days (ten years).
    public static let consentHorizonDays = 3_653
    /// Longest message in a case thread, in characters.
    public static let message = 5_000
    /// Longest stated reason for opening a case.
    public static let reason = 500
    /// Shortest and longest verification phrase, in characters.
    public static let verificationPhrase = 3...60
    /// The most characters one request's texts hold together: the name, every contact's value and
    /// safe times, the account and the phrase. The submission routes' body limit and the sealed
    /// body's largest padding bucket are sized from it (SECURITY.md §3.6, §11.3).
    public static let submissionCharacters =
        preferredName + contacts.upperBound * (contactValue + safeTimes) + account + verificationPhrase.upperBound
}

/// The verification phrase's one rule, for submission and for a change: 3 to 60 characters on
/// one line (a tab allowed), not only white space, kept exactly as written.
public enum VerificationPhrase {
    /// The phrase, or nil when none was given; a phrase outside the rule is refused.
    public static func validate(_ value: String?, name: String = "verificationPhrase") throws(Problem) -> String? {
        guard let phrase = try FieldRules.text(value, name: name, maxLength: Limits.verificationPhrase.upperBound) else { return nil }
        guard FieldRules.length(phrase) >= Limits.verificationPhrase.lowerBound else {
            throw Problem(
                .badRequest, code: "field-too-short",
                "'\(name)' must be at least \(Limits.verificationPhrase.lowerBound) characters, so that it is hard to guess")
        }
        return phrase
    }
}

/// One way to reach the survivor as sent, before any check: what a JSON body or a form holds.
public struct ContactMethodDraft: Sendable, Equatable {
    public var method: String?
    public var value: String?
    public var safeTimes: String?
    public var mayLeaveMessage: Bool?

    /// A draft with these raw answers.
    public init(method: String? = nil, value: String? = nil, safeTimes: String? = nil, mayLeaveMessage: Bool? = nil) {
        self.method = method
        self.value = value
        self.safeTimes = safeTimes
        self.mayLeaveMessage = mayLeaveMessage
    }
}

/// A consent as sent, before any check.
public struct ConsentDraft: Sendable, Equatable {
    public var scope: String?
    public var expires: String?

    /// A draft with these raw answers.
    public init(scope: String? = nil, expires: String? = nil) {
        self.scope = scope
        self.expires = expires
    }
}

/// A submission as sent, before any check. The API reads one from JSON and the pages from a
/// form; ``Submission/validate(_:today:)`` decides for both. A nil list means the field was left out.
public struct SubmissionDraft: Sendable, Equatable {
    public var preferredName: String?
    public var contact: [ContactMethodDraft]?
    public var region: String?
    public var wants: [String]?
    public var account: String?
    public var verificationPhrase: String?
    public var consents: [ConsentDraft]?

    /// A draft with these raw answers.
    public init(
        preferredName: String? = nil, contact: [ContactMethodDraft]? = nil, region: String? = nil, wants: [String]? = nil,
        account: String? = nil, verificationPhrase: String? = nil, consents: [ConsentDraft]? = nil
    ) {
        self.verificationPhrase = verificationPhrase
        self.preferredName = preferredName
        self.contact = contact
        self.region = region
        self.wants = wants
        self.account = account
        self.consents = consents
    }
}

extension Submission {
    /// Checks a draft against the public contract; `today` bounds expiry dates. The first problem
    /// in field order is thrown, named as the API names fields (`contact[0].value`).
    public static func validate(_ draft: SubmissionDraft, today: Day) throws(Problem) -> Submission {
        let preferredName = try FieldRules.text(draft.preferredName, name: "preferredName", maxLength: Limits.preferredName)
        guard let contactDrafts = draft.contact else { throw FieldRules.missing("contact") }
        try FieldRules.count(contactDrafts.count, name: "contact", within: Limits.contacts)
        var contacts: [ContactMethod] = []
        for (i, c) in contactDrafts.enumerated() {
            let name = "contact[\(i)]"
            guard let method = try FieldRules.choice(c.method, name: "\(name).method", of: ContactMethodKind.self) else {
                throw FieldRules.missing("\(name).method")
            }
            let value = try FieldRules.requiredText(c.value, name: "\(name).value", maxLength: Limits.contactValue, multiline: method == .post)
            try check(value, as: method, name: "\(name).value")
            contacts.append(
                ContactMethod(
                    method: method, value: value,
                    safeTimes: try FieldRules.text(c.safeTimes, name: "\(name).safeTimes", maxLength: Limits.safeTimes, multiline: true),
                    mayLeaveMessage: c.mayLeaveMessage))
        }
        let region = try FieldRules.choice(draft.region, name: "region", of: Region.self)
        guard let wantDrafts = draft.wants else { throw FieldRules.missing("wants") }
        try FieldRules.count(wantDrafts.count, name: "wants", within: 1...Want.allCases.count)
        var wants: [Want] = []
        for (i, raw) in wantDrafts.enumerated() {
            let w = try FieldRules.choice(raw, name: "wants[\(i)]", of: Want.self)!
            guard !wants.contains(w) else {
                throw Problem(.badRequest, code: "duplicate-value", "'wants' lists '\(w.rawValue)' more than once")
            }
            wants.append(w)
        }
        let account = try FieldRules.text(draft.account, name: "account", maxLength: Limits.account, multiline: true)
        let phrase = try VerificationPhrase.validate(draft.verificationPhrase)
        guard let consentDrafts = draft.consents else {
            throw Problem(.badRequest, code: "missing-field", "'consents' is required; send an empty list to agree to nothing for now")
        }
        try FieldRules.count(consentDrafts.count, name: "consents", within: 0...Scope.allCases.count)
        var consents: [ConsentChoice] = []
        for (i, item) in consentDrafts.enumerated() {
            let c = try ConsentChoice.validate(item, path: "consents[\(i)]", today: today)
            guard !consents.contains(where: { $0.scope == c.scope }) else {
                throw Problem(.badRequest, code: "duplicate-value", "'consents' lists '\(c.scope.rawValue)' more than once")
            }
            consents.append(c)
        }
        return Submission(
            request: ContactRequest(
                preferredName: preferredName, contact: contacts, region: region, wants: wants, account: account, verificationPhrase: phrase),
            consents: consents)
    }

    static func check(_ value: String, as method: ContactMethodKind, name: String) throws(Problem) {
        switch method {
        // Scalar by scalar, not by grapheme (`"@\u{301}"` is one Swift Character but still holds an
        // "@"), so the rules are exactly the patterns openapi.json states for `Contact.value`.
        case .email:
            let parts = value.unicodeScalars.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !value.unicodeScalars.contains(" ") else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name)' does not look like an email address, like name@example.org")
            }
        case .phone:
            // ASCII digits only: `Character.isNumber` also takes "½", "Ⅻ" and other scripts' digits.
            let digits = value.unicodeScalars.filter { ("0"..."9").contains($0) }.count
            guard digits >= 6, value.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || " +()-.".unicodeScalars.contains($0) }) else {
                throw Problem(
                    .badRequest, code: "invalid-value",
                    "'\(name)' does not look like a phone number; use digits, spaces and + ( ) - only")
            }
        case .post, .organisation:
            break
        }
    }
}

extension ConsentChoice {
    /// Checks `{scope, expires?}`; an expiry must lie between today and ten years ahead. `path`
    /// names the consent in messages (`consents[1]`), empty for a lone consent.
    public static func validate(_ draft: ConsentDraft, path: String = "", today: Day) throws(Problem) -> ConsentChoice {
        func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        guard let scope = try FieldRules.choice(draft.scope, name: name("scope"), of: Scope.self) else { throw FieldRules.missing(name("scope")) }
        var expires: Day?
        if let text = try FieldRules.text(draft.expires, name: name("expires"), maxLength: 10) {
            guard let day = Day(iso: text) else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name("expires"))' must be a date written YYYY-MM-DD")
            }
            guard day >= today, day <= today.adding(days: Limits.consentHorizonDays) else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name("expires"))' must be between today (\(today)) and ten years from now")
            }
            expires = day
        }
        return ConsentChoice(scope: scope, expires: expires)
    }
}
