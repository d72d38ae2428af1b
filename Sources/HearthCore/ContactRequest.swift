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

    /// Creates a request.
    public init(preferredName: String? = nil, contact: [ContactMethod], region: Region? = nil, wants: [Want], account: String? = nil) {
        self.preferredName = preferredName
        self.contact = contact
        self.region = region
        self.wants = wants
        self.account = account
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

/// Field limits, shared with the OpenAPI document and the pages.
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
    /// Largest request body in bytes.
    public static let bodyBytes = 64 * 1024
}

extension Submission {
    /// Validates a decoded JSON body against the public contract; `today` bounds expiry dates.
    public static func validate(_ json: JSONValue, today: Day) throws(Problem) -> Submission {
        let top = try FieldReader(json, allowed: ["preferredName", "contact", "region", "wants", "account", "consents"])
        let preferredName = try top.text("preferredName", maxLength: Limits.preferredName)
        var contacts: [ContactMethod] = []
        for (name, item) in try top.requiredList("contact", count: Limits.contacts) {
            let f = try FieldReader(item, path: name, allowed: ["method", "value", "safeTimes", "mayLeaveMessage"])
            guard let method = try f.choice("method", of: ContactMethodKind.self) else {
                throw Problem(.badRequest, code: "missing-field", "'\(name).method' is required")
            }
            let value = try f.requiredText("value", maxLength: Limits.contactValue, multiline: method == .post)
            try check(value, as: method, name: "\(name).value")
            contacts.append(
                ContactMethod(
                    method: method, value: value,
                    safeTimes: try f.text("safeTimes", maxLength: Limits.safeTimes, multiline: true),
                    mayLeaveMessage: try f.bool("mayLeaveMessage")))
        }
        let region = try top.choice("region", of: Region.self)
        var wants: [Want] = []
        for (name, item) in try top.requiredList("wants", count: 1...Want.allCases.count) {
            let w = try FieldReader.choice(item, name: name, of: Want.self)
            guard !wants.contains(w) else {
                throw Problem(.badRequest, code: "duplicate-value", "'wants' lists '\(w.rawValue)' more than once")
            }
            wants.append(w)
        }
        let account = try top.text("account", maxLength: Limits.account, multiline: true)
        guard top.value("consents") != nil else {
            throw Problem(
                .badRequest, code: "missing-field",
                "'consents' is required; send an empty list to agree to nothing for now")
        }
        var consents: [ConsentChoice] = []
        for (name, item) in try top.list("consents", count: 0...Scope.allCases.count) ?? [] {
            let c = try ConsentChoice.validate(item, path: name, today: today)
            guard !consents.contains(where: { $0.scope == c.scope }) else {
                throw Problem(.badRequest, code: "duplicate-value", "'consents' lists '\(c.scope.rawValue)' more than once")
            }
            consents.append(c)
        }
        return Submission(
            request: ContactRequest(preferredName: preferredName, contact: contacts, region: region, wants: wants, account: account),
            consents: consents)
    }

    static func check(_ value: String, as method: ContactMethodKind, name: String) throws(Problem) {
        switch method {
        case .email:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !value.contains(" ") else {
                throw Problem(.badRequest, code: "invalid-value", "'\(name)' does not look like an email address, like name@example.org")
            }
        case .phone:
            let digits = value.filter(\.isNumber).count
            guard digits >= 6, value.allSatisfy({ $0.isNumber || " +()-.".contains($0) }) else {
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
    /// Validates `{"scope", "expires"?}`; an expiry must lie between today and ten years ahead.
    public static func validate(_ json: JSONValue, path: String = "", today: Day) throws(Problem) -> ConsentChoice {
        let f = try FieldReader(json, path: path, allowed: ["scope", "expires"])
        guard let scope = try f.choice("scope", of: Scope.self) else {
            throw Problem(.badRequest, code: "missing-field", "'\(f.name("scope"))' is required")
        }
        var expires: Day?
        if let text = try f.text("expires", maxLength: 10) {
            guard let day = Day(iso: text) else {
                throw Problem(.badRequest, code: "invalid-value", "'\(f.name("expires"))' must be a date written YYYY-MM-DD")
            }
            guard day >= today, day <= today.adding(days: Limits.consentHorizonDays) else {
                throw Problem(
                    .badRequest, code: "invalid-value",
                    "'\(f.name("expires"))' must be between today (\(today)) and ten years from now")
            }
            expires = day
        }
        return ConsentChoice(scope: scope, expires: expires)
    }
}
