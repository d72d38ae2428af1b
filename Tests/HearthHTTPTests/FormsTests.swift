import HTTPTypes
import HearthCore
import HearthHTTP
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Forms: strict parsing, CSRF tokens, one-time tokens, in-memory sessions")
struct FormsTests {
    @Test("urlencoded fields decode plus signs, percent escapes and repeated names, in order")
    func parsesFields() throws {
        let f = try FormFields.parse(Array("a=1&name=Jo+%C3%A9+%26+co&wants=support&wants=reopen&empty=&flag".utf8))
        #expect(f.value("a") == "1")
        #expect(f.value("name") == "Jo é & co")
        #expect(f.values("wants") == ["support", "reopen"])
        #expect(f.value("empty") == "" && f.trimmed("empty") == nil)
        #expect(f.value("flag") == "")
        #expect(f.value("missing") == nil)
    }

    @Test(
        "broken percent escapes, invalid UTF-8 and control characters are refused",
        arguments: ["a=%", "a=%4", "a=%zz", "a=%C3%28", "a=%00", "a=x%1By", "%FF=1"])
    func refusesMalformed(body: String) {
        #expect(throws: Problem.self) { try FormFields.parse(Array(body.utf8)) }
    }

    @Test("line breaks are kept (normalised to \\n) and tabs allowed")
    func keepsLineBreaks() throws {
        let f = try FormFields.parse(Array("t=one%0D%0Atwo%0Athree%09x".utf8))
        #expect(f.value("t") == "one\ntwo\nthree\tx")
    }

