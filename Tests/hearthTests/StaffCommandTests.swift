import Foundation
import GRDB
import HearthTestSupport
import Testing

/// A fresh key set and data directory for `hearth staff` and `hearth audit`, run as the real
/// executable. Every command gets `--keys` and `--data` explicitly.
struct MaintenanceFixture {
    let work: TemporaryDirectory
    let keys: String
    let data: String

    static func make() async throws -> MaintenanceFixture {
        let work = try TemporaryDirectory()
        return MaintenanceFixture(work: work, keys: try await makeKeySet(in: work), data: work.file("data"))
    }

    /// The SQLite file inside a data directory (by default this fixture's).
    func database(in data: String? = nil) -> String { "\(data ?? self.data)/hearth.sqlite" }

    /// `hearth <command…> --keys K --data D` (with `data` in place of D when given).
    func run(_ command: [String], data: String? = nil) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(command + ["--keys", keys, "--data", data ?? self.data], in: work.path)
    }

    /// `hearth staff add --json`; fails the test unless it succeeds and prints credentials.
    func addStaff(
        _ username: String, role: String = "caseworker", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws
        -> IssuedCredentials
    {
        let outcome = try await run(["staff", "add", "--username", username, "--role", role, "--json"])
        try #require(outcome.succeeded, "\(outcome)", sourceLocation: sourceLocation)
        return try IssuedCredentials.decode(outcome.stdout)
    }

    /// Every audit row, read straight from the SQLite file.
    func auditRows(data: String? = nil) throws -> [AuditRow] {
        let queue = try DatabaseQueue(path: database(in: data))
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT seq, actor, role, action, subject, scope, outcome FROM audit ORDER BY seq").map {
                AuditRow(
                    seq: $0["seq"], actor: $0["actor"], role: $0["role"], action: $0["action"], subject: $0["subject"], scope: $0["scope"],
                    outcome: $0["outcome"])
            }
        }
    }

    /// The staff table's id for a username.
    func staffID(_ username: String) throws -> Int64? {
        let queue = try DatabaseQueue(path: database())
        defer { try? queue.close() }
        return try queue.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM staff WHERE username = ?", arguments: [username]) }
    }

    /// The bytes of every file in the data directory, joined.
    func dataBytes() throws -> [UInt8] {
        try FileManager.default.contentsOfDirectory(atPath: data).sorted().flatMap { fileBytes("\(data)/\($0)") }
    }
}

/// One-time credentials as `hearth staff add|reset --json` prints them.
struct IssuedCredentials: Decodable, Equatable {
    let username: String
    let role: String
    let password: String
    let totpSecret: String
    let otpauthURI: String

    static func decode(_ stdout: String) throws -> IssuedCredentials {
        try JSONDecoder().decode(IssuedCredentials.self, from: Data(stdout.utf8))
    }
}

/// One row of the `audit` table (hashes left out).
struct AuditRow: Equatable, CustomStringConvertible {
    let seq: Int64
    let actor: String
    let role: String
    let action: String
    let subject: String
    let scope: String
    let outcome: String

    var description: String { "\(seq) \(actor) \(action) \(subject) \(scope) \(outcome)" }
}

/// RFC 4648 base32 (no padding), written here so the test does not trust the code under test.
func base32Decode(_ text: String) -> [UInt8]? {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var bits = 0
    var value = 0
    var out: [UInt8] = []
    for c in text {
        guard let index = alphabet.firstIndex(of: c) else { return nil }
        value = (value << 5) | index
        bits += 5
        if bits >= 8 {
            out.append(UInt8((value >> (bits - 8)) & 0xFF))
            bits -= 8
        }
    }
    return out
}

/// `hearth staff add|list|disable|reset`, run as the real executable against a fresh data directory.
@Suite("hearth staff", .timeLimit(.minutes(1)))
struct StaffCommandTests {
    static var passwordPattern: Regex<(Substring, Substring)> { /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/ }
    static var secretPattern: Regex<Substring> { /^[A-Z2-7]{32}$/ }

