import Foundation
import HearthCasework
import HearthCore
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

// Staff sign-in and sessions over real TLS: failures that say nothing, TOTP windows and replay,
// lock-out, timeouts, sign-out, disabling and resetting accounts, the cookie, and what is stored
// and logged.

// MARK: - Helpers

/// Posts a sign-in directly, without moving the clock (unlike `CaseworkHarness.login`).
private func postLogin(_ h: CaseworkHarness, _ username: String, _ password: String, _ totp: String) async throws -> TestHTTPSClient.Reply {
    try await h.staffClient.send(.POST, "/api/v1/session", json: ["username": username, "password": password, "totp": totp])
}

private func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

private func cases(_ h: CaseworkHarness, _ headers: [(String, String)]) async throws -> TestHTTPSClient.Reply {
    try await h.staffClient.send(.GET, "/api/v1/cases", headers: headers)
}

private func base64urlDecode(_ s: String) -> [UInt8]? {
    var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while b.count % 4 != 0 { b += "=" }
    return Data(base64Encoded: b).map(Array.init)
}

/// Whether `digits` occurs in `text` as a whole number (not inside a longer run of digits).
private func containsNumber(_ text: String, _ digits: String) -> Bool {
    let t = Array(text.utf8)
    let d = Array(digits.utf8)
    guard t.count >= d.count else { return false }
    func isDigit(_ i: Int) -> Bool { i >= 0 && i < t.count && t[i] >= 0x30 && t[i] <= 0x39 }
    for i in 0...(t.count - d.count) where Array(t[i..<i + d.count]) == d && !isDigit(i - 1) && !isDigit(i + d.count) {
        return true
    }
    return false
}

// MARK: - Failed sign-ins

/// A failed sign-in, compared against an unknown username.
enum LoginFailure: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case wrongPassword = "wrong password"
    case wrongTOTP = "wrong TOTP code"
    case replayedTOTP = "replayed TOTP code"
    case disabledAccount = "disabled account"
    var testDescription: String { rawValue }
}

@Suite("Sessions: sign-in failures")
struct LoginFailureTests {
    @Test("an unknown username gets 401 login-failed and no session", arguments: TestStore.all)
    func unknownUserIsRefused(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            h.clock.advance(seconds: 30)
            let reply = try await postLogin(h, "nobody", alice.password, h.totp(alice.totpSecret))
            #expect(reply.status == 401)
            #expect(reply.json["code"] as? String == "login-failed")
            #expect(reply.json["token"] == nil)
            #expect(reply.headers["Set-Cookie"].isEmpty)
        }
    }

    @Test("a failed sign-in is indistinguishable from an unknown username: same status, byte-identical body", arguments: LoginFailure.allCases)
    func failuresAreIndistinguishable(failure: LoginFailure) async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            h.clock.advance(seconds: 30)
            let unknown = try await postLogin(h, "nobody", alice.password, h.totp(alice.totpSecret))

            let reply: TestHTTPSClient.Reply
            switch failure {
            case .wrongPassword:
                reply = try await postLogin(h, "alice", "not alice's password", h.totp(alice.totpSecret))
            case .wrongTOTP:
                reply = try await postLogin(h, "alice", alice.password, wrongCode(h, alice))
            case .replayedTOTP:
                let code = h.totp(alice.totpSecret)
                let first = try await postLogin(h, "alice", alice.password, code)
                #expect(first.status == 200, "the first use of the code signs in: \(first.text)")
                reply = try await postLogin(h, "alice", alice.password, code)  // same step, same code
            case .disabledAccount:
                try await h.staffService.disable(username: "alice", actor: "cli")
                reply = try await postLogin(h, "alice", alice.password, h.totp(alice.totpSecret))
            }
            #expect(unknown.status == 401)
            #expect(reply.status == unknown.status)
            #expect(reply.body == unknown.body, "\(reply.text) vs \(unknown.text)")
            #expect(reply.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"])
            #expect(reply.headers["Set-Cookie"].isEmpty)
        }
    }

    @Test(
        "a TOTP code from a nearby step: within one step it is accepted, two steps off it is refused",
        arguments: [(-2, false), (-1, true), (0, true), (1, true), (2, false)])
    func totpWindow(offset: Int, accepted: Bool) async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.addStaff("alice", .caseworker)
            h.clock.advance(seconds: 300)
            let step = Int64(TOTP.step(at: h.clock.unixSeconds())) + Int64(offset)
            let reply = try await postLogin(h, "alice", alice.password, h.totp(alice.totpSecret, step: UInt64(step)))
            #expect(reply.status == (accepted ? 200 : 401), "\(reply.text)")
        }
    }

    @Test("one failure short of the lock-out, the right credentials still sign in", arguments: TestStore.all)
    func justBelowLockOut(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            for _ in 0..<(StaffService.lockAfter - 1) {
                #expect(try await postLogin(h, "alice", "wrong password", h.totp(alice.totpSecret)).status == 401)
            }
            #expect(try await h.login(alice).status == 200)
        }
    }

    @Test("after lockAfter failures even the right credentials get the same 401, until lockSeconds have passed", arguments: TestStore.all)
    func lockOutAndUnlock(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let unknown = try await postLogin(h, "nobody", alice.password, h.totp(alice.totpSecret))
            for _ in 0..<StaffService.lockAfter {
                #expect(try await postLogin(h, "alice", "wrong password", h.totp(alice.totpSecret)).status == 401)
            }
            let locked = try await h.login(alice)
            #expect(locked.status == 401)
            #expect(locked.body == unknown.body, "a locked account says nothing more: \(locked.text)")

            h.clock.advance(seconds: StaffService.lockSeconds)
            let unlocked = try await h.login(alice)
            #expect(unlocked.status == 200, "\(unlocked.text)")
        }
    }
}

