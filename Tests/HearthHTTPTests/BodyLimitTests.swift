import HTTPTypes
import HearthCore
import HearthHTTP
import HearthTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Issue 15, "no penalty for script": a body limit is sized from the text limits, so the longest
/// texts fit in any script however they are encoded, and it grows only on the routes that need it.
@Suite("Body limits: sized from the text limits, per route")
struct BodyLimitTests {
    @Test("no character takes more than 12 bytes, percent-encoded or JSON-escaped; a 4-byte one takes exactly 12")
    func bytesPerCharacter() {
        for scalar in ["a", "é", "ক", "\u{FFFD}", "𞤀", "\u{10FFFF}", "\n"].map({ $0.unicodeScalars.first! }) {
            let text = String(scalar)
            let percentEncoded = PageBrowser.encode(text).utf8.count
            let escaped = escapedJSON(text).utf8.count - 2
            #expect(percentEncoded <= RequestLimits.bytesPerCharacter && escaped <= RequestLimits.bytesPerCharacter, "\(scalar)")
        }
        #expect(PageBrowser.encode("𞤀").utf8.count == 12 && escapedJSON("𞤀") == #""\uD83A\uDD00""#)
        #expect(PageBrowser.encode("\r\n").utf8.count == 6, "a line break as a browser sends it is one character once read")
    }

    @Test("each route family's limit is its longest texts at 12 bytes a character plus 16 KiB, in whole KiB, never under 64 KiB")
    func limitsComeFromTheTextLimits() {
        #expect(RequestLimits.standardBodyBytes == 64 * 1024)
        #expect(RequestLimits.submissionBodyBytes == 229 * 1024, "18,160 characters: 217,920 + 16,384 bytes, rounded up")
        #expect(RequestLimits.messageBodyBytes == 75 * 1024, "5,000 characters: 60,000 + 16,384 bytes, rounded up")
        #expect(RequestLimits.interviewAnswerBodyBytes == 64 * 1024, "3,060 characters: 53,104 bytes, so the standard")
        #expect(RequestLimits.invitationBodyBytes == 64 * 1024, "2,000 characters: 40,384 bytes, so the standard")
        for (characters, bytes) in [
            (Limits.submissionCharacters, RequestLimits.submissionBodyBytes), (Limits.message, RequestLimits.messageBodyBytes),
            (Limits.interviewAnswerCharacters, RequestLimits.interviewAnswerBodyBytes), (Limits.interviewPurpose, RequestLimits.invitationBodyBytes),
        ] {
            #expect(bytes >= characters * RequestLimits.bytesPerCharacter + RequestLimits.structureBytes)
            #expect(bytes % 1024 == 0)
        }
    }

    @Test("the standard limit holds every text of the routes that keep it, at 12 bytes a character, with the same room to spare")
    func standardHoldsTheSmallTexts() {
        // Opening a case (a reason), a check phrase, sign-in (a username and password), consents.
        for characters in [Limits.reason, Limits.verificationPhrase.upperBound, 64 + 128, 3 * 128] {
            #expect(characters * RequestLimits.bytesPerCharacter + RequestLimits.structureBytes <= RequestLimits.standardBodyBytes)
        }
    }

    @Test("a route in the table gets its limit, matched as the router matches it; any other method or path gets the standard one")
    func matching() {
        let limits = BodyLimitMiddleware<HearthRequestContext>([(.post, "/big", 100 * 1024), (.post, "/cases/:reference/replies", 80 * 1024)])
        #expect(limits.bodyBytes(.post, path: "/big") == 100 * 1024)
        #expect(limits.bodyBytes(.post, path: "/big/") == 100 * 1024)
        #expect(limits.bodyBytes(.post, path: "/cases/HR-1/replies") == 80 * 1024)
        #expect(limits.bodyBytes(.put, path: "/big") == RequestLimits.standardBodyBytes)
        #expect(limits.bodyBytes(.post, path: "/big/more") == RequestLimits.standardBodyBytes)
        #expect(limits.bodyBytes(.post, path: "/cases/replies") == RequestLimits.standardBodyBytes)
        #expect(limits.bodyBytes(.post, path: "/small") == RequestLimits.standardBodyBytes)
        #expect(RequestLimits.bodyBytes == RequestLimits.standardBodyBytes, "outside a request, the standard limit")
    }

    @Test("the readers take a body of exactly the route's limit and refuse one byte more with 413 naming it, with or without Content-Length")
    func readersUseTheRoutesLimit() async throws {
        let big = 100 * 1024
        let router = Router(context: HearthRequestContext.self)
        router.add(middleware: BodyLimitMiddleware([(.post, "/big/:id", big), (.post, "/big-form", big)]))
        router.add(middleware: ErrorMiddleware())
        for path in ["/big/:id", "/small"] {
            router.post(RouterPath(path)) { request, _ -> Response in
                _ = try await JSONInput.read(request)
                return Response(status: .noContent)
            }
        }
        router.post("/big-form") { request, _ -> Response in
            _ = try await FormFields.read(request, allowed: ["x"])
            return Response(status: .noContent)
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            func post(_ path: String, _ body: [UInt8], json: Bool = true, length: Bool) async throws -> (HTTPResponse.Status, String) {
                var headers: HTTPFields = [.contentType: json ? "application/json" : "application/x-www-form-urlencoded"]
                if length { headers[.contentLength] = String(body.count) }
                return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            for length in [true, false] {
                #expect(try await post("/big/1", padded("{}", to: big, with: " "), length: length).0 == .noContent)
                let over = try await post("/big/1", padded("{}", to: big + 1, with: " "), length: length)
                #expect(over.0 == .contentTooLarge && over.1.contains("body-too-large") && over.1.contains("larger than 100 KiB"), "\(over)")
                #expect(try await post("/big-form", padded("x=1", to: big, with: "&"), json: false, length: length).0 == .noContent)
                #expect(try await post("/big-form", padded("x=1", to: big + 1, with: "&"), json: false, length: length).0 == .contentTooLarge)
                let standard = RequestLimits.standardBodyBytes
                #expect(try await post("/small", padded("{}", to: standard, with: " "), length: length).0 == .noContent)
                let small = try await post("/small", padded("{}", to: standard + 1, with: " "), length: length)
                #expect(small.0 == .contentTooLarge && small.1.contains("larger than 64 KiB"), "\(small)")
            }
        }
    }
}
