// The store contracts, split by who uses them. Each is what one side of Hearth may do to stored
// data, written for a networked database as much as for the embedded SQLite file: every method is
// async, names its transaction, and takes the time from the caller (the injected clock), so no
// store reads a wall clock. No row id, connection or driver type crosses them. Every change that
// is audited appends its audit event (built in Core, see `AuditEvent+Events.swift`) in the same
// transaction; a store throws only for storage failures, never for input it was promised valid.

/// The audit trail: an append-only hash chain with signed checkpoints (SECURITY.md §7).
public protocol AuditStore: Sendable {
    /// Appends one entry to the chain in its own transaction (the chain head is read and extended
    /// atomically, so concurrent appends stay one chain).
    func appendAudit(_ event: AuditEvent, at: Int64) async throws
    /// The last entry's sequence number and hash, or nil for an empty trail. One read.
    func auditHead() async throws -> (seq: Int64, hash: [UInt8])?
    /// Every entry, oldest first (tests and small trails; verification reads pages).
    func auditEntries() async throws -> [AuditEntry]
    /// Up to `limit` entries after entry `seq`, oldest first: one page of the trail. One read.
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    /// Every signed checkpoint, oldest first.
    func auditCheckpoints() async throws -> [AuditCheckpoint]
    /// Up to `limit` signed checkpoints after the one at entry `seq`, oldest first. One read.
    func auditCheckpoints(after seq: Int64, limit: Int) async throws -> [AuditCheckpoint]
    /// The latest signed checkpoint, or nil if none was signed. One read.
    func lastAuditCheckpoint() async throws -> AuditCheckpoint?
    /// Keeps a signed checkpoint; a second one for the same entry is ignored.
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws
}