// MARK: - Session lifetime

@Suite("Sessions: lifetime")
struct SessionLifetimeTests {
    @Test("a session left idle for more than 15 minutes ends", arguments: TestStore.all)
    func idleTimeout(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            h.clock.advance(seconds: 14 * 60)
            #expect(try await cases(h, alice.bearer).status == 200, "14 idle minutes are fine")
            h.clock.advance(seconds: StaffService.idleTimeout + 1)
            let reply = try await cases(h, alice.bearer)
            #expect(reply.status == 401)
            #expect(reply.json["code"] as? String == "not-signed-in")
        }
    }

    @Test("a session kept busy ends once 12 hours have passed since sign-in", arguments: TestStore.all)
    func absoluteTimeout(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let steps = Int(StaffService.absoluteTimeout / 600)
            for i in 1...steps {
                h.clock.advance(seconds: 600)
                let reply = try await cases(h, alice.bearer)
                #expect(reply.status == 200, "after \(i * 10) minutes: \(reply.text)")
            }
            h.clock.advance(seconds: 600)
            let reply = try await cases(h, alice.bearer)
            #expect(reply.status == 401, "after 12 h 10 min")
            #expect(reply.json["code"] as? String == "not-signed-in")
        }
    }

    @Test("signing out ends the session and clears the cookie", arguments: TestStore.all)
    func logoutEndsSession(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await cases(h, alice.bearer).status == 200)
            let out = try await h.staffClient.send(.DELETE, "/api/v1/session", headers: alice.bearer)
            #expect(out.status == 204)
            #expect(out.headers["Set-Cookie"].first?.contains("Max-Age=0") == true)
            #expect(try await cases(h, alice.bearer).status == 401)
            #expect(try await h.staffClient.send(.DELETE, "/api/v1/session", headers: alice.bearer).status == 401)
            #expect(try await h.count("SELECT count(*) FROM sessions") == 0)
        }
    }

    @Test("disabling an account ends all of its live sessions at once", arguments: TestStore.all)
    func disableEndsSessions(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let second = try await h.login(alice)
            let other = bearer(try #require(second.json["token"] as? String))
            #expect(try await cases(h, alice.bearer).status == 200)
            #expect(try await cases(h, other).status == 200)

            try await h.staffService.disable(username: "alice", actor: "cli")
            #expect(try await h.count("SELECT count(*) FROM sessions") == 0, "gone from storage, not just refused on next use")
            #expect(try await cases(h, alice.bearer).status == 401)
            #expect(try await cases(h, other).status == 401)
        }
    }

    @Test("resetting an account ends its sessions and the new credentials must change the password first", arguments: TestStore.all)
    func resetEndsSessionsAndForcesChange(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await cases(h, alice.bearer).status == 200)

            let fresh = try await h.staffService.reset(username: "alice", actor: "cli")
            #expect(try await cases(h, alice.bearer).status == 401, "the old session ended")
            #expect(try await h.login(alice).status == 401, "the old password and TOTP secret no longer work")

            let reset = TestStaff(username: "alice", role: .caseworker, totpSecret: fresh.totpSecret, password: fresh.password, token: nil)
            let login = try await h.login(reset)
            #expect(login.status == 200, "\(login.text)")
            #expect(login.json["mustChangePassword"] as? Bool == true)
            let reply = try await cases(h, bearer(try #require(login.json["token"] as? String)))
            #expect(reply.status == 403)
            #expect(reply.json["code"] as? String == "password-change-required")
        }
    }
}

