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
    public let status: String
    /// Scopes with a live consent wrap today.
    public let liveScopes: [Scope]
    /// The assignee's username, if any.
    public let assignee: String?
    public let assigneeID: Int64?

    public init(reference: String, createdHour: Int64, region: Region?, status: String, liveScopes: [Scope], assignee: String?, assigneeID: Int64?) {
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

    public init(noteID: [UInt8], author: String, pseudonym: String?, role: Role?, at: Int64, sealed: [UInt8]) {
        self.noteID = noteID
        self.author = author
        self.pseudonym = pseudonym
        self.role = role
        self.at = at
        self.sealed = sealed
    }
}

/// Persistence for casework: staff, sessions, cases, messages, the access log and the audit trail.
/// Every method that changes something appends its audit event in the same transaction.
public protocol CaseworkStore: RecordStore {
    func addStaff(
        username: String, role: Role, pseudonym: String, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64
    ) async throws -> Int64?
    func staff(username: String) async throws -> StaffRecord?
    func staff(id: Int64) async throws -> StaffRecord?
    func allStaff() async throws -> [StaffRecord]
    /// Records a failed sign-in; locks until `lockUntil` when given.
    func recordLoginFailure(staffID: Int64?, lockUntil: Int64?, audit: AuditEvent, at: Int64) async throws
    /// Accepts a TOTP step only if it is later than the last accepted one (compare-and-set: no replay).
    func recordLoginSuccess(staffID: Int64, totpStep: Int64, sessionTokenHash: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// Sets a new password hash; ends every other session of the account (all but `keepingSession`).
    func setPassword(staffID: Int64, passwordHash: String, mustChange: Bool, keepingSession: [UInt8]?, audit: AuditEvent, at: Int64) async throws
    func setDisabled(staffID: Int64, disabled: Bool, audit: AuditEvent, at: Int64) async throws
    func resetCredentials(staffID: Int64, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64) async throws

    func session(tokenHash: [UInt8]) async throws -> StoredSession?
    func touchSession(tokenHash: [UInt8], at: Int64) async throws
    func deleteSession(tokenHash: [UInt8], audit: AuditEvent?, at: Int64) async throws

    /// Every case's metadata; live scopes are those not expired on `today`.
    func caseSummaries(today: Day) async throws -> [CaseSummary]
    func caseRecord(id: RecordID) async throws -> (record: StoredRecord, assignee: Int64?)?
    func assign(recordID: RecordID, to staffID: Int64, audit: AuditEvent, at: Int64) async throws -> Bool
    func setStatus(recordID: RecordID, status: CaseStatus, audit: AuditEvent, at: Int64) async throws -> Bool
    func addMessage(
        recordID: RecordID, noteID: [UInt8], fromSurvivor: Bool, staffID: Int64?, sealed: [UInt8], audit: AuditEvent, at: Int64
    ) async throws -> Bool
    func messages(recordID: RecordID) async throws -> [StoredNote]
    func addAccess(
        recordID: RecordID, noteID: [UInt8], staffID: Int64, role: Role, sealedReason: [UInt8], audit: AuditEvent, at: Int64
    ) async throws -> Bool
    func accessLog(recordID: RecordID) async throws -> [StoredNote]

    func appendAudit(_ event: AuditEvent, at: Int64) async throws
    func auditEntries() async throws -> [AuditEntry]
    func auditCheckpoints() async throws -> [AuditCheckpoint]
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws
}
