/// What a member of staff does. Only the four reading roles can ever decrypt, each through its
/// own scope; everyone else sees metadata at most.
public enum Role: String, CaseIterable, Codable, Sendable {
    case caseworker
    case reviewer
    case policeLiaison = "police-liaison"
    case prosecutionLiaison = "prosecution-liaison"
    case supervisor
    case privacyOfficer = "privacy-officer"
    case admin

    /// The consent scope this role reads through, or nil for roles that never decrypt.
    public var readScope: Scope? {
        switch self {
        case .caseworker: .support
        case .reviewer: .review
        case .policeLiaison: .police
        case .prosecutionLiaison: .prosecution
        case .supervisor, .privacyOfficer, .admin: nil
        }
    }

    /// Whether this role sees the case queue (metadata only).
    public var seesQueue: Bool { self == .supervisor || readScope != nil }

    /// A plain name for survivors' access log.
    public var plainName: String {
        switch self {
        case .caseworker: "support caseworker"
        case .reviewer: "review team member"
        case .policeLiaison: "police liaison officer"
        case .prosecutionLiaison: "prosecution witness care officer"
        case .supervisor: "supervisor"
        case .privacyOfficer: "privacy officer"
        case .admin: "administrator"
        }
    }
}

/// A case's workflow status (metadata, set by staff).
public enum CaseStatus: String, CaseIterable, Codable, Sendable {
    case new
    case inProgress = "in-progress"
    case waiting
    case closed
}

/// A member of staff as the access policy sees them.
public struct StaffIdentity: Sendable, Equatable {
    /// Internal id.
    public let id: Int64
    public let username: String
    public let role: Role
    /// What survivors see instead of a name, e.g. `caseworker-7KQ2`.
    public let pseudonym: String

    public init(id: Int64, username: String, role: Role, pseudonym: String) {
        self.id = id
        self.username = username
        self.role = role
        self.pseudonym = pseudonym
    }
}