/// What the intake side may do. Everything after submission is reached through the lookup id
/// that only a survivor's receipt derives (SECURITY.md §3.9): the intake cannot list records,
/// name one by its id, read staff or change assignment. A store may let the database write the
/// survivor's audit events itself (PostgreSQL does, so a compromised intake cannot choose them);
/// they are then exactly the `audit` events given here.
///
/// It also reads the published transparency months (``PublishedMonthsStore``), which it serves
/// as stored and never computes.
public protocol IntakeStore: PublishedMonthsStore {
    /// Stores a new record with its wraps, one `granted` consent event per wrap and the `audit`
    /// events, in one transaction; returns only after that transaction is durably committed
    /// (commits may be grouped; invariant 5).
    func insert(_ record: NewRecord, audit: [AuditEvent], at hour: Int64) async throws
    /// The record whose receipt lookup id is `lookup`, with its bound wraps (``StoredWrap``). One read.
    func record(lookup: [UInt8]) async throws -> StoredRecord?
    /// Adds or replaces the consent wrap for `wrap.scope` and records a `granted` event (the
    /// grant the wrap is bound to) and `audit`, in one transaction. False if the record is gone.
    func putConsent(_ wrap: StoredWrap, lookup: [UInt8], audit: AuditEvent, at hour: Int64) async throws -> Bool
    /// Deletes the wrap for `scope` and records `action` and `audit` in the same transaction
    /// (invariant 2), then scrubs the deleted bytes from any write-ahead log. False if none was live.
    func removeConsent(_ scope: Scope, lookup: [UInt8], action: ConsentEvent.Action, audit: AuditEvent, at hour: Int64) async throws -> Bool
    /// The record's consent history, oldest first.
    func consentHistory(lookup: [UInt8]) async throws -> [ConsentEvent]
    /// Crypto-shreds the record: every wrap, message, access entry and the ciphertext in one
    /// transaction with `audit`, then scrubs the deleted bytes. False if it did not exist.
    func erase(lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// The record's sealed messages of every conversation, each with its scope, oldest first.
    func messages(lookup: [UInt8]) async throws -> [StoredNote]
    /// Appends a message the survivor wrote to the conversation with `scope` and `audit`, in one
    /// transaction. False if the record is gone or holds no bound consent wrap for `scope` live on
    /// the day (UTC) of `at`.
    func addSurvivorMessage(lookup: [UInt8], scope: Scope, noteID: [UInt8], sealed: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// The record's sealed access log (who opened it, with the sealed reason), oldest first.
    func accessLog(lookup: [UInt8]) async throws -> [StoredNote]
    /// Replaces the sealed body (a new verification phrase, sealed afresh under the same DEK)
    /// and appends `audit`, in one transaction, then scrubs the old bytes from any write-ahead
    /// log. False if the record is gone.
    func replaceBody(lookup: [UInt8], body: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// Sets (or with nil clears) the record's pause of all contact and appends `audit`, in one
    /// transaction. False if the record is gone.
    func setPause(_ pause: ContactPause?, lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// The record's invitations to interviews, of every group, oldest first.
    func interviews(lookup: [UInt8]) async throws -> [StoredInterview]
    /// Stores the survivor's answer as revision `revision + 1` (the state `action` leaves, the
    /// accepted time and the sealed copy) with `audit`, in one transaction, only if the invitation
    /// is still at `revision` and the survivor still shares the request with its group on the day
    /// (UTC) of `at`.
    func answerInterview(
        lookup: [UInt8], interviewID: [UInt8], revision: Int, action: InterviewAction, chosen: Int64?, sealed: [UInt8], audit: AuditEvent,
        at: Int64
    ) async throws -> InterviewWrite
}

/// What the retention sweep needs: withdraw expired consents and shred records with none.
public protocol RetentionStore: Sendable {
    /// Deletes every wrap whose expiry day is before `today`, recording an `expired` event and
    /// ``AuditEvent/consentExpired(_:scope:)`` per wrap, in one transaction; returns how many.
    func expireConsents(before today: Day, at hour: Int64) async throws -> Int
    /// Crypto-shreds, like ``IntakeStore/erase(recordID:audit:at:)``, every record that has had
    /// no live consent since `cutoff` or earlier, auditing ``AuditEvent/retentionShred(_:)`` for
    /// each at `at`; returns how many.
    func shredRecords(withoutConsentSince cutoff: Int64, at: Int64) async throws -> Int
}

/// What the casework side may do: staff accounts and sessions, the case queue (metadata),
/// assignment, status, replies, the access log and the audit trail.
public protocol CaseworkStore: AuditStore {
    /// Creates an account; nil if the username or the pseudonym is taken (the caller draws
    /// another pseudonym). `audit` is given the new id.
    func addStaff(
        username: String, role: Role, pseudonym: String, passwordHash: String, sealedTOTPSecret: [UInt8],
        audit: @Sendable (Int64) -> AuditEvent, at: Int64
    ) async throws -> Int64?
    /// The account with this username.
    func staff(username: String) async throws -> StaffRecord?
    /// The account with this id.
    func staff(id: Int64) async throws -> StaffRecord?
    /// Every account, by username.
    func allStaff() async throws -> [StaffRecord]
    /// Counts a failed sign-in against the account (when there is one) and locks it until
    /// `lockUntil` when given, with `audit`, in one transaction.
    func recordLoginFailure(staffID: Int64?, lockUntil: Int64?, audit: AuditEvent, at: Int64) async throws
    /// Accepts a TOTP step only if it is later than the last accepted one and the account is not
    /// disabled (compare-and-set: no replay), then starts the session; false if refused.
    func recordLoginSuccess(staffID: Int64, totpStep: Int64, sessionTokenHash: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool
    /// Sets a new password hash; with `keepingSession`, ends every other session of the account
    /// (a password change), without it ends none (a re-hash at sign-in).
    func setPassword(staffID: Int64, passwordHash: String, mustChange: Bool, keepingSession: [UInt8]?, audit: AuditEvent, at: Int64) async throws
    /// Disables or re-enables an account; disabling ends its sessions.
    func setDisabled(staffID: Int64, disabled: Bool, audit: AuditEvent, at: Int64) async throws
    /// Replaces the password hash and TOTP secret (one-time again) and ends every session.
    func resetCredentials(staffID: Int64, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64) async throws
    /// The session with this token hash.
    func session(tokenHash: [UInt8]) async throws -> StoredSession?
    /// Marks the session used at `at`.
    func touchSession(tokenHash: [UInt8], at: Int64) async throws
    /// Ends a session; `audit` is appended only if it existed.
    func deleteSession(tokenHash: [UInt8], audit: AuditEvent?, at: Int64) async throws
    /// Every case's metadata; live scopes are those not expired on `today`.
    func caseSummaries(today: Day) async throws -> [CaseSummary]
    /// A record with its assignee, for the access policy. One read.
    func caseRecord(id: RecordID) async throws -> (record: StoredRecord, assignee: Int64?)?
    /// Assigns a case, with `audit`; false if there is no such case.
    func assign(recordID: RecordID, to staffID: Int64, audit: AuditEvent, at: Int64) async throws -> Bool
    /// Sets a case's status, with `audit`; false if there is no such case.
    func setStatus(recordID: RecordID, status: CaseStatus, audit: AuditEvent, at: Int64) async throws -> Bool
    /// The sealed messages of the record's conversation with `scope` only, oldest first.
    func messages(recordID: RecordID, scope: Scope) async throws -> [StoredNote]
    /// Appends a staff reply to the conversation with `scope` and `audit` in one transaction,
    /// only if `check` still holds in it.
    func addStaffReply(
        recordID: RecordID, scope: Scope, noteID: [UInt8], sealed: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite
    /// Records an opening (the sealed reason and `audit`) in one transaction, only if `check`
    /// still holds in it: a withdrawal or reassignment committed after the access decision wins.
    func addAccess(
        recordID: RecordID, noteID: [UInt8], role: Role, sealedReason: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite
    /// The record's invitations in the conversation with `scope` only, oldest first.
    func interviews(recordID: RecordID, scope: Scope) async throws -> [StoredInterview]
    /// Stores a new invitation (state `invited`, revision 0, sent by `check.staffID`) and
    /// `audit` in one transaction, only if `check` still holds in it.
    func addInterview(recordID: RecordID, _ interview: StoredInterview, check: GrantCheck, audit: AuditEvent, at: Int64) async throws -> GuardedWrite
}

/// What a casework write that follows an access decision re-checks inside its own transaction
/// (invariant 3): the consent wrap the grant opened is still stored, unchanged and live on `today`,
/// and the case is still assigned to `staffID`.
public struct GrantCheck: Sendable, Equatable {
    /// The member of staff, who must still be the assignee.
    public let staffID: Int64
    /// The wrap the grant opened (scope, key version and bytes must all be unchanged).
    public let wrap: StoredWrap
    /// The day the consent must still be live on.
    public let today: Day
    /// Whether a pause of contact in force on `today` also refuses the write (replies and invitations).
    public let refusesPause: Bool

    /// The check for `grant` on `today`; with `refusesPause`, a survivor's pause refuses it too.
    public init(_ grant: AccessGrant, today: Day, refusesPause: Bool = false) {
        staffID = grant.staff.id
        wrap = grant.wrap
        self.today = today
        self.refusesPause = refusesPause
    }
}

/// The outcome of a write guarded by a ``GrantCheck``.
public enum GuardedWrite: Sendable, Equatable {
    /// Written, with its audit event.
    case done
    /// The record no longer exists; nothing was written.
    case recordGone
    /// The wrap was withdrawn, expired or replaced meanwhile; nothing was written.
    case consentGone
    /// The case was reassigned meanwhile; nothing was written.
    case notAssigned
    /// The survivor paused contact meanwhile (checks that refuse a pause only); nothing was written.
    case contactPaused(ContactPause)
}

/// An opaque position in a store's order of consent wraps, for resuming a re-wrap batch. Only
/// the store that made it reads it.
public struct RewrapCursor: Sendable, Hashable {
    /// The store's own position value.
    public let position: Int64

    /// A cursor at `position` (stores only).
    public init(position: Int64) { self.position = position }
}

/// What the re-wrap job needs beyond ``KeyLifecycleStore``.
public protocol RewrapStore: KeyLifecycleStore {
    /// Up to `limit` wraps of `scope` at `version`, in the store's order, after `cursor`.
    func wrapsToRewrap(scope: Scope, version: UInt32, after cursor: RewrapCursor?, limit: Int) async throws -> [WrapToRewrap]
    /// Replaces each wrap only if it still holds exactly the old version and bytes
    /// (compare-and-set: a wrap withdrawn or replaced meanwhile is left alone), in one
    /// transaction; returns how many were replaced.
    func replaceWraps(_ updates: [RewrappedWrap]) async throws -> Int
}

/// A store that cannot be reached just now (its database is restarting or unreachable): the
/// listeners answer 503 with `Retry-After` instead of a 500, and the request may be tried again.
public protocol StoreUnavailable: Error {}

/// What the operators' figures read from a store (SECURITY.md §11.1): counts, sizes and times,
/// never a reference, lookup id, username or anything sealed. Each is one cheap read; the
/// metrics listener asks at most once per refresh interval, never per request.
public protocol OperationsStore: Sendable {
    /// Staff sessions still live: used at `lastSeenSince` or later and started at `createdSince`
    /// or later (the idle and absolute timeouts, counted back from now).
    func liveStaffSessions(lastSeenSince: Int64, createdSince: Int64) async throws -> Int
    /// The newest signed audit checkpoint's time and sequence number, and the trail's last
    /// sequence number (0 when empty); the checkpoint is nil before the first.
    func checkpointPosition() async throws -> (checkpoint: (at: Int64, seq: Int64)?, head: Int64)
    /// Bytes the database occupies: for SQLite the file, its WAL and its shared memory; for
    /// PostgreSQL the database's size as the server reports it.
    func databaseBytes() async throws -> Int64
}
