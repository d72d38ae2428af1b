import Foundation
import HearthCasework
import HearthCore
import HearthHTTP
import HearthKeys
import HearthTestSupport
import Hummingbird
import NIOHTTP1
import Testing

// Invariant 3: decryption on the casework side needs an authenticated session, a role whose scope
// has a live wrap on the record, assignment to the caller and a stated reason; everything else is
// denied, and every decision is audited. These tests walk the whole table over real TLS.

// MARK: - The table's dimensions

/// The state of the survivor's consent for the caller's scope (for roles without a scope: for every scope).
enum MatrixConsent: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case none, live, withdrawn, expired
    var testDescription: String { "consent \(rawValue)" }
}

/// Who the case is assigned to.
private enum MatrixAssignment: String, CaseIterable {
    /// The caller (for roles that cannot be assigned, the supervisor tries and is refused).
    case caller
    /// Someone else: a colleague in the same role (a caseworker for roles that cannot be assigned).
    case colleague
    /// Nobody.
    case nobody
}

/// The case routes that run the access policy.
private enum CaseAction: String, CaseIterable {
    case open, replies, status

    func path(_ reference: String) -> String { "/api/v1/cases/\(reference)/\(rawValue)" }

    var body: [String: Any] {
        switch self {
        case .open: ["reason": "checking the matrix"]
        case .replies: ["text": "a reply from the matrix"]
        case .status: ["status": "in-progress"]
        }
    }

    var successStatus: Int { self == .replies ? 201 : 200 }
}

/// The one rule, written independently of the code under test: the first failing gate names the refusal.
private func expectedDenial(role: Role, consent: MatrixConsent, assignment: MatrixAssignment) -> String? {
    guard role.readScope != nil else { return "role-cannot-read" }
    guard consent == .live else { return "no-consent" }
    guard assignment == .caller else { return "not-assigned" }
    return nil
}

// MARK: - Helpers

private func today(_ h: CaseworkHarness) -> String { Day(unixSeconds: h.clock.unixSeconds()).description }

/// Submits a record whose consent for `mine` is in `state`, and for `others` is live.
private func submitRecord(_ h: CaseworkHarness, _ state: MatrixConsent, mine: [Scope], others: [Scope]) async throws -> String {
    var consents: [[String: Any]] = others.map { ["scope": $0.rawValue] }
    switch state {
    case .none: break
    case .live, .withdrawn: consents += mine.map { ["scope": $0.rawValue] }
    case .expired: consents += mine.map { ["scope": $0.rawValue, "expires": today(h)] }
    }
    let reply = try await h.intake.send(.POST, "/api/v1/contact-requests", json: sampleRequest(consents: consents))
    guard reply.status == 201, let reference = reply.json["reference"] as? String, let receipt = reply.json["receipt"] as? String else {
        throw HarnessError("submission failed: \(reply.status) \(reply.text)")
    }
    if state == .withdrawn {
        for scope in mine {
            let withdrawn = try await h.intake.send(.DELETE, "/api/v1/me/consents/\(scope.rawValue)", receipt: receipt)
            guard withdrawn.status == 200 else { throw HarnessError("withdrawal failed: \(withdrawn.status) \(withdrawn.text)") }
        }
    }
    return reference
}

// MARK: - The access matrix

