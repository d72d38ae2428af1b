import HearthCrypto
import Logging
import Synchronization

/// Password hashing for staff accounts, run off the event loop (HearthCrypto's
/// `PasswordHasher` runs Argon2id on its own bounded thread pool).
public protocol PasswordHashing: Sendable {
    /// Hashes a new password.
    func hash(_ password: String) async throws -> String
    /// Verifies a password against `encoded`, or against a decoy when there is no account (so
    /// unknown usernames take as long as known ones); false without an account.
    func verify(_ password: String, against encoded: String?) async throws -> Bool
    /// Whether `encoded` was made at another cost and should be re-hashed at sign-in.
    func needsRehash(_ encoded: String) -> Bool
}

/// A signed-in member of staff. Only ``StaffService/authenticate(token:)`` makes one.
public struct AuthenticatedStaff: Sendable {
    public let identity: StaffIdentity
    /// While true, the session may only change the password.
    public let mustChangePassword: Bool
    let tokenHash: [UInt8]
}

/// The outcome of a sign-in's password step (``StaffService/checkPassword(username:password:)``):
/// whether the password matched the hash it was checked against, never the password. Made only
/// by the service; its contents are not shown to anyone.
public struct PasswordCheck: Sendable {
    let username: String
    /// The hash the password was checked against (nil: no such account, checked against a decoy).
    let checkedHash: String?
    let passwordOK: Bool
    /// A new hash of the password at today's cost, when the stored one is older.
    let rehash: Task<String?, Never>?
}

/// One-time credentials for a new or reset account, shown once.
public struct NewCredentials: Sendable, Codable, Equatable {
    public let username: String
    public let role: String
    public let password: String
    public let totpSecret: String
    public let otpauthURI: String
}

/// Staff accounts, sign-in with password and TOTP, sessions.
public struct StaffService: Sendable {
    let store: any CaseworkStore
    let keys: CaseworkKeys
    let clock: any WallClock
    let random: any RandomSource
    let hasher: any PasswordHashing
    let logger: Logger
    /// Failure counts for usernames with no account, so they slow down exactly like real ones
    /// and timing does not tell which usernames exist.
    let unknownUserFailures = FailureCounter()

    /// Sessions end after 15 idle minutes or 12 hours in all.
    public static let idleTimeout: Int64 = 15 * 60
    public static let absoluteTimeout: Int64 = 12 * 3600
    /// Failures before sign-in slows down, and before the account locks (for ``lockSeconds``).
    public static let slowAfter = 3
    public static let lockAfter = 10
    public static let lockSeconds: Int64 = 15 * 60

    public init(
        store: any CaseworkStore, keys: CaseworkKeys, clock: any WallClock, random: any RandomSource, hasher: any PasswordHashing, logger: Logger
    ) {
        self.store = store
        self.keys = keys
        self.clock = clock
        self.random = random
        self.hasher = hasher
        self.logger = logger
    }

    /// The one answer for every failed sign-in.
    public static let loginFailed = Problem(
        .unauthorised, code: "login-failed", "those sign-in details were not recognised; check them and try again, or ask an administrator")
    /// The one answer for a missing, expired or unknown session.
    public static let notSignedIn = Problem(.unauthorised, code: "not-signed-in", "please sign in")

    // MARK: Accounts (CLI)