// MARK: - Cookie and token storage

@Suite("Sessions: cookie and token storage")
struct SessionTokenTests {
    @Test("the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict, Path=/, and alone authenticates", arguments: TestStore.all)
    func sessionCookie(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let login = try await h.login(alice)
            #expect(login.status == 200)
            let token = try #require(login.json["token"] as? String)
            let cookie = try #require(login.headers["Set-Cookie"].first)
            let parts = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(parts.first == "\(StaffSessions.cookieName)=\(token)")
            #expect(StaffSessions.cookieName == "__Host-hearth-session")
            for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
                #expect(parts.contains(attribute), "\(attribute) in \(cookie)")
            }
            #expect(!parts.contains { $0.lowercased().hasPrefix("domain=") }, "__Host- cookies carry no Domain")

            let reply = try await cases(h, [("Cookie", "\(StaffSessions.cookieName)=\(token)")])
            #expect(reply.status == 200, "\(reply.text)")
        }
    }

    @Test("the session token is stored only as a hash", arguments: TestStore.all)
    func tokenStoredAsHash(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            let token = try #require(alice.token)
            let raw = try #require(base64urlDecode(token))
            #expect(raw.count == 32)
            let disk = try await h.storedBytes()
            // (Searched outside #expect, so that a failure does not print the whole database.)
            let asText = bytes(disk, contain: Array(token.utf8))
            let asBytes = bytes(disk, contain: raw)
            #expect(!asText, "the token as text is not stored")
            #expect(!asBytes, "the token's bytes are not stored")
            // The stored form is a BLAKE2b hash keyed with a casework-only key: present, so the search looked in the right place.
            let keys = try CaseworkKeys(directory: h.keys, master: try h.keys.loadMasterKey(passphrase: nil))
            let keyed = bytes(disk, contain: try keys.sessionTokenHash(raw))
            let unkeyed = bytes(disk, contain: try Blake2b.hash(raw))
            #expect(keyed, "its keyed hash is stored")
            #expect(!unkeyed, "an unkeyed hash, which anyone could compute from a token, is not")
        }
    }
}

// MARK: - What is stored and logged

