import Foundation
public import HearthCore
public import HearthHTTP
public import Hummingbird
import Logging
import NIOCore

/// The survivor side over HTTP: a short, visible list of routes; everything else is 404.
///
/// Public routes: `GET /healthz`, `GET /api/v1/openapi.json`, `POST /api/v1/contact-requests`.
/// Routes under `/api/v1/me` need `Authorization: Receipt …`.
public struct IntakeRoutes: Sendable {
    let service: SurvivorService
    let limiter: FailureRateLimiter

    /// Creates the routes over a survivor service and a failed-look-up limiter.
    public init(service: SurvivorService, limiter: FailureRateLimiter) {
        self.service = service
        self.limiter = limiter
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody.response(status: .ok, ["status": "ok"]) }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        router.post("/api/v1/contact-requests") { request, context in try await submit(request, context) }
        router.get("/api/v1/me") { request, context in try await me(request, context) }
        router.post("/api/v1/me/consents") { request, context in try await grant(request, context) }
        router.delete("/api/v1/me/consents/:scope") { request, context in try await withdraw(request, context) }
        router.delete("/api/v1/me") { request, context in try await erase(request, context) }
        router.get("/api/v1/me/messages") { request, context in try await messages(request, context) }
        router.post("/api/v1/me/messages") { request, context in try await writeMessage(request, context) }
        router.get("/api/v1/me/access") { request, context in try await access(request, context) }
    }

    // MARK: Handlers

    func submit(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let json = try await readJSON(request)
        let submission = try Submission.validate(json, today: service.today)
        let result = try await service.submit(submission)
        return JSONBody.response(
            status: .created,
            SubmissionBody(
                reference: result.reference, receipt: result.receipt, consents: result.consents.map(ConsentBody.init),
                retention: RetentionBody(service.retention)))
    }

    func me(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let view = try await service.view(survivor)
        return JSONBody.response(status: .ok, MeBody(view, retention: service.retention))
    }

    func grant(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let json = try await readJSON(request)
        let choice = try ConsentChoice.validate(json, today: service.today)
        let live = try await service.grant(choice, for: survivor)
        return JSONBody.response(status: .ok, ["consents": live.map(ConsentBody.init)])
    }

    func withdraw(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let name = context.parameters.get("scope") ?? ""
        guard let scope = Scope(rawValue: name) else {
            throw Problem(
                .badRequest, code: "invalid-value",
                "unknown scope; use one of: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let live = try await service.withdraw(scope, for: survivor)
        return JSONBody.response(status: .ok, ["consents": live.map(ConsentBody.init)])
    }

    func erase(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        try await service.erase(survivor)
        return Response(status: .noContent)
    }

    func messages(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let thread = try await service.messages(survivor)
        return JSONBody.response(status: .ok, ["messages": thread.map(MessageBody.init)])
    }

    func writeMessage(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let fields = try FieldReader(try await readJSON(request), allowed: ["text"])
        let text = try fields.requiredText("text", maxLength: Limits.message, multiline: true)
        try await service.writeMessage(text, for: survivor)
        let thread = try await service.messages(survivor)
        return JSONBody.response(status: .created, ["messages": thread.map(MessageBody.init)])
    }

    func access(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let survivor = try await authenticate(request, context)
        let log = try await service.accessLog(survivor)
        return JSONBody.response(status: .ok, ["access": log.map(AccessBody.init)])
    }

    // MARK: Input

    /// Checks the receipt in `Authorization: Receipt …`; see ``authenticate(receipt:_:)``.
    func authenticate(_ request: Request, _ context: HearthRequestContext) async throws -> AuthenticatedSurvivor {
        var receipt: String?
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "receipt" { receipt = String(parts[1]) }
        }
        return try await authenticate(receipt: receipt, context)
    }

    /// Checks a receipt however it was sent (API header or the survivor pages' form); failed
    /// look-ups are rate limited per connecting address, in one limiter for both.
    func authenticate(receipt: String?, _ context: HearthRequestContext) async throws -> AuthenticatedSurvivor {
        if let wait = limiter.retryAfter(context.peerAddress) {
            throw ProblemResponse(
                Problem(.rateLimited, code: "rate-limited", "too many receipts were not recognised; please wait \(wait) seconds and try again"),
                headers: [.retryAfter: "\(wait)"])
        }
        do {
            return try await service.authenticate(receipt: receipt)
        } catch let p as Problem where p == .receiptNotRecognised {
            limiter.recordFailure(context.peerAddress)
            throw p
        }
    }

    func readJSON(_ request: Request) async throws -> JSONValue { try await JSONInput.read(request) }
}

/// Builds the intake router: routes plus security headers, error mapping and access log.
public func buildIntakeRouter(service: SurvivorService, limiter: FailureRateLimiter, pages: PageSettings) throws -> Router<HearthRequestContext> {
    let router = Router(context: HearthRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: AccessLogMiddleware())
    let renderer = pages.renderer
    router.add(
        middleware: ErrorMiddleware(htmlPage: { status, _, message in
            renderer.page("survivor-error", status: status, ["heading": errorHeading(status), "message": sentence(message)])
        }))
    Assets.register(on: router)
    let api = IntakeRoutes(service: service, limiter: limiter)
    api.register(on: router)
    // Survivor sessions live in this process's memory only.
    SurvivorPages(api: api, pages: pages, sessions: try SurvivorPages.makeSessions(clock: pages.clock)).register(on: router)
    return router
}

/// The committed OpenAPI document, served at `/api/v1/openapi.json`.
public enum OpenAPIDocument {
    /// The document's bytes.
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array(#"{"error":"the API description is missing from this build","code":"internal"}"#.utf8)
        }
        return Array(data)
    }()
}
