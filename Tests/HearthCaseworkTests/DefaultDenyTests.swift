import Foundation
import HearthApp
import HearthCasework
import HearthCore
import HearthHTTP
import HearthTestSupport
import Hummingbird
import NIOHTTP1
import Testing

// Default deny on the casework listener: every route outside `CaseworkAccess.publicRoutes` is
// registered behind the staff authenticator. These tests walk the router's own route table, so a
// route added without a session check, or a stale allowlist entry, fails here.

// MARK: - Helpers

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

func routeName(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method.rawValue) \(path)" }

/// The API routes that must answer without a session, stated here independently of the allowlist.
private let publicRoutes: Set<String> = ["GET /healthz", "POST /api/v1/session"]

/// The casework listener's public allowlist, as "METHOD /path".
private let allowlist = Set(CaseworkAccess.publicRoutes.map { routeName($0.0, $0.1) })

/// Every registered route outside the public allowlist, as (method, path template), in the router's order.
func sessionRoutes(_ router: RouteTable) -> [(HTTPRequest.Method, String)] {
    router.routes.map { ($0.method, $0.path.description) }.filter { !allowlist.contains(routeName($0.0, $0.1)) }
}

/// The API routes outside the allowlist.
private func apiSessionRoutes(_ router: RouteTable) -> [(HTTPRequest.Method, String)] {
    sessionRoutes(router).filter { $0.1.hasPrefix("/api/") }
}

/// The route table of the router the composition root built for the harness.
func routeTable(_ h: CaseworkHarness) async throws -> RouteTable { h.assembly.routes[.casework]! }

/// Form fields each page post would accept from a signed-in supervisor (so only the session can refuse it).
let pageFields: [String: [(String, String)]] = [
    "/password": [("password", "x"), ("newPassword", "another long password"), ("confirmPassword", "another long password")],
    "/cases/{reference}/assign": [("staff", "carol")], "/cases/{reference}/open": [("reason", "walking the routes")],
    "/cases/{reference}/replies": [("text", "walking the routes")], "/cases/{reference}/status": [("status", "closed")],
]

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
    @Test("the public allowlist names registered routes only, once each; of the API it names exactly GET /healthz and POST /api/v1/session")
    func allowlistIsExact() async throws {
        try await CaseworkHarness.with { h in
            let router = try await routeTable(h)
            let registered = Set(router.routes.map { routeName($0.method, $0.path.description) })
            #expect(registered.count == router.routes.count, "no route is registered twice")
            #expect(allowlist.count == CaseworkAccess.publicRoutes.count, "no duplicates")
            #expect(allowlist.isSubset(of: registered), "not registered: \(allowlist.subtracting(registered))")
            let apiAllowed = allowlist.filter { $0.contains(" /api/") || $0.hasSuffix(" /healthz") }
            #expect(apiAllowed == publicRoutes)
            #expect(apiSessionRoutes(router).count >= 7, "the session and case routes are all there")
        }
    }

    @Test("every route outside the public allowlist refuses a request without a session: 401 not-signed-in under /api/, 303 to /login for pages")
    func everyRouteOutsideTheAllowlistRefuses() async throws {
        try await CaseworkHarness.with { h in
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))
            let router = try await routeTable(h)
            let b = h.browser()
            _ = try await b.get("/login")  // a form cookie and a valid token, but no session
            let auditBefore = try await h.auditRows().count

            let routes = sessionRoutes(router)
            #expect(routes.count + allowlist.count == router.routes.count)
            for (method, template) in routes {
                let path = fill(template, reference)
                if template.hasPrefix("/api/") {
                    let reply = try await send(h, method, path, json: plausibleBody(method, template), headers: [])
                    #expect(reply.status == 401, "\(routeName(method, template)): \(reply.status) \(reply.text)")
                    #expect(reply.json["code"] as? String == "not-signed-in", "\(routeName(method, template)): \(reply.text)")
                    #expect(reply.headers.first(name: "WWW-Authenticate") == "Bearer")
                } else {
                    let reply = method == .get ? try await b.get(path) : try await b.post(path, pageFields[template] ?? [])
                    #expect(reply.status == 303 && location(reply) == "/login", "\(routeName(method, template)): \(reply.status)")
                    #expect(!reply.text.contains("Sam"), "\(routeName(method, template))")
                }
            }
            #expect(try await h.auditRows().count == auditBefore, "nothing was done")
            #expect(try await h.count("SELECT count(*) FROM records WHERE assignee IS NOT NULL OR status <> 'new'") == 0)
            #expect(try await h.count("SELECT count(*) FROM messages") + h.count("SELECT count(*) FROM access_log") == 0)
        }
    }

    @Test("every session route answers 401 not-signed-in, and changes nothing", arguments: MissingSession.allCases)
    func everySessionRouteNeedsASession(credential: MissingSession) async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            _ = try await h.readyStaff("carol", .caseworker)
            let (reference, _) = try await h.submit(consents: Scope.allCases.map(\.rawValue))
            let routes = apiSessionRoutes(try await routeTable(h))
            #expect(!routes.isEmpty)
            var headers: [[(String, String)]]
            switch credential {
            case .none: headers = routes.map { _ in [] }
            case .garbageBearer: headers = routes.map { _ in [("Authorization", "Bearer not-a-session-token!")] }
            case .unknownBearer:
                let token = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                headers = routes.map { _ in [("Authorization", "Bearer \(token)")] }
            case .garbageCookie: headers = routes.map { _ in [("Cookie", "\(StaffSessions.cookieName)=garbage")] }
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
            for (method, template) in apiSessionRoutes(try await routeTable(h)) where !allowed.contains(routeName(method, template)) {
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
