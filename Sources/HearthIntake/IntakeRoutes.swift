import Foundation
public import HearthCore
public import HearthHTTP
public import Hummingbird
import Logging
import NIOCore

/// The survivor side over HTTP: a short, visible list of routes; everything else is 404.
///
/// Public routes: `GET /healthz`, `GET /api/v1/openapi.json`, `POST /api/v1/contact-requests`.
/// Routes under `/api/v1/me` are registered behind ``SurvivorAuthenticator`` and need
/// `Authorization: Receipt …`.
public struct IntakeRoutes: Sendable {
    let service: SurvivorService
    let receipts: ReceiptCheck
    let gate: SubmissionGate

    /// Creates the routes over a survivor service, a failed-look-up limiter and the submission gate.
    public init(service: SurvivorService, limiter: FailureRateLimiter, gate: SubmissionGate) {
        self.service = service
        receipts = ReceiptCheck(service: service, limiter: limiter)
        self.gate = gate
    }

    /// Adds the public routes to `router`, and the others behind the receipt check.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody.response(status: .ok, ["status": "ok"]) }
        router.get("/api/v1/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        router.post("/api/v1/contact-requests") { request, context in try await submit(request, from: context.limiterSource) }
        let signedIn = router.signedInSurvivor(SurvivorAuthenticator(.receipt(receipts)))
        signedIn.get("/api/v1/me") { _, context in try await me(context.survivor) }
        signedIn.post("/api/v1/me/consents") { request, context in try await grant(request, context.survivor) }
        signedIn.delete("/api/v1/me/consents/:scope") { _, context in try await withdraw(context) }
        signedIn.delete("/api/v1/me") { _, context in try await erase(context.survivor) }
        signedIn.get("/api/v1/me/messages") { _, context in try await messages(context.survivor) }
        signedIn.post("/api/v1/me/messages") { request, context in try await writeMessage(request, context.survivor) }
        signedIn.get("/api/v1/me/access") { _, context in try await access(context.survivor) }
        signedIn.put("/api/v1/me/verification-phrase") { request, context in try await setPhrase(request, context.survivor) }
        signedIn.put("/api/v1/me/pause") { request, context in try await pause(request, context.survivor) }
        signedIn.get("/api/v1/me/interviews") { _, context in
            JSONBody.response(status: .ok, ["interviews": try await service.interviews(context.survivor).map(InterviewBody.init)])
        }
        signedIn.post("/api/v1/me/interviews/:id/answer") { request, context in
            let draft = try InterviewAnswerDraft(json: try await readJSON(request))
            let answered = try await service.answerInterview(context.parameters.get("id") ?? "", draft, for: context.survivor)
            return JSONBody.response(status: .ok, ["interview": InterviewBody(answered)])
        }
        signedIn.delete("/api/v1/me/pause") { _, context in
            try await service.resume(for: context.survivor)
            return Response(status: .noContent)
        }
    }

    // MARK: Handlers

    /// A new contact request: refused before its body is read while the gate is closed; checked;
    /// then spent from the budgets and stored.
    func submit(_ request: Request, from source: LimiterSource) async throws -> Response {
        try await gate.precheck(source)
        let json = try await readJSON(request)
        let submission = try Submission.validate(json, today: service.today)
        try await gate.admit(source)
        let result = try await service.submit(submission)
        return JSONBody.response(
            status: .created,
            SubmissionBody(
                reference: result.reference, receipt: result.receipt, consents: result.consents.map(ConsentBody.init),
                retention: RetentionBody(service.retention)))
    }

    func me(_ survivor: AuthenticatedSurvivor) async throws -> Response {
        let view = try await service.view(survivor)
        return JSONBody.response(status: .ok, MeBody(view, retention: service.retention, pause: service.pause(survivor)))
    }

    func grant(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let json = try await readJSON(request)
        let choice = try ConsentChoice.validate(json, today: service.today)
        let live = try await service.grant(choice, for: survivor)
        return JSONBody.response(status: .ok, ["consents": live.map(ConsentBody.init)])
    }

    func withdraw(_ context: SurvivorContext) async throws -> Response {
        let name = context.parameters.get("scope") ?? ""
        guard let scope = Scope(rawValue: name) else {
            throw Problem(
                .badRequest, code: "invalid-value",
                "unknown scope; use one of: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let live = try await service.withdraw(scope, for: context.survivor)
        return JSONBody.response(status: .ok, ["consents": live.map(ConsentBody.init)])
    }

    func erase(_ survivor: AuthenticatedSurvivor) async throws -> Response {
        try await service.erase(survivor)
        return Response(status: .noContent)
    }

    func messages(_ survivor: AuthenticatedSurvivor) async throws -> Response {
        let thread = try await service.messages(survivor)
        return JSONBody.response(status: .ok, ["messages": thread.map(MessageBody.init)])
    }

    func writeMessage(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try FieldReader(try await readJSON(request), allowed: ["group", "text"])
        guard let group = try fields.choice("group", of: Scope.self) else {
            throw Problem(
                .badRequest, code: "missing-field",
                "'group' is required: who the message is for, one of \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let text = try fields.requiredText("text", maxLength: Limits.message, multiline: true)
        try await service.writeMessage(text, to: group, for: survivor)
        let thread = try await service.messages(survivor)
        return JSONBody.response(status: .created, ["messages": thread.map(MessageBody.init)])
    }

    /// `PUT /api/v1/me/verification-phrase {"verificationPhrase": "…" | null}`: a new phrase, or
    /// none; 204, without echoing it.
    func setPhrase(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try FieldReader(try await readJSON(request), allowed: ["verificationPhrase"])
        guard fields.has("verificationPhrase") else {
            throw Problem(
                .badRequest, code: "missing-field", "'verificationPhrase' is required: the new phrase, or null to have none")
        }
        let phrase = try VerificationPhrase.validate(try fields.string("verificationPhrase"))
        try await service.setVerificationPhrase(phrase, for: survivor)
        return Response(status: .noContent)
    }

    /// `PUT /api/v1/me/pause {"until": "YYYY-MM-DD" | null}`: no contact until the end of that day,
    /// or until resumed; answers the pause in force.
    func pause(_ request: Request, _ survivor: AuthenticatedSurvivor) async throws -> Response {
        let fields = try FieldReader(try await readJSON(request), allowed: ["until"])
        guard fields.has("until") else {
            throw Problem(.badRequest, code: "missing-field", "'until' is required: the last day of the pause (YYYY-MM-DD), or null until you resume")
        }
        var until: Day?
        if let text = try fields.string("until") {
            guard let day = Day(iso: text) else { throw Problem(.badRequest, code: "invalid-value", "'until' must be a date as YYYY-MM-DD, or null") }
            until = day
        }
        let pause = try await service.pause(until: until, for: survivor)
        return JSONBody.response(status: .ok, PauseBody(pause))
    }

    func access(_ survivor: AuthenticatedSurvivor) async throws -> Response {
        let log = try await service.accessLog(survivor)
        return JSONBody.response(status: .ok, ["access": log.map(AccessBody.init)])
    }

    func readJSON(_ request: Request) async throws -> JSONValue { try await JSONInput.read(request) }
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
