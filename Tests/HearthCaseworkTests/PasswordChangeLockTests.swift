import Foundation
import HearthCore
import HearthTestSupport
import Testing

@Suite("Password change: a wrong current password counts toward the lock-out")
struct PasswordChangeLockTests {
    func change(_ h: CaseworkHarness, _ s: TestStaff, current: String) async throws -> TestHTTPSClient.Reply {
        try await h.staffPost(s, "/api/v1/session/password", ["password": current, "newPassword": "another long new password"])
    }

    @Test("a stolen session guessing the password: after lockAfter wrong guesses the session ends and the right credentials are refused")
    func guessesLockTheAccount() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.readyStaff("alice", .caseworker)
            for attempt in 1..<StaffService.lockAfter {
                let r = try await change(h, alice, current: "guess number \(attempt)")
                #expect(r.status == 400 && r.json["code"] as? String == "invalid-value", "attempt \(attempt): \(r.text)")
            }
            let last = try await change(h, alice, current: "the last guess")
            #expect(last.status == 401 && last.json["code"] as? String == "not-signed-in", "\(last.text)")
            #expect(try await h.staffClient.send(.GET, "/api/v1/cases", headers: alice.bearer).status == 401, "the session has ended")
            #expect(try await h.login(alice).status == 401, "the account is locked, right credentials or not")
            let audit = try await h.auditRows()
            #expect(audit.filter { $0.action == "staff.password" && $0.outcome == "failed" }.count == StaffService.lockAfter)
        }
    }

    @Test("one wrong guess, then the right password: the change goes through and sign-in still works")
    func oneWrongGuessDoesNotLock() async throws {
        try await CaseworkHarness.with { h in
            var alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await change(h, alice, current: "not my password").status == 400)
            #expect(try await change(h, alice, current: alice.password).status == 204)
            alice.password = "another long new password"
            #expect(try await h.login(alice).status == 200)
        }
    }
}
