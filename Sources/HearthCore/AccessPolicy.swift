/// Why access was refused; each has a stable code for the API.
public struct AccessDenial: Error, Sendable, Equatable {
    /// `role-cannot-read`, `no-consent`, `not-assigned` or `key-retired`.
    public let code: String
    /// A plain explanation for staff.
    public let message: String

    /// Creates a denial.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The role never decrypts.
    public static let roleCannotRead = AccessDenial(
        code: "role-cannot-read", message: "your role cannot read survivors' records")
    /// No live consent for the role's scope.
    public static let noConsent = AccessDenial(
        code: "no-consent", message: "the survivor has not agreed (or no longer agrees) to your team reading this record")
    /// The consent wrap is sealed to a key version that has been retired (its private key
    /// destroyed): only a copy restored from a backup older than the retirement holds one.
    public static let keyRetired = AccessDenial(
        code: "key-retired",
        message:
            "this record's consent for your team is sealed to a key version that has been retired, so it can no longer be opened (this copy was restored from a backup older than the retirement)"
    )
    /// Not assigned to the caller.
    public static let notAssigned = AccessDenial(
        code: "not-assigned", message: "this case is not assigned to you; ask a supervisor")
}

/// Permission to decrypt one record through one scope. Only ``AccessPolicy/decide(staff:record:today:)``
/// makes one, so holding a grant proves every check passed.
public struct AccessGrant: Sendable {
    /// Who may decrypt.
    public let staff: StaffIdentity
    /// Which record.
    public let recordID: RecordID
    /// The live consent wrap the grant opens; its scope is the role's.
    public let wrap: StoredWrap

    /// The scope the grant reads through.
    public var scope: Scope { wrap.scope }

    fileprivate init(staff: StaffIdentity, recordID: RecordID, wrap: StoredWrap) {
        self.staff = staff
        self.recordID = recordID
        self.wrap = wrap
    }
}

/// The casework access rule (invariant 3): a role that reads through a scope, a live consent wrap
/// for that scope on the record, and assignment to the caller. Everything else is denied.
public enum AccessPolicy {
    /// Decides; the session and the stated reason are checked by the caller before this.
    public static func decide(staff: StaffIdentity, record: StoredRecord, assignee: Int64?, today: Day) -> Result<AccessGrant, AccessDenial> {
        guard let scope = staff.role.readScope else { return .failure(.roleCannotRead) }
        guard let wrap = record.wraps.first(where: { $0.scope == scope && $0.isLive(on: today) }) else {
            return .failure(.noConsent)
        }
        guard assignee == staff.id else { return .failure(.notAssigned) }
        return .success(AccessGrant(staff: staff, recordID: record.id, wrap: wrap))
    }
}