    @Test("a token is bound to the browser's cookie and to this process's key")
    func csrfTokenBinding() async throws {
        let guardA = try FormGuard(clock: TestClock())
        let guardB = try FormGuard(clock: TestClock())
        let router = Router(context: HearthRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/form") { request, _ -> Response in
            let (token, setCookie) = try guardA.prepare(request)
            var h: HTTPFields = [.contentType: "text/plain"]
            if let setCookie { h[.setCookie] = setCookie }
            return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: token)))
        }
        router.post("/form") { request, _ -> Response in
            let fields = try await FormFields.read(request, allowed: ["x"])
            try guardA.verify(request, fields)
            return Response(status: .noContent)
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let (token, cookie) = try await client.execute(uri: "/form", method: .get) { response in
                let setCookie = try #require(response.headers[.setCookie])
                #expect(setCookie.hasPrefix("__Host-hearth-form=") && setCookie.contains("Secure") && setCookie.contains("HttpOnly"))
                #expect(setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
                let pair = String(setCookie.split(separator: ";")[0])
                return (String(buffer: response.body), pair)
            }
            // The same browser keeps its cookie: no new Set-Cookie, same token.
            try await client.execute(uri: "/form", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.headers[.setCookie] == nil)
                #expect(String(buffer: response.body) == token)
            }
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: cookie]
            func post(_ body: String, headers: HTTPFields) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/form", method: .post, headers: headers, body: ByteBuffer(string: body)) { $0.status }
            }
            #expect(try await post("x=1&csrf=\(token)", headers: form) == .noContent)
            #expect(try await post("x=1", headers: form) == .forbidden)
            #expect(try await post("x=1&csrf=", headers: form) == .forbidden)
            let altered = token.dropLast() + (token.hasSuffix("A") ? "B" : "A")
            #expect(try await post("x=1&csrf=\(altered)", headers: form) == .forbidden)
            var noCookie = form
            noCookie[.cookie] = nil
            #expect(try await post("x=1&csrf=\(token)", headers: noCookie) == .forbidden)
            var otherCookie = form
            otherCookie[.cookie] = "__Host-hearth-form=\(String(repeating: "A", count: 43))"
            #expect(try await post("x=1&csrf=\(token)", headers: otherCookie) == .forbidden)
            #expect(try await post("x=1&unknown=2&csrf=\(token)", headers: form) == .badRequest)
            var json = form
            json[.contentType] = "application/json"
            #expect(try await post("{}", headers: json) == .unsupportedMediaType)
        }
        // Another process (another key) would not accept this process's tokens.
        let value = String(repeating: "B", count: 43)
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "https", authority: "x", path: "/", headerFields: [.cookie: "__Host-hearth-form=\(value)"]),
            body: .init(buffer: ByteBuffer()))
        let fromA = try guardA.prepare(request).token
        let fromB = try guardB.prepare(request).token
        #expect(fromA != fromB)
        #expect(throws: Problem.self) { try guardB.verify(request, try FormFields.parse(Array("csrf=\(fromA)".utf8))) }
        try guardA.verify(request, try FormFields.parse(Array("csrf=\(fromA)".utf8)))
    }

    @Test("a one-time token is accepted once, never after it expires, and never when altered")
    func oneTimeTokens() throws {
        let clock = TestClock()
        let forms = try FormGuard(clock: clock)
        let token = try forms.issueOnce()
        #expect(forms.redeemOnce(token))
        #expect(!forms.redeemOnce(token), "a replay is refused")

        let altered = try forms.issueOnce()
        var bytes = Array(altered.utf8)
        bytes[5] = bytes[5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(!forms.redeemOnce(String(decoding: bytes, as: UTF8.self)))
        #expect(!forms.redeemOnce(""))
        #expect(!forms.redeemOnce("not base64url!"))

        let late = try forms.issueOnce()
        clock.advance(seconds: FormGuard.onceLifetime + 1)
        #expect(!forms.redeemOnce(late), "an expired token is refused")

        let other = try FormGuard(clock: clock)
        #expect(!other.redeemOnce(try forms.issueOnce()), "another process's token is refused")
    }

    @Test("sessions end after the idle time, after the absolute time, when removed, and the oldest go first when full")
    func ephemeralSessions() throws {
        let clock = TestClock()
        let sessions = try EphemeralSessions<String>(idle: 60, absolute: 300, capacity: 3, clock: clock)
        let a = try sessions.create("a")
        #expect(sessions.lookup(a) == "a")
        #expect(sessions.lookup(nil) == nil && sessions.lookup("short") == nil)
        #expect(sessions.lookup(String(repeating: "A", count: 43)) == nil)

        clock.advance(seconds: 59)
        #expect(sessions.lookup(a) == "a", "use keeps it alive")
        clock.advance(seconds: 59)
        #expect(sessions.lookup(a) == "a")
        clock.advance(seconds: 60)
        #expect(sessions.lookup(a) == nil, "idle for a minute ends it")

        let b = try sessions.create("b")
        for _ in 0..<6 {
            clock.advance(seconds: 50)
            _ = sessions.lookup(b)
        }
        #expect(sessions.lookup(b) == nil, "the absolute limit ends it even when in use")

        let c = try sessions.create("c")
        sessions.remove(c)
        #expect(sessions.lookup(c) == nil)

        let d = try sessions.create("d")
        clock.advance(seconds: 1)
        let e = try sessions.create("e")
        clock.advance(seconds: 1)
        let f = try sessions.create("f")
        clock.advance(seconds: 1)
        let g = try sessions.create("g")
        #expect(sessions.count == 3)
        #expect(sessions.lookup(d) == nil, "the oldest went first")
        #expect(sessions.lookup(e) == "e" && sessions.lookup(f) == "f" && sessions.lookup(g) == "g")
        sessions.removeAll { $0 == "f" }
        #expect(sessions.lookup(f) == nil && sessions.lookup(g) == "g")
    }

    @Test("errors on page routes render HTML with the right status; API routes keep JSON")
    func htmlErrors() async throws {
        let router = Router(context: HearthRequestContext.self)
        router.add(
            middleware: ErrorMiddleware(htmlPage: { status, code, message in
                Response(
                    status: status, headers: [.contentType: "text/html; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "<p>\(code): \(sentence(message))</p>")))
            }))
        router.get("/page") { _, _ -> Response in throw Problem(.forbidden, code: "no-consent", "the survivor has not agreed") }
        router.get("/api/v1/thing") { _, _ -> Response in throw Problem(.forbidden, code: "no-consent", "the survivor has not agreed") }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/page", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body) == "<p>no-consent: The survivor has not agreed.</p>")
            }
            try await client.execute(uri: "/api/v1/thing", method: .get) { response in
                #expect(response.status == .forbidden)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("not-found"))
            }
        }
    }
}
