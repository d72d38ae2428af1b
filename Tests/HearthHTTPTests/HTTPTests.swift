import HTTPTypes
import HearthCore
import HearthHTTP
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

struct SomeInternalFailure: Error, CustomStringConvertible {
    var description: String { "database exploded near SECRET-DETAIL" }
}

func testRouter() -> Router<HearthRequestContext> {
    let router = Router(context: HearthRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.get("/ok") { _, _ in JSONBody.response(status: .ok, ["ok": true]) }
    router.get("/internal") { _, _ -> Response in throw SomeInternalFailure() }
    router.get("/problem") { _, _ -> Response in throw Problem(.badRequest, code: "invalid-value", "'x' must be one of: a, b") }
    router.get("/unauthorised") { _, _ -> Response in throw Problem.receiptNotRecognised }
    return router
}

@Suite("Shared HTTP behaviour")
struct HTTPTests {
    static let requiredHeaders: [(HTTPField.Name, String)] = [
        (.strictTransportSecurity, "max-age=63072000; includeSubDomains"),
        (.cacheControl, "no-store"),
        (.xContentTypeOptions, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
    ]

    @Test(
        "every answer, errors and 404s included, carries the security headers",
        arguments: ["/ok", "/internal", "/problem", "/unauthorised", "/missing"])
    func securityHeadersEverywhere(path: String) async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                for (name, value) in Self.requiredHeaders {
                    #expect(response.headers[name] == value, "\(name) on \(path)")
                }
                let csp = try #require(response.headers[.contentSecurityPolicy])
                #expect(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"))
            }
        }
    }

    @Test("an internal failure answers a plain 500 that reveals nothing of the error")
    func internalErrorsSayNothing() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/internal", method: .get) { response in
                #expect(response.status == .internalServerError)
                let body = String(buffer: response.body)
                #expect(!body.contains("SECRET-DETAIL") && !body.contains("exploded"))
                #expect(body.contains("\"code\":\"internal\""))
            }
        }
    }

    @Test("a problem maps to its status, code and message; a bad receipt adds WWW-Authenticate")
    func problemsMapToStatus() async throws {
        let app = Application(router: testRouter())
        try await app.test(.router) { client in
            try await client.execute(uri: "/problem", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body) == #"{"code":"invalid-value","error":"'x' must be one of: a, b"}"#)
            }
            try await client.execute(uri: "/unauthorised", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Receipt")
            }
        }
    }

    @Test("the failure limiter allows a burst, then asks the same address to wait; other addresses are unaffected")
    func limiterBuckets() throws {
        let limiter = try FailureRateLimiter(burst: 2, refillPerSecond: 0.01)
        let a = PeerIdentity.of(try SocketAddress(ipAddress: "192.0.2.1", port: 1000))
        let b = PeerIdentity.of(try SocketAddress(ipAddress: "192.0.2.2", port: 1000))
        #expect(limiter.retryAfter(a) == nil)
        limiter.recordFailure(a)
        #expect(limiter.retryAfter(a) == nil)
        limiter.recordFailure(a)
        let wait = try #require(limiter.retryAfter(a))
        #expect(wait >= 1)
        #expect(limiter.retryAfter(b) == nil)
        #expect(limiter.retryAfter(PeerIdentity.of(try SocketAddress(ipAddress: "192.0.2.1", port: 2000))) != nil, "the port plays no part")
    }

    @Test("reserving counts attempts before their work: a burst of reservations uses the bucket up, a refund gives one back")
    func limiterReservations() throws {
        let limiter = try FailureRateLimiter(burst: 3, refillPerSecond: 0.001)
        let a = PeerIdentity.of(try SocketAddress(ipAddress: "192.0.2.1", port: 1000))
        let outcomes = (0..<5).map { _ in limiter.reserve(a) }
        #expect(outcomes.prefix(3).allSatisfy { $0 == nil }, "\(outcomes)")
        #expect(outcomes.suffix(2).allSatisfy { ($0 ?? 0) >= 1 }, "\(outcomes)")
        limiter.refund(a)
        #expect(limiter.reserve(a) == nil, "the refunded attempt frees one")
        #expect(limiter.reserve(a) != nil)
    }

    @Test("Tor circuits have buckets of their own, apart from each other and from addresses, and are never described")
    func limiterCircuits() throws {
        let limiter = try FailureRateLimiter(burst: 1, refillPerSecond: 0.01)
        limiter.recordFailure(.torCircuit(7))
        #expect(limiter.retryAfter(.torCircuit(7)) != nil)
        #expect(limiter.retryAfter(.torCircuit(8)) == nil)
        // The circuit's number as an address is another key.
        #expect(limiter.retryAfter(.address("7")) == nil)
        #expect(limiter.retryAfter(.address("0.0.0.7")) == nil)
        #expect(!"\(PeerIdentity.torCircuit(0xAABB_CCDD))".lowercased().contains("aabbccdd"))
        #expect(!"\(PeerIdentity.torCircuit(0xAABB_CCDD))".contains("2864434397"))
        #expect(!"\(PeerIdentity.address("192.0.2.1"))".contains("192.0.2.1"))
    }

    @Test("the server TLS configuration allows TLS 1.2 and 1.3 only, with intermediate suites")
    func tlsPolicy() throws {
        #expect(!HearthTLS.intermediateCipherSuites.contains("CBC"))
        #expect(!HearthTLS.intermediateCipherSuites.contains("RSA-AES128-SHA"))
        #expect(HearthTLS.intermediateCipherSuites.split(separator: ":").allSatisfy { $0.hasPrefix("ECDHE-") })
    }
}