    static func validUsername(_ u: String) -> Bool {
        (3...64).contains(u.count)
            && u.unicodeScalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._-".unicodeScalars.contains($0)
            }
    }

    /// New one-time credentials and the TOTP secret sealed for storage.
    func freshCredentials(username: String, role: Role) throws -> (NewCredentials, [UInt8]) {
        let password = Crockford.encode(try random.bytes(15))  // 120 bits, 24 symbols
        let grouped = stride(from: 0, to: 24, by: 4).map { String(Array(password)[$0..<$0 + 4]) }.joined(separator: "-")
        let secret = try SecretBytes.random(count: TOTP.secretByteCount)
        let base32 = TOTP.base32(secret.unsafeExportedBytes())
        return (
            NewCredentials(
                username: username, role: role.rawValue, password: grouped, totpSecret: base32,
                otpauthURI: TOTP.provisioningURI(secretBase32: base32, account: username)), try keys.sealTOTPSecret(secret, username: username)
        )
    }

    /// Creates an account with a one-time password (changed at first sign-in) and a TOTP secret.
    public func add(username: String, role: Role, actor: String) async throws -> NewCredentials {
        guard Self.validUsername(username) else {
            throw Problem(.badRequest, code: "invalid-value", "a username has 3 to 64 letters, digits, dots, hyphens or underscores")
        }
        let (creds, sealedSecret) = try freshCredentials(username: username, role: role)
        let hash = try await hasher.hash(creds.password)
        for _ in 0..<8 {
            let pseudonym = "\(role.rawValue)-\(Crockford.encode(try random.bytes(3)).prefix(4))"
            if let _ = try await store.addStaff(
                username: username, role: role, pseudonym: pseudonym, passwordHash: hash,
                sealedTOTPSecret: sealedSecret,
                audit: { id in AuditEvent(actor: actor, action: "staff.add", subject: "staff:\(id)", scope: role.rawValue) },
                at: clock.unixSeconds())
            {
                return creds
            }
            if try await store.staff(username: username) != nil {
                throw Problem(.conflict, code: "duplicate-value", "there is already an account called '\(username)'")
            }
        }
        throw Problem(.conflict, code: "duplicate-value", "could not find an unused pseudonym; try again")
    }

    /// Issues a new one-time password and TOTP secret and ends the account's sessions.
    public func reset(username: String, actor: String) async throws -> NewCredentials {
        guard let staff = try await store.staff(username: username) else {
            throw Problem(.notFound, code: "not-found", "there is no account called '\(username)'")
        }
        let (creds, sealedSecret) = try freshCredentials(username: username, role: staff.identity.role)
        try await store.resetCredentials(
            staffID: staff.identity.id, passwordHash: try await hasher.hash(creds.password),
            sealedTOTPSecret: sealedSecret,
            audit: AuditEvent(actor: actor, action: "staff.reset", subject: "staff:\(staff.identity.id)"), at: clock.unixSeconds())
        return creds
    }

    /// Disables an account and ends its sessions at once.
    public func disable(username: String, actor: String) async throws {
        guard let staff = try await store.staff(username: username) else {
            throw Problem(.notFound, code: "not-found", "there is no account called '\(username)'")
        }
        try await store.setDisabled(
            staffID: staff.identity.id, disabled: true,
            audit: AuditEvent(actor: actor, action: "staff.disable", subject: "staff:\(staff.identity.id)"),
            at: clock.unixSeconds())
    }

    // MARK: Sign-in and sessions

    /// Signs in with username, password and a TOTP code. Unknown user, wrong password, wrong or
    /// replayed code, disabled or locked account: all get ``loginFailed`` after the same work.
    public func login(username: String, password: String, totp: String) async throws -> (token: String, mustChangePassword: Bool) {
        try await login(try await checkPassword(username: username, password: password), totp: totp)
    }

    /// The first of two sign-in steps (the staff pages): checks the password against its hash at
    /// once and keeps only the outcome, so nothing holds the password while the code is typed.
    /// Its answer tells nothing: ``login(_:totp:)`` decides, with the code, and counts a failure.
    public func checkPassword(username: String, password: String) async throws -> PasswordCheck {
        let staff = try await store.staff(username: username)
        let passwordOK = try await hasher.verify(password, against: staff?.passwordHash)
        // The cost has risen since this hash was made: hash again while the password is at hand,
        // kept only if the sign-in succeeds. Not awaited here, so this step takes as long whether
        // or not the password was right.
        var rehash: Task<String?, Never>?
        if passwordOK, let staff, hasher.needsRehash(staff.passwordHash) {
            let hasher = hasher
            rehash = Task { try? await hasher.hash(password) }
        }
        return PasswordCheck(username: username, checkedHash: staff?.passwordHash, passwordOK: passwordOK, rehash: rehash)
    }

    /// The second sign-in step: the code, and everything else about the account as it is now.
    /// A password checked against a hash that has since changed (a reset) fails.
    public func login(_ check: PasswordCheck, totp: String) async throws -> (token: String, mustChangePassword: Bool) {
        let now = clock.unixSeconds()
        let staff = try await store.staff(username: check.username)
        let passwordOK = check.passwordOK && staff != nil && staff?.passwordHash == check.checkedHash
        var step: UInt64?
        if let staff, let secret = try? keys.openTOTPSecret(staff.sealedTOTPSecret, username: staff.identity.username) {
            step = TOTP.matchingStep(totp, secret: secret, at: now)
        }
        if let staff, passwordOK, let step, Int64(step) > staff.totpLastStep, !staff.disabled, staff.lockedUntil <= now {
            let token = try random.bytes(32)
            let accepted = try await store.recordLoginSuccess(
                staffID: staff.identity.id, totpStep: Int64(step), sessionTokenHash: try keys.sessionTokenHash(token),
                audit: AuditEvent(actor: "staff:\(staff.identity.id)", role: staff.identity.role.rawValue, action: "session.login"), at: now)
            if accepted {
                if let rehash = await check.rehash?.value {
                    try await store.setPassword(
                        staffID: staff.identity.id, passwordHash: rehash, mustChange: staff.mustChangePassword, keepingSession: nil,
                        audit: AuditEvent(actor: "staff:\(staff.identity.id)", role: staff.identity.role.rawValue, action: "staff.rehash"), at: now)
                }
                return (Base64URL.encode(token), staff.mustChangePassword)
            }
        }
        let failures = staff.map { $0.failedLogins + 1 } ?? unknownUserFailures.record(check.username)
        try await store.recordLoginFailure(
            // A lock runs its course from when it was set; failures while locked do not extend it.
            staffID: staff?.identity.id, lockUntil: failures >= Self.lockAfter && (staff?.lockedUntil ?? 0) <= now ? now + Self.lockSeconds : nil,
            audit: AuditEvent(
                actor: staff.map { "staff:\($0.identity.id)" } ?? "unknown", role: staff?.identity.role.rawValue ?? "", action: "session.login",
                outcome: "failed"), at: now)
        logger.notice("sign-in failed", metadata: ["staff.id": "\(staff.map { "\($0.identity.id)" } ?? "unknown")"])
        if failures > Self.slowAfter {
            try? await Task.sleep(for: .milliseconds(min(5_000, 250 * (failures - Self.slowAfter))))
        }
        throw Self.loginFailed
    }

    /// Checks a session token (bearer header or cookie); ends sessions past their timeouts.
    public func authenticate(token: String?) async throws -> AuthenticatedStaff {
        guard let token, token.utf8.count <= 64, let raw = Base64URL.decode(token), raw.count == 32 else { throw Self.notSignedIn }
        let hash = try keys.sessionTokenHash(raw)
        let now = clock.unixSeconds()
        guard let session = try await store.session(tokenHash: hash) else { throw Self.notSignedIn }
        guard now - session.lastSeen <= Self.idleTimeout, now - session.created <= Self.absoluteTimeout else {
            try await store.deleteSession(tokenHash: hash, audit: nil, at: now)
            throw Self.notSignedIn
        }
        guard let staff = try await store.staff(id: session.staffID), !staff.disabled else {
            try await store.deleteSession(tokenHash: hash, audit: nil, at: now)
            throw Self.notSignedIn
        }
        if now - session.lastSeen >= 30 { try await store.touchSession(tokenHash: hash, at: now) }
        return AuthenticatedStaff(identity: staff.identity, mustChangePassword: staff.mustChangePassword, tokenHash: hash)
    }

    /// Changes the password (the only thing a session may do while a change is required).
    public func changePassword(_ session: AuthenticatedStaff, current: String, new: String) async throws {
        guard (12...128).contains(new.count) else {
            throw Problem(.badRequest, code: "invalid-value", "the new password needs 12 to 128 characters")
        }
        guard new != current else { throw Problem(.badRequest, code: "invalid-value", "the new password must differ from the current one") }
        guard let staff = try await store.staff(id: session.identity.id) else { throw Self.notSignedIn }
        guard try await hasher.verify(current, against: staff.passwordHash) else {
            // A wrong current password counts like a failed sign-in, so a stolen session cannot be
            // used to guess the password; at the lock-out the session ends too.
            let now = clock.unixSeconds()
            let locks = staff.failedLogins + 1 >= Self.lockAfter && staff.lockedUntil <= now
            try await store.recordLoginFailure(
                staffID: staff.identity.id, lockUntil: locks ? now + Self.lockSeconds : nil,
                audit: AuditEvent(
                    actor: "staff:\(staff.identity.id)", role: staff.identity.role.rawValue, action: "staff.password", outcome: "failed"),
                at: now)
            if locks {
                try await store.deleteSession(tokenHash: session.tokenHash, audit: nil, at: now)
                throw Self.notSignedIn
            }
            throw Problem(.badRequest, code: "invalid-value", "the current password is not right")
        }
        try await store.setPassword(
            staffID: staff.identity.id, passwordHash: try await hasher.hash(new), mustChange: false, keepingSession: session.tokenHash,
            audit: AuditEvent(actor: "staff:\(staff.identity.id)", role: staff.identity.role.rawValue, action: "staff.password"),
            at: clock.unixSeconds())
    }

    /// Ends a session.
    public func logout(_ session: AuthenticatedStaff) async throws {
        try await store.deleteSession(
            tokenHash: session.tokenHash,
            audit: AuditEvent(actor: "staff:\(session.identity.id)", role: session.identity.role.rawValue, action: "session.logout"),
            at: clock.unixSeconds())
    }
}