@Suite("Sessions: nothing secret lands on disk or in logs")
struct SecretsNeverLandTests {
    @Test(
        "canaries in a request, an access reason, a staff reply and a survivor message appear in no database file and no log line",
        arguments: TestStore.all)
    func threadCanariesNeverLand(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let tag = UInt64.random(in: 1_000_000...9_999_999)
            let (requestCanary, reasonCanary, replyCanary, messageCanary) = (
                "REQ\(tag)CANARY", "WHY\(tag)CANARY", "RPL\(tag)CANARY", "MSG\(tag)CANARY"
            )
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"], canary: requestCanary)
            #expect(try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact \(reasonCanary)"]).status == 200)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "Hello from support \(replyCanary)"]).status == 201)
            let written = try await h.intake.send(
                .POST, "/api/v1/me/messages", json: ["group": "support", "text": "Evenings are best \(messageCanary)"], receipt: receipt)
            #expect(written.status == 201)

            // Everything was stored (readable by the right people) ...
            let reopened = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "reading the reply"])
            #expect(reopened.text.contains(requestCanary) && reopened.text.contains(replyCanary) && reopened.text.contains(messageCanary))
            let thread = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            #expect(thread.text.contains(replyCanary))
            let access = try await h.intake.send(.GET, "/api/v1/me/access", receipt: receipt)
            #expect(access.text.contains(reasonCanary))

            // ... but never in plaintext.
            let disk = try await h.storedBytes()
            let logs = Array(h.logs.text.utf8)
            let searchedSomething = disk.count > 0 && !logs.isEmpty
            #expect(searchedSomething)
            for canary in [requestCanary, reasonCanary, replyCanary, messageCanary] {
                let onDisk = bytes(disk, contain: Array(canary.utf8))
                let inLogs = bytes(logs, contain: Array(canary.utf8))
                #expect(!onDisk, "\(canary) is not in the database, WAL or shm")
                #expect(!inLogs, "\(canary) is not in the logs")
            }
        }
    }

    @Test("passwords, TOTP codes and TOTP secrets never appear in logs", arguments: TestStore.all)
    func credentialsNeverLogged(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            var alice = try await h.addStaff("alice", .caseworker)
            let oneTime = alice.password
            var codes: [String] = []
            // First sign-in with the one-time password, then a password change.
            h.clock.advance(seconds: 30)
            codes.append(h.totp(alice.totpSecret))
            let first = try await postLogin(h, "alice", oneTime, codes.last!)
            #expect(first.status == 200)
            let token = try #require(first.json["token"] as? String)
            let newPassword = "alice's brand new passphrase \(UInt64.random(in: 1_000_000...9_999_999))"
            let wrongCurrent = "wrong current passphrase \(UInt64.random(in: 1_000_000...9_999_999))"
            #expect(
                try await h.staffClient.send(
                    .POST, "/api/v1/session/password",
                    body: Array(try JSONSerialization.data(withJSONObject: ["password": wrongCurrent, "newPassword": newPassword])),
                    headers: bearer(token)
                ).status == 400)
            #expect(
                try await h.staffClient.send(
                    .POST, "/api/v1/session/password",
                    body: Array(try JSONSerialization.data(withJSONObject: ["password": oneTime, "newPassword": newPassword])),
                    headers: bearer(token)
                ).status == 204)
            alice.password = newPassword
            // Failures of every kind, then a success and a replay.
            let wrongPassword = "not alices password \(UInt64.random(in: 1_000_000...9_999_999))"
            h.clock.advance(seconds: 30)
            codes.append(h.totp(alice.totpSecret))
            #expect(try await postLogin(h, "alice", wrongPassword, codes.last!).status == 401)
            codes.append(wrongCode(h, alice))
            #expect(try await postLogin(h, "alice", newPassword, codes.last!).status == 401)
            #expect(try await postLogin(h, "nobody", newPassword, codes[1]).status == 401)
            #expect(try await postLogin(h, "alice", newPassword, codes[1]).status == 200)
            #expect(try await postLogin(h, "alice", newPassword, codes[1]).status == 401)

            let logs = h.logs.text
            let failuresLogged = logs.contains("sign-in failed")
            #expect(failuresLogged, "failures were logged (by id)")
            for secret in [oneTime, oneTime.replacingOccurrences(of: "-", with: ""), newPassword, wrongCurrent, wrongPassword, alice.totpSecret] {
                let logged = logs.contains(secret)
                #expect(!logged, "'\(secret)' is not logged")
            }
            for code in codes {
                let logged = containsNumber(logs, code)
                #expect(!logged, "TOTP code \(code) is not logged")
            }
        }
    }
}