    /// Checks the shape of issued credentials.
    static func expectWellFormed(_ c: IssuedCredentials, username: String, role: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(c.username == username, sourceLocation: sourceLocation)
        #expect(c.role == role, sourceLocation: sourceLocation)
        #expect(c.password.wholeMatch(of: passwordPattern) != nil, "password \(c.password)", sourceLocation: sourceLocation)
        #expect(c.totpSecret.wholeMatch(of: secretPattern) != nil, "TOTP secret \(c.totpSecret)", sourceLocation: sourceLocation)
        #expect(base32Decode(c.totpSecret)?.count == 20, sourceLocation: sourceLocation)
        #expect(c.otpauthURI.hasPrefix("otpauth://totp/"), "\(c.otpauthURI)", sourceLocation: sourceLocation)
        #expect(c.otpauthURI.contains("secret=\(c.totpSecret)"), "\(c.otpauthURI)", sourceLocation: sourceLocation)
        #expect(c.otpauthURI.contains(username), "\(c.otpauthURI)", sourceLocation: sourceLocation)
    }

    /// Fails if `text` holds any part of `c` that must be shown only once.
    static func expectNoSecrets(of c: IssuedCredentials, in text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.contains(c.password), "\(what) shows \(c.username)'s password", sourceLocation: sourceLocation)
        #expect(
            !text.contains(c.password.replacingOccurrences(of: "-", with: "")), "\(what) shows \(c.username)'s password",
            sourceLocation: sourceLocation)
        #expect(!text.contains(c.totpSecret), "\(what) shows \(c.username)'s TOTP secret", sourceLocation: sourceLocation)
    }

    @Test("staff add prints the one-time password and TOTP secret once, and stores neither in the clear")
    func addPrintsCredentialsOnce() async throws {
        let f = try await MaintenanceFixture.make()
        let outcome = try await f.run(["staff", "add", "--username", "alice", "--role", "caseworker"])
        #expect(outcome.succeeded, "\(outcome)")
        #expect(mode(f.data) == 0o700, "the command creates the data directory owner-only")

        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        func value(_ label: String) -> String? {
            lines.first { $0.hasPrefix(label) }.map { String($0.dropFirst(label.count)).trimmingCharacters(in: .whitespaces) }
        }
        let password = try #require(value("password:")?.split(separator: " ").first.map(String.init), "\(outcome.stdout)")
        let secret = try #require(value("TOTP secret:"), "\(outcome.stdout)")
        let uri = try #require(value("TOTP URI:"), "\(outcome.stdout)")
        let text = IssuedCredentials(username: "alice", role: "caseworker", password: password, totpSecret: secret, otpauthURI: uri)
        Self.expectWellFormed(text, username: "alice", role: "caseworker")
        #expect(outcome.stdout.components(separatedBy: password).count == 2, "the password is printed exactly once")
        #expect(outcome.stdout.contains("one-time"))
        #expect(outcome.stdout.contains("shown once"))
        #expect(!outcome.stderr.contains(password) && !outcome.stderr.contains(secret))

        let json = try await f.addStaff("bob", role: "supervisor")
        Self.expectWellFormed(json, username: "bob", role: "supervisor")
        #expect(json.password != text.password)
        #expect(json.totpSecret != text.totpSecret)

        // The database keeps an Argon2id hash and a sealed secret: no password or secret, as text or raw bytes.
        let stored = try f.dataBytes()
        #expect(!stored.isEmpty)
        for c in [text, json] {
            #expect(!bytes(stored, contain: Array(c.password.utf8)), "\(c.username)'s password is on disk")
            #expect(!bytes(stored, contain: Array(c.password.replacingOccurrences(of: "-", with: "").utf8)))
            #expect(!bytes(stored, contain: Array(c.totpSecret.utf8)), "\(c.username)'s TOTP secret is on disk")
            #expect(!bytes(stored, contain: try #require(base32Decode(c.totpSecret))), "\(c.username)'s raw TOTP secret is on disk")
        }
    }

    @Test("staff list shows each account and its role, never a password or TOTP secret")
    func listShowsAccountsWithoutCredentials() async throws {
        let f = try await MaintenanceFixture.make()
        let alice = try await f.addStaff("alice", role: "caseworker")
        let bob = try await f.addStaff("bob", role: "police-liaison")

        let text = try await f.run(["staff", "list"])
        #expect(text.succeeded, "\(text)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(text.stdout)")
        let aliceLine = try #require(lines.first { $0.hasPrefix("alice\t") })
        #expect(aliceLine.contains("\tcaseworker\t"))
        #expect(aliceLine.contains("\tcaseworker-"), "a pseudonym derived from the role: \(aliceLine)")
        #expect(aliceLine.contains("must change password"))
        #expect(!aliceLine.contains("disabled"))
        #expect(lines.contains { $0.hasPrefix("bob\tpolice-liaison\t") })

        let json = try await f.run(["staff", "list", "--json"])
        #expect(json.succeeded, "\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let staff = try #require(object?["staff"] as? [[String: Any]], "\(json.stdout)")
        #expect(staff.compactMap { $0["username"] as? String } == ["alice", "bob"])
        for entry in staff {
            #expect(Set(entry.keys) == ["username", "role", "pseudonym", "disabled", "mustChangePassword", "locked"], "\(entry)")
            #expect(entry["disabled"] as? Bool == false)
            #expect(entry["mustChangePassword"] as? Bool == true)
            #expect(entry["locked"] as? Bool == false)
        }

        for c in [alice, bob] {
            for o in [text, json] {
                Self.expectNoSecrets(of: c, in: o.stdout + o.stderr, "staff list")
            }
        }
    }

    @Test("adding an existing username again fails, names it, prints no credentials and changes nothing")
    func duplicateUsernameIsRefused() async throws {
        let f = try await MaintenanceFixture.make()
        _ = try await f.addStaff("alice", role: "caseworker")
        let before = try f.auditRows()

        for arguments in [["--role", "caseworker"], ["--role", "admin", "--json"]] {
            let again = try await f.run(["staff", "add", "--username", "alice"] + arguments)
            #expect(again.exitedNormally && again.status != 0, "\(again)")
            #expect(again.stderr.contains("alice") && again.stderr.contains("already"), "\(again.stderr)")
            #expect(!again.stdout.contains("password") && !again.stdout.contains("otpauth"), "\(again.stdout)")
        }

        #expect(try f.auditRows() == before)
        let list = try await f.run(["staff", "list"])
        #expect(list.stdout.split(separator: "\n").count == 1, "\(list.stdout)")
        #expect(list.stdout.hasPrefix("alice\tcaseworker\t"), "the first account is untouched: \(list.stdout)")
    }

    @Test("an unknown role or a malformed username is refused and nothing is written")
    func unknownRoleAndBadUsernameAreRefused() async throws {
        let f = try await MaintenanceFixture.make()
        let refused = try await f.run(["staff", "add", "--username", "alice", "--role", "wizard"])
        #expect(refused.exitedNormally && refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("--role") && refused.stderr.contains("caseworker"), "the refusal lists the roles: \(refused.stderr)")
        #expect(!refused.stdout.contains("password"))
        #expect(!FileManager.default.fileExists(atPath: f.data), "a refused role never creates the data directory")

        _ = try await f.addStaff("carol", role: "admin")
        let before = try f.auditRows()
        for (username, role) in [
            ("alice", "Caseworker"), ("alice", ""), ("a", "caseworker"), ("alice smith", "caseworker"), ("../alice", "caseworker"),
        ] {
            let outcome = try await f.run(["staff", "add", "--username", username, "--role", role])
            #expect(outcome.exitedNormally && outcome.status != 0, "\(username) / \(role): \(outcome)")
            #expect(!outcome.stdout.contains("password"), "\(outcome.stdout)")
        }
        #expect(try f.auditRows() == before)
        let list = try await f.run(["staff", "list"])
        #expect(list.stdout.split(separator: "\n").map { $0.split(separator: "\t").first.map(String.init) } == ["carol"])
    }

    @Test("staff disable marks the account disabled in the list; an unknown account is refused")
    func disableShowsInList() async throws {
        let f = try await MaintenanceFixture.make()
        _ = try await f.addStaff("alice")
        _ = try await f.addStaff("bob", role: "reviewer")

        let disabled = try await f.run(["staff", "disable", "alice"])
        #expect(disabled.succeeded, "\(disabled)")
        #expect(disabled.stdout.contains("disabled alice"), "\(disabled.stdout)")

        let text = try await f.run(["staff", "list"])
        let aliceLine = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("alice\t") })
        #expect(aliceLine.contains("disabled"), "\(aliceLine)")
        let bobLine = try #require(text.stdout.split(separator: "\n").first { $0.hasPrefix("bob\t") })
        #expect(!bobLine.contains("disabled"), "\(bobLine)")

        let json = try await f.run(["staff", "list", "--json"])
        let staff = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["staff"] as? [[String: Any]])
        #expect(staff.first { $0["username"] as? String == "alice" }?["disabled"] as? Bool == true)
        #expect(staff.first { $0["username"] as? String == "bob" }?["disabled"] as? Bool == false)

        let unknown = try await f.run(["staff", "disable", "nobody"])
        #expect(unknown.exitedNormally && unknown.status != 0, "\(unknown)")
        #expect(unknown.stderr.contains("nobody"), "\(unknown.stderr)")
    }

    @Test("staff reset prints new one-time credentials, different from the old, and the old ones are gone")
    func resetIssuesNewCredentials() async throws {
        let f = try await MaintenanceFixture.make()
        let old = try await f.addStaff("alice", role: "prosecution-liaison")
        let hashBefore = try #require(try Self.storedCredentials(f, "alice"))

        let reset = try await f.run(["staff", "reset", "alice", "--json"])
        #expect(reset.succeeded, "\(reset)")
        let new = try IssuedCredentials.decode(reset.stdout)
        Self.expectWellFormed(new, username: "alice", role: "prosecution-liaison")
        #expect(new.password != old.password)
        #expect(new.totpSecret != old.totpSecret)
        #expect(new.otpauthURI != old.otpauthURI)
        let hashAfter = try #require(try Self.storedCredentials(f, "alice"))
        #expect(hashAfter.passwordHash != hashBefore.passwordHash)
        #expect(hashAfter.sealedSecret != hashBefore.sealedSecret)
        #expect(hashAfter.mustChange)

        let textReset = try await f.run(["staff", "reset", "alice"])
        #expect(textReset.succeeded, "\(textReset)")
        #expect(textReset.stdout.contains("password:") && textReset.stdout.contains("TOTP secret:"), "\(textReset.stdout)")
        Self.expectNoSecrets(of: new, in: textReset.stdout, "a second reset")

        let unknown = try await f.run(["staff", "reset", "nobody"])
        #expect(unknown.exitedNormally && unknown.status != 0, "\(unknown)")
        #expect(!unknown.stdout.contains("password"), "\(unknown.stdout)")
    }

    static func storedCredentials(_ f: MaintenanceFixture, _ username: String) throws -> (passwordHash: String, sealedSecret: Data, mustChange: Bool)?
    {
        let queue = try DatabaseQueue(path: f.database())
        defer { try? queue.close() }
        return try queue.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT password_hash, totp_secret, must_change_password FROM staff WHERE username = ?", arguments: [username])
            else { return nil }
            let hash: String = row["password_hash"]
            let secret: Data = row["totp_secret"]
            let mustChange: Int64 = row["must_change_password"]
            return (hash, secret, mustChange != 0)
        }
    }

    @Test("every staff add, disable and reset is in the audit trail as actor cli; refusals and lists add nothing; the trail verifies")
    func everyCommandIsAudited() async throws {
        let f = try await MaintenanceFixture.make()
        _ = try await f.addStaff("alice", role: "caseworker")
        _ = try await f.addStaff("bob", role: "supervisor")
        #expect(try await f.run(["staff", "disable", "alice"]).succeeded)
        #expect(try await f.run(["staff", "reset", "bob", "--json"]).succeeded)
        // Refusals and reads leave no entry.
        #expect(try await f.run(["staff", "add", "--username", "alice", "--role", "caseworker"]).status != 0)
        #expect(try await f.run(["staff", "disable", "nobody"]).status != 0)
        #expect(try await f.run(["staff", "reset", "nobody"]).status != 0)
        #expect(try await f.run(["staff", "list"]).succeeded)

        let alice = try #require(try f.staffID("alice"))
        let bob = try #require(try f.staffID("bob"))
        let rows = try f.auditRows()
        #expect(
            rows == [
                AuditRow(seq: 1, actor: "cli", role: "", action: "staff.add", subject: "staff:\(alice)", scope: "caseworker", outcome: "ok"),
                AuditRow(seq: 2, actor: "cli", role: "", action: "staff.add", subject: "staff:\(bob)", scope: "supervisor", outcome: "ok"),
                AuditRow(seq: 3, actor: "cli", role: "", action: "staff.disable", subject: "staff:\(alice)", scope: "", outcome: "ok"),
                AuditRow(seq: 4, actor: "cli", role: "", action: "staff.reset", subject: "staff:\(bob)", scope: "", outcome: "ok"),
            ], "\(rows)")

        let verify = try await f.run(["audit", "verify"])
        #expect(verify.succeeded, "\(verify)")
        #expect(verify.stdout.hasPrefix("ok: 4 entries"), "\(verify.stdout)")
    }
}