/// Counts failures per unknown username in memory, mirroring the counts real accounts keep in
/// the database, so that unknown usernames slow down exactly like real ones.
///
/// A fixed table of counters indexed by a keyed hash of the username: nothing is ever cleared or
/// evicted, so no flood of made-up usernames can reset a count and let timing tell which
/// usernames exist (as clearing a full table did). Two names that share a counter only both slow
/// down sooner. Counts reset when the process restarts, as the limiter's do.
final class FailureCounter: Sendable {
    static let buckets = 1 << 16
    private let counts = Mutex<[UInt16]>(Array(repeating: 0, count: FailureCounter.buckets))
    private let key: SecretBytes

    init() {
        key = (try? SecretBytes.random(count: 32)) ?? SecretBytes(zeroedCount: 32)
    }

    /// Records one more failure for `name` and returns the count.
    func record(_ name: String) -> Int {
        let h = (try? Blake2b.hash(Array(name.utf8), key: key, outputByteCount: 16)) ?? [0, 0]
        let bucket = Int(h[0]) << 8 | Int(h[1])
        return counts.withLock { c in
            if c[bucket] < UInt16.max { c[bucket] += 1 }
            return Int(c[bucket])
        }
    }
}

/// HearthCrypto's Argon2id pool is the password hashing staff accounts use.
extension PasswordHasher: PasswordHashing {}
