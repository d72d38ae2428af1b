import HearthCore
import HearthTestSupport
import Testing

@Suite("Case references are logged at debug only")
struct CaseLogTests {
    @Test("a submission, a refused and an allowed opening: no line above debug names the case")
    func referencesOnlyAtDebug() async throws {
        try await CaseworkHarness.with { h in
            let (reference, _) = try await h.submit(consents: ["support"], canary: "log-canary")
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "too early"]).status == 403)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact"]).status == 200)
            let lines = h.logs.all
            #expect(lines.contains { $0.hasPrefix("notice case access refused") }, "the refusal is still logged")
            #expect(lines.contains { $0.hasPrefix("debug") && $0.contains(reference) }, "positive control: debug lines name it")
            for line in lines where !line.hasPrefix("debug") && !line.hasPrefix("trace") {
                #expect(!line.contains(reference), "\(line)")
            }
        }
    }
}
