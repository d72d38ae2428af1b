import Foundation
import HearthApp
import HearthCore
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Hummingbird
import NIOHTTP1
import Testing

// Default deny on the intake listener: every route outside `IntakeAccess.publicRoutes` is
// registered behind the survivor authenticator. These tests walk the router's own route table, so
// a route added without a receipt or session check, or a stale allowlist entry, fails here.

private func routeName(_ method: HTTPRequest.Method, _ path: String) -> String { "\(method.rawValue) \(path)" }

/// The intake listener's public allowlist, as "METHOD /path".
private let allowlist = Set(IntakeAccess.publicRoutes.map { routeName($0.0, $0.1) })

/// The route table of the router the composition root built for the harness.
private func routeTable(_ h: IntakeHarness) async throws -> RouteTable { h.assembly.routes[.intake]! }

/// A body each API route would accept from a receipt holder (so only the receipt can refuse it).
private func plausibleBody(_ method: HTTPRequest.Method, _ template: String) -> [UInt8]? {
    switch (method, template) {
    case (.post, "/api/v1/me/consents"): Array(#"{"scope":"police"}"#.utf8)
    case (.post, "/api/v1/me/messages"): Array(#"{"group":"support","text":"walking the routes"}"#.utf8)
    case (.post, _): Array("{}".utf8)
    default: nil
    }
}

/// Form fields each page post would accept from a signed-in survivor (so only the session can refuse it).
private let pageFields: [String: [(String, String)]] = [
    "/your-request/messages": [("group", "support"), ("text", "walking the routes")], "/your-request/consents/give": [("scope", "police")],
    "/your-request/consents/withdraw": [("scope", "review")],
]

@Suite("Intake: default deny without a receipt or session")
struct IntakeDefaultDenyTests {
    @Test(
        "the public allowlist names registered routes only, once each; of the API it names exactly health, the API description, submission and the published transparency figures"
    )
    func allowlistIsExact() async throws {
        try await IntakeHarness.with { h in
            let router = try await routeTable(h)
            let registered = Set(router.routes.map { routeName($0.method, $0.path.description) })
            #expect(registered.count == router.routes.count, "no route is registered twice")
            #expect(allowlist.count == IntakeAccess.publicRoutes.count, "no duplicates")
            #expect(allowlist.isSubset(of: registered), "not registered: \(allowlist.subtracting(registered))")
            let apiAllowed = allowlist.filter { $0.contains(" /api/") || $0.hasSuffix(" /healthz") }
            #expect(apiAllowed == ["GET /healthz", "GET /api/v1/openapi.json", "POST /api/v1/contact-requests", "GET /api/v1/transparency"])
            #expect(registered.subtracting(allowlist).count >= 13, "the /api/v1/me and /your-request routes are all there")
        }
    }

    @Test(
        "every route outside the public allowlist refuses a request without a receipt or session: 401 receipt-not-recognised under /api/, 303 to /return for pages, and nothing changes"
    )
    func everyRouteOutsideTheAllowlistRefuses() async throws {
        try await IntakeHarness.with(receiptFailures: 1000) { h in
            let (reference, receipt) = try await h.submit(sampleRequest(canary: "walk", consents: [["scope": "review"]]))
            let router = try await routeTable(h)
            let routes = router.routes.map { ($0.method, $0.path.description) }.filter { !allowlist.contains(routeName($0.0, $0.1)) }
            #expect(routes.count + allowlist.count == router.routes.count)
            let unknown = try Receipt.generate().displayed
            let credentials: [[(String, String)]] = [
                [], [("Authorization", "Receipt not-a-receipt")], [("Authorization", "Receipt \(unknown)")], [("Authorization", "Bearer \(receipt)")],
            ]
            try await h.withBrowser { b in
                _ = try await b.get("/return")  // a form cookie and a valid token, but no session
                for (method, template) in routes {
                    let path = template.replacingOccurrences(of: "{scope}", with: "review")
                    let name = routeName(method, template)
                    if template.hasPrefix("/api/") {
                        for headers in credentials {
                            let reply = try await h.client.send(
                                NIOHTTP1.HTTPMethod(rawValue: method.rawValue), path, body: plausibleBody(method, template), headers: headers)
                            #expect(reply.status == 401, "\(name) \(headers): \(reply.status) \(reply.text)")
                            #expect(reply.json["code"] as? String == "receipt-not-recognised", "\(name): \(reply.text)")
                            #expect(reply.headers.first(name: "WWW-Authenticate") == "Receipt")
                        }
                    } else {
                        let reply = method == .get ? try await b.get(path) : try await b.post(path, pageFields[template] ?? [])
                        #expect(reply.status == 303 && location(reply) == "/return", "\(name): \(reply.status)")
                        #expect(!reply.text.contains("walk"), "\(name)")
                    }
                }
            }
            #expect(try await h.count("records") == 1)
            #expect(try await h.wrapRows(reference: reference).map(\.scope) == ["review"])
            #expect(try await h.service.messages(h.service.authenticate(receipt: receipt)).isEmpty)
        }
    }

    @Test("a session cookie the server does not know is cleared and sent to /return on every page route outside the allowlist")
    func unknownSessionIsCleared() async throws {
        try await IntakeHarness.with { h in
            let router = try await routeTable(h)
            let pages = router.routes.map { ($0.method, $0.path.description) }
                .filter { !allowlist.contains(routeName($0.0, $0.1)) && !$0.1.hasPrefix("/api/") }
            #expect(!pages.isEmpty)
            try await h.withBrowser { b in
                _ = try await b.get("/return")
                for (method, path) in pages {
                    await b.setCookie(SurvivorPages.sessionCookie, "not-a-session")
                    let reply = method == .get ? try await b.get(path) : try await b.post(path, pageFields[path] ?? [])
                    #expect(reply.status == 303 && location(reply) == "/return", "\(routeName(method, path)): \(reply.status)")
                    #expect(reply.headers["Set-Cookie"].contains { $0.hasPrefix("\(SurvivorPages.sessionCookie)=;") && $0.contains("Max-Age=0") })
                }
            }
        }
    }
}
