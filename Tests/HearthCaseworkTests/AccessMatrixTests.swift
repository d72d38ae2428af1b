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

/// Sends any method with an optional JSON body.
private func send(
    _ h: CaseworkHarness, _ method: HTTPRequest.Method, _ path: String, json: [String: Any]?, headers: [(String, String)]
) async throws -> TestHTTPSClient.Reply {
    let body = try json.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
    return try await h.staffClient.send(NIOHTTP1.HTTPMethod(rawValue: method.rawValue), path, body: body, headers: headers)
}

/// A body each route would accept from a signed-in supervisor (so only the session can refuse it).
private func plausibleBody(_ method: HTTPRequest.Method, _ template: String, password: String = "x") -> [String: Any]? {
    switch (method, template) {
    case (.get, _), (.delete, _): nil
    case (.post, "/api/v1/session/password"): ["password": password, "newPassword": "another long password for the walk"]
    case (.post, "/api/v1/cases/{reference}/assign"): ["staff": "carol"]
    case (.post, "/api/v1/cases/{reference}/open"): ["reason": "walking the routes"]
    case (.post, "/api/v1/cases/{reference}/status"): ["status": "closed"]
    case (.post, "/api/v1/cases/{reference}/replies"): ["text": "walking the routes"]
    default: [:]
    }
}

private func fill(_ template: String, _ reference: String) -> String {
    template.replacingOccurrences(of: "{reference}", with: reference)
}

private func routeName(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method.rawValue) \(path)" }

/// The API routes that must answer without a session.
private let publicRoutes: Set<String> = ["GET /healthz", "POST /api/v1/session"]

/// The page routes that answer without a session: sign-in, the start redirect and the assets
/// (the pages' own default-deny walk is in StaffPageTests).
private let publicPageRoutes: Set<String> = Set(StaffPages.publicRoutes.map { routeName($0.0, $0.1) }).union([
    "GET /assets/hearth.css", "GET /assets/exit.js",
])

