import Foundation
import HearthCore
import HearthTestSupport
import Testing

@Suite("Sign-in work is bounded: attempts are counted before the Argon2id work, and pending sign-ins hold no password")
struct SignInBoundsTests {
    @Test("eight wrong sign-ins at once from one address with three allowed: at most three are checked (401), the rest get 429 at once")
    func concurrentSignInsAreCountedBeforeTheWork() async throws {
        try await CaseworkHarness.with(loginFailuresPerAddress: 3) { h in
            let alice = try await h.addStaff("alice", .caseworker)
            let client = h.staffClient
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await client.send(
                            .POST, "/api/v1/session", json: ["username": alice.username, "password": "wrong guess \(i)", "totp": "000000"]
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count <= 3, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count >= 5, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(statuses)")
            let failed = try await h.auditRows().filter { $0.action == "session.login" && $0.outcome == "failed" }
            #expect(failed.count <= 3, "only the attempts that were let through were checked and audited")
        }
    }

    @Test("a right sign-in gives its count back: with one attempt allowed, sign-in works twice in a row")
    func successfulSignInsAreRefunded() async throws {
        try await CaseworkHarness.with(loginFailuresPerAddress: 1) { h in
            let alice = try await h.addStaff("alice", .caseworker)
            #expect(try await h.login(alice).status == 200)
            #expect(try await h.login(alice).status == 200)
        }
    }

    @Test("the password step keeps only its outcome: nothing in it holds the password, and a reset in between makes the code step fail")
    func passwordStepHoldsNoPassword() async throws {
        try await CaseworkHarness.with { h in
            let alice = try await h.addStaff("alice", .caseworker)
            let staff = try #require(h.assembly.staff)
            let check = try await staff.checkPassword(username: alice.username, password: alice.password)
            var seen: [String] = []
            func walk(_ value: Any) {
                for child in Mirror(reflecting: value).children {
                    seen.append("\(child.label ?? "?")=\(child.value)")
                    walk(child.value)
                }
            }
            walk(check)
            #expect(!seen.isEmpty)
            #expect(!seen.contains { $0.contains(alice.password) }, "\(seen)")

            // The password was right; an administrator resets the account before the code comes.
            _ = try await staff.reset(username: alice.username, actor: "test")
            h.clock.advance(seconds: 30)
            await #expect(throws: StaffService.loginFailed) {
                _ = try await staff.login(check, totp: h.totp(alice.totpSecret))
            }
        }
    }
}
