/// A member of staff as stored: credentials are a password hash and a sealed TOTP secret.
public struct StaffRecord: Sendable, Equatable {
    public let identity: StaffIdentity
    public let passwordHash: String
    public let sealedTOTPSecret: [UInt8]
    public let totpLastStep: Int64
    public let mustChangePassword: Bool
    public let disabled: Bool
    public let failedLogins: Int
    public let lockedUntil: Int64

    public init(
        identity: StaffIdentity, passwordHash: String, sealedTOTPSecret: [UInt8], totpLastStep: Int64, mustChangePassword: Bool,
        disabled: Bool, failedLogins: Int, lockedUntil: Int64
    ) {
        self.identity = identity
        self.passwordHash = passwordHash
        self.sealedTOTPSecret = sealedTOTPSecret
        self.totpLastStep = totpLastStep
        self.mustChangePassword = mustChangePassword
        self.disabled = disabled
        self.failedLogins = failedLogins
        self.lockedUntil = lockedUntil
    }
}

/// A staff session as stored (the token itself is never stored, only its hash).
public struct StoredSession: Sendable, Equatable {
    public let staffID: Int64
    public let created: Int64
    public let lastSeen: Int64

    public init(staffID: Int64, created: Int64, lastSeen: Int64) {
        self.staffID = staffID
        self.created = created
        self.lastSeen = lastSeen
    }
}

/// One line of the case queue: metadata only.
public struct CaseSummary: Sendable, Equatable {
    public let reference: String
    public let createdHour: Int64
    public let region: Region?
    public let status: CaseStatus
    /// Scopes with a live consent wrap today.
    public let liveScopes: [Scope]
    /// The assignee's username, if any.
    public let assignee: String?
    public let assigneeID: Int64?
    /// The survivor's pause of all contact, when it holds on the day the queue was read.
    public let pause: ContactPause?

    public init(
        reference: String, createdHour: Int64, region: Region?, status: CaseStatus, liveScopes: [Scope], assignee: String?, assigneeID: Int64?,
        pause: ContactPause? = nil
    ) {
        self.pause = pause
        self.reference = reference
        self.createdHour = createdHour
        self.region = region
        self.status = status
        self.liveScopes = liveScopes
        self.assignee = assignee
        self.assigneeID = assigneeID
    }
}

/// A sealed note (message or access reason) as stored.
public struct StoredNote: Sendable, Equatable {
    public let noteID: [UInt8]
    /// `survivor` or `staff` for messages; the staff role for access entries.
    public let author: String
    /// The staff pseudonym, for staff messages and access entries.
    public let pseudonym: String?
    public let role: Role?
    /// Unix seconds (to the minute).
    public let at: Int64
    public let sealed: [UInt8]
    /// The group whose conversation a message belongs to; nil for access entries.
    public let scope: Scope?

    public init(noteID: [UInt8], author: String, pseudonym: String?, role: Role?, at: Int64, sealed: [UInt8], scope: Scope? = nil) {
        self.scope = scope
        self.noteID = noteID
        self.author = author
        self.pseudonym = pseudonym
        self.role = role
        self.at = at
        self.sealed = sealed
    }
}