/// A second router over the harness's services, to read its route table.
private func routeTable(_ h: CaseworkHarness) async throws -> Router<HearthRequestContext> {
    try buildCaseworkRouter(
        staff: h.staffService, casework: h.casework, keyStatus: KeyStatusSource(directory: h.keys, wrapCounts: { [:] }),
        limiter: try FailureRateLimiter(), pages: try await PageSettings.load())
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
    @Test("a successful opening writes exactly one audit event (case.open, ok) and one access-log row")
    func successfulOpeningIsAuditedOnce() async throws {
        try await CaseworkHarness.with { h in
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

// MARK: - Sessions gate every route

/// A way of not having a valid session.
enum MissingSession: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case none = "no credentials"
    case garbageBearer = "a garbage bearer token"
    case unknownBearer = "a well-formed bearer token that was never issued"
    case garbageCookie = "a garbage session cookie"
    case expiredSession = "an idle-expired session"
    var testDescription: String { rawValue }
}

@Suite("Access matrix: default deny without a session")
struct SessionGateTests {
    @Test("the lists of API and page session routes name every registered route except the public ones")
    func sessionRouteListIsComplete() async throws {
        try await CaseworkHarness.with { h in
            let router = try await routeTable(h)
            let registered = Set(router.routes.map { routeName($0.method, $0.path.description) })
            let listed = Set((CaseworkRoutes.sessionRoutes + StaffPages.sessionRoutes).map { routeName($0.0, $0.1) })
            #expect(listed.count == CaseworkRoutes.sessionRoutes.count + StaffPages.sessionRoutes.count, "no duplicates")
            let everything = listed.union(publicRoutes).union(publicPageRoutes)
            #expect(
                registered == everything, "unlisted: \(registered.subtracting(everything)), not registered: \(everything.subtracting(registered))")
        }
    }

    @Test("every session route answers 401 not-signed-in, and changes nothing", arguments: MissingSession.allCases)
    func everySessionRouteNeedsASession(credential: MissingSession) async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))
            let routes = CaseworkRoutes.sessionRoutes
            var headers: [[(String, String)]]
            switch credential {
            case .none: headers = routes.map { _ in [] }
            case .garbageBearer: headers = routes.map { _ in [("Authorization", "Bearer not-a-session-token!")] }
            case .unknownBearer:
                let token = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                headers = routes.map { _ in [("Authorization", "Bearer \(token)")] }
            case .garbageCookie: headers = routes.map { _ in [("Cookie", "\(CaseworkRoutes.cookieName)=garbage")] }
            case .expiredSession:
                // A fresh session per route, so each route meets the timeout itself rather than a deleted row.
                headers = []
                for _ in routes {
                    let login = try await h.login(sue)
                    let token = try #require(login.json["token"] as? String)
                    headers.append([("Authorization", "Bearer \(token)")])
                }
                h.clock.advance(seconds: StaffService.idleTimeout + 1)
            }
            let auditBefore = try await h.auditRows().count

            for ((method, template), header) in zip(routes, headers) {
                let reply = try await send(
                    h, method, fill(template, reference), json: plausibleBody(method, template, password: sue.password), headers: header)
                #expect(reply.status == 401, "\(routeName(method, template)) with \(credential.rawValue): \(reply.status) \(reply.text)")
                #expect(reply.json["code"] as? String == "not-signed-in", "\(routeName(method, template)): \(reply.text)")
            }
            let added = try await h.auditRows().dropFirst(auditBefore)
            #expect(added.isEmpty, "nothing was done: \(Array(added))")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL OR status <> 'new'") == 0)
            #expect(try await h.count("SELECT count(*) FROM messages") + h.count("SELECT count(*) FROM access_log") == 0)
        }
    }

    @Test("without a session, of the API routes only GET /healthz and POST /api/v1/session answer")
    func onlyPublicRoutesAnswerWithoutASession() async throws {
        try await CaseworkHarness.with { h in
            let (reference, _) = try await h.submit(consents: ["support"])
            let router = try await routeTable(h)
            var answered: Set<String> = []
            // The page routes redirect to the sign-in page instead; StaffPageTests walks them.
            for route in router.routes where route.path.description.hasPrefix("/api/") || route.path.description == "/healthz" {
                let template = route.path.description
                let reply = try await send(h, route.method, fill(template, reference), json: plausibleBody(route.method, template), headers: [])
                let gated = reply.status == 401 && reply.json["code"] as? String == "not-signed-in"
                if !gated { answered.insert(routeName(route.method, template)) }
            }
            #expect(router.routes.count > publicRoutes.count)
            #expect(answered == publicRoutes)
        }
    }

    @Test("while the one-time password is unchanged, every session route but the password change and sign-out answers 403 password-change-required")
    func oneTimePasswordGatesEverything() async throws {
        try await CaseworkHarness.with { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: ["support"])
            // A fresh caseworker with the case assigned and consent live: only the password stands in the way.
            let fresh = try await h.addStaff("fern", .caseworker)
            #expect(try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "fern"]).status == 200)
            let first = try await h.login(fresh)
            #expect(first.json["mustChangePassword"] as? Bool == true)
            let token = try #require(first.json["token"] as? String)
            let bearer = [("Authorization", "Bearer \(token)")]
            let auditBefore = try await h.auditRows().count

            let allowed: Set<String> = ["POST /api/v1/session/password", "DELETE /api/v1/session"]
            for (method, template) in CaseworkRoutes.sessionRoutes where !allowed.contains(routeName(method, template)) {
                let reply = try await send(h, method, fill(template, reference), json: plausibleBody(method, template), headers: bearer)
                #expect(reply.status == 403, "\(routeName(method, template)): \(reply.status) \(reply.text)")
                #expect(reply.json["code"] as? String == "password-change-required", "\(routeName(method, template)): \(reply.text)")
            }
            #expect(try await h.auditRows().dropFirst(auditBefore).isEmpty, "nothing was done")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL AND status = 'new'") == 1)

            // The two allowed routes answer on a gated session.
            #expect(try await h.staffClient.send(.DELETE, "/api/v1/session", headers: bearer).status == 204)
            let second = try await h.login(fresh)
            let again = [("Authorization", "Bearer \(try #require(second.json["token"] as? String))")]
            let changed = try await send(
                h, .post, "/api/v1/session/password", json: ["password": fresh.password, "newPassword": "fern's long new password"], headers: again)
            #expect(changed.status == 204, "\(changed.text)")
            // Once changed, the same session does what was refused.
            let opened = try await send(h, .post, "/api/v1/cases/\(reference)/open", json: ["reason": "first contact"], headers: again)
            #expect(opened.status == 200, "\(opened.text)")
        }
    }
}