@Suite("Access matrix: case routes × roles × consent × assignment")
struct AccessMatrixTests {
    /// One harness per (role, consent state); one record per assignment state; every case route on each.
    @Test(
        "a case route answers 2xx only to a reading role with live consent for its scope and the case assigned to it; otherwise 403 naming the first failing gate",
        arguments: Role.allCases, MatrixConsent.allCases)
    func matrix(role: Role, consent: MatrixConsent) async throws {
        try await CaseworkHarness.with { h in
            let mine = role.readScope.map { [$0] } ?? Scope.allCases
            // Consent for every other scope is live, so a wrap for the wrong scope never lets anyone in.
            let others = Scope.allCases.filter { !mine.contains($0) }
            var references: [MatrixAssignment: String] = [:]
            for assignment in MatrixAssignment.allCases {
                references[assignment] = try await submitRecord(h, consent, mine: mine, others: others)
            }
            if consent == .expired { h.clock.advance(days: 1) }  // before anyone signs in: a day ends every session

            let supervisor = try await h.readyStaff("sue", .supervisor)
            let caller = try await h.readyStaff("caller", role)
            _ = try await h.readyStaff("colleague", role.readScope == nil ? .caseworker : role)
            for assignment in MatrixAssignment.allCases {
                let path = "/api/v1/cases/\(references[assignment]!)/assign"
                switch assignment {
                case .caller:
                    let assigned = try await h.staffPost(supervisor, path, ["staff": "caller"])
                    // Roles that never read cannot be assigned; that cell is "not assigned".
                    #expect(assigned.status == (role.readScope == nil ? 400 : 200), "assigning to \(role.rawValue): \(assigned.text)")
                case .colleague:
                    let assigned = try await h.staffPost(supervisor, path, ["staff": "colleague"])
                    #expect(assigned.status == 200, "\(assigned.text)")
                case .nobody:
                    break
                }
            }

            for assignment in MatrixAssignment.allCases {
                for action in CaseAction.allCases {
                    let reply = try await h.staffPost(caller, action.path(references[assignment]!), action.body)
                    let cell = "\(role.rawValue), consent \(consent.rawValue), assigned to \(assignment.rawValue), \(action.rawValue)"
                    if let denial = expectedDenial(role: role, consent: consent, assignment: assignment) {
                        #expect(reply.status == 403, "\(cell): \(reply.status) \(reply.text)")
                        #expect(reply.json["code"] as? String == denial, "\(cell): \(reply.text)")
                        #expect(reply.json["request"] == nil, "\(cell): a refusal carries no record")
                    } else {
                        #expect(reply.status == action.successStatus, "\(cell): \(reply.status) \(reply.text)")
                    }
                }
            }
        }
    }
}

// MARK: - Auditing of openings

/// A refused opening, set up so that exactly one gate fails.
enum RefusedOpening: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case roleCannotRead = "role-cannot-read"
    case noConsent = "no-consent"
    case notAssigned = "not-assigned"
    var testDescription: String { rawValue }
}

@Suite("Access matrix: every opening decision is audited once")
struct OpeningAuditTests {
    @Test("a successful opening writes exactly one audit event (case.open, ok) and one access-log row", arguments: TestStore.all)
    func successfulOpeningIsAuditedOnce(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, _) = try await h.submit(consents: ["support"])
            #expect(try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            let before = try await h.auditRows()

            let opened = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact"])
            #expect(opened.status == 200, "\(opened.text)")

            let added = Array(try await h.auditRows().dropFirst(before.count))
            #expect(added.count == 1, "exactly one event for one opening: \(added)")
            #expect(added.first?.action == "case.open")
            #expect(added.first?.outcome == "ok")
            #expect(added.first?.subject == reference)
            #expect(try await h.count("SELECT count(*) FROM access_log") == 1)
        }
    }

    @Test("a refused opening writes one case.open event naming the refusal, and no access-log row", arguments: RefusedOpening.allCases)
    func refusedOpeningIsAuditedWithoutAccessLog(refusal: RefusedOpening) async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, _) = try await h.submit(
                consents: refusal == .noConsent ? ["review", "police", "prosecution"] : Scope.allCases.map(\.rawValue))
            if refusal != .notAssigned {
                #expect(try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            }
            let caller = refusal == .roleCannotRead ? supervisor : alice
            let before = try await h.auditRows()

            let refused = try await h.staffPost(caller, "/api/v1/cases/\(reference)/open", ["reason": "trying"])
            #expect(refused.status == 403)
            #expect(refused.json["code"] as? String == refusal.rawValue, "\(refused.text)")

            let added = Array(try await h.auditRows().dropFirst(before.count))
            #expect(added.count == 1, "exactly one event for one refusal: \(added)")
            #expect(added.first?.action == "case.open")
            #expect(added.first?.outcome == refusal.rawValue)
            #expect(added.first?.subject == reference)
            #expect(try await h.count("SELECT count(*) FROM access_log") == 0, "a refusal is not an opening")
        }
    }
}

// MARK: - Assignment

/// Someone a supervisor must not be able to assign a case to.
enum InvalidAssignee: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case supervisor
    case privacyOfficer = "privacy-officer"
    case admin
    case disabledCaseworker = "disabled caseworker"
    case unknownUsername = "unknown username"
    var testDescription: String { rawValue }
}

@Suite("Access matrix: assignment")
struct AssignmentTests {
    @Test(
        "only a supervisor assigns: every other role gets 403 role-cannot-assign and the case stays unassigned",
        arguments: Role.allCases.filter { $0 != .supervisor })
    func onlySupervisorsAssign(role: Role) async throws {
        try await CaseworkHarness.with { h in
            let caller = try await h.readyStaff("caller", role)
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))
            var targets = ["carol"]
            if role.readScope != nil { targets.append("caller") }  // not even to oneself

            for target in targets {
                let refused = try await h.staffPost(caller, "/api/v1/cases/\(reference)/assign", ["staff": target])
                #expect(refused.status == 403, "\(role.rawValue) → \(target): \(refused.text)")
                #expect(refused.json["code"] as? String == "role-cannot-assign")
            }
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL") == 0)
            #expect(try await h.auditRows().filter { $0.action == "case.assign" }.map(\.outcome) == targets.map { _ in "role-cannot-assign" })
        }
    }

    @Test(
        "a supervisor assigns a case to an active member of a reading role, who then sees it in their queue",
        arguments: Role.allCases.filter { $0.readScope != nil })
    func supervisorAssignsToReadingRole(role: Role) async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let assignee = try await h.readyStaff("reader", role)
            let (reference, _) = try await h.submit(consents: [])
            let assigned = try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "reader"])
            #expect(assigned.status == 200, "\(assigned.text)")
            let queue = try await h.staffClient.send(.GET, "/api/v1/cases", headers: assignee.bearer)
            #expect((queue.json["cases"] as? [[String: Any]])?.compactMap { $0["reference"] as? String } == [reference])
        }
    }

    @Test("a supervisor cannot assign to anyone but an active reading role: 400 and nothing changes", arguments: InvalidAssignee.allCases)
    func assigneeMustBeActiveReadingRole(target: InvalidAssignee) async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let username: String
            switch target {
            case .supervisor: username = "sue"
            case .privacyOfficer: username = try await h.readyStaff("pat", .privacyOfficer).username
            case .admin: username = try await h.readyStaff("adam", .admin).username
            case .disabledCaseworker:
                username = try await h.readyStaff("carol", .caseworker).username
                try await h.staffService.disable(username: "carol", actor: "cli")
            case .unknownUsername: username = "nobody-here"
            }
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))

            let refused = try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": username])
            #expect(refused.status == 400, "\(refused.text)")
            #expect(refused.json["code"] as? String == "invalid-value")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL") == 0)
        }
    }
}

// MARK: - Roles that never read

@Suite("Access matrix: privacy officers and admins read nothing")
struct NonReadingRoleTests {
    @Test(
        "a privacy officer or admin gets no queue and decrypts nothing through any route, even with every consent live",
        arguments: [Role.privacyOfficer, .admin])
    func keyHoldersReadNothing(role: Role) async throws {
        try await CaseworkHarness.with { h in
            let canary = "CANARY\(UInt64.random(in: 1_000_000...9_999_999))NR"
            let caller = try await h.readyStaff("keeper", role)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue), canary: canary)

            let queue = try await h.staffClient.send(.GET, "/api/v1/cases", headers: caller.bearer)
            #expect(queue.status == 403)
            #expect(queue.json["code"] as? String == "role-cannot-read")
            var replies = [queue]
            for action in CaseAction.allCases {
                let reply = try await h.staffPost(caller, action.path(reference), action.body)
                #expect(reply.status == 403, "\(action.rawValue): \(reply.text)")
                #expect(reply.json["code"] as? String == "role-cannot-read", "\(action.rawValue): \(reply.text)")
                replies.append(reply)
            }
            #expect(replies.allSatisfy { !$0.text.contains(canary) && !$0.text.contains("Sam") }, "no answer carries record content")
            #expect(try await h.count("SELECT count(*) FROM access_log") == 0)
            #expect(try await h.count("SELECT count(*) FROM messages") == 0)
            #expect(try await h.count("SELECT count(*) FROM records WHERE status <> 'new'") == 0)
        }
    }
}
