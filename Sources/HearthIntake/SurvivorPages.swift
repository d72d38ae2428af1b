import Foundation
import HTTPTypes
public import HearthCore
public import HearthHTTP
public import Hummingbird
import NIOCore

/// The survivor's pages on the intake listener: server-rendered, no script needed.
///
/// Public pages (``IntakeAccess/publicRoutes``): `GET /`, `GET /safety`, `GET /exit`, `GET|POST /request`,
/// `POST /request/edit`, `POST /request/send`, `GET|POST /return`, `POST /leave`. Everything under
/// `/your-request` is registered behind ``SurvivorAuthenticator`` and needs the session that
/// `POST /return` starts; without one it sends the browser to `/return`.
///
/// Every POST reads its form strictly and checks the form token before anything else but the session
/// check (on the routes that have one); every
/// change goes through ``SurvivorService``, which sees the survivor afresh on each request
/// (``SurvivorService/resume(_:)``), so a session never outlives an erasure or an expired consent.
/// The receipt is never put in a URL, a cookie or a log line: it is shown once, on the page that
/// answers `POST /request/send`, and typed in on `/return`.
public struct SurvivorPages: Sendable {
    /// The survivor session cookie (a random token; the session itself lives in memory only).
    public static let sessionCookie = "__Host-hearth-survivor"
    /// A survivor session ends after this many seconds without use.
    public static let idleSeconds: Int64 = 15 * 60
    /// A survivor session ends this many seconds after sign-in, used or not.
    public static let absoluteSeconds: Int64 = 2 * 3600

    let service: SurvivorService
    let receipts: ReceiptCheck
    let gate: SubmissionGate
    let pages: PageSettings
    let sessions: EphemeralSessions<SurvivorSession>

    /// Pages over the survivor service, the receipt rate limiter (`limiter`, shared with the API),
    /// the submission gate (shared with the API), the page settings, and a session table (see
    /// ``makeSessions(clock:)``).
    public init(
        service: SurvivorService, limiter: FailureRateLimiter, gate: SubmissionGate, pages: PageSettings,
        sessions: EphemeralSessions<SurvivorSession>
    ) {
        self.service = service
        receipts = ReceiptCheck(service: service, limiter: limiter)
        self.gate = gate
        self.pages = pages
        self.sessions = sessions
    }

    /// An empty session table with the survivor timeouts (15 minutes idle, 2 hours in all).
    public static func makeSessions(clock: any WallClock) throws -> EphemeralSessions<SurvivorSession> {
        try EphemeralSessions(idle: idleSeconds, absolute: absoluteSeconds, clock: clock)
    }

    /// Adds the public pages to `router`, and "Your request" behind the pages' session check.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/") { _, _ in startPage() }
        router.get("/safety") { _, _ in pages.renderer.page("survivor-safety", [:]) }
        router.get("/exit") { request, _ in exit(request) }
        router.get("/request") { request, _ in try requestForm(request, RequestAnswers(), errors: [], status: .ok) }
        router.post("/request") { request, _ in try await checkAnswers(request) }
        router.post("/request/edit") { request, _ in try await editAnswers(request) }
        router.post("/request/send") { request, context in try await send(request, from: context.limiterSource) }
        router.get("/return") { request, _ in try returnForm(request, typed: "", status: .ok) }
        router.post("/return") { request, context in try await signIn(request, context) }
        router.post("/leave") { request, _ in try await leave(request) }
        registerYourRequest(on: router.signedInSurvivor(SurvivorAuthenticator(.pageSession(service, sessions))))
    }

    // MARK: Start, safety, exit

    func startPage() -> Response {
        pages.renderer.page(
            "survivor-start",
            ["scopes": SurvivorText.scopeRows(), "retention": SurvivorText.retention(service.retention), "retentionDays": service.retention.days])
    }

    /// Ends any session, clears the cookies and leaves for the everyday site.
    func exit(_ request: Request) -> Response {
        sessions.remove(FormGuard.cookie(Self.sessionCookie, in: request))
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: Self.endedCookie(Self.sessionCookie)))
        headers.append(HTTPField(name: .setCookie, value: Self.endedCookie(FormGuard.cookieName)))
        headers.append(HTTPField(name: .setCookie, value: Languages.endedCookie))
        return seeOther(pages.exitURL, headers: headers)
    }

    // MARK: The contact request

    /// The contact form, filled with `answers`, with `errors` beside their fields and in the summary.
    func requestForm(_ request: Request, _ answers: RequestAnswers, errors: [FieldError], status: HTTPResponse.Status) throws -> Response {
        var context = Self.errorContext(errors)
        context["answers"] = [
            "preferredName": answers.preferredName, "contactValue": answers.contactValue, "safeTimes": answers.safeTimes,
            "account": answers.account, "verificationPhrase": answers.verificationPhrase,
        ]
        context["methods"] = ContactMethodKind.allCases.map { m -> [String: Any] in
            let text = SurvivorText.method(m)
            var row: [String: Any] = ["value": m.rawValue, "label": text.label, "checked": answers.contactMethod == m.rawValue]
            if let hint = text.hint { row["hint"] = hint }
            return row
        }
        context["mayLeave"] = [("yes", true), ("no", false)].map {
            ["value": $0.0, "label": SurvivorText.yesNo($0.1), "checked": answers.mayLeaveMessage == $0.0]
        }
        context["regions"] = Region.allCases.map {
            ["value": $0.rawValue, "label": SurvivorText.region($0), "selected": answers.region == $0.rawValue]
        }
        context["wants"] = Want.allCases.map { w -> [String: Any] in
            let text = SurvivorText.want(w)
            return ["value": w.rawValue, "label": text.label, "hint": text.hint, "checked": answers.wants.contains(w.rawValue)]
        }
        context["scopes"] = SurvivorText.scopeRows(checked: Set(answers.consent))
        context["retention"] = SurvivorText.retention(service.retention)
        return try page(request, "survivor-request", status: status, context)
    }

    /// `POST /request`: the form again with every problem, or "Check your answers".
    func checkAnswers(_ request: Request) async throws -> Response {
        let fields = try await readForm(request, allowed: RequestAnswers.fieldNames)
        let answers = RequestAnswers(fields)
        let (submission, errors) = answers.validate(today: service.today)
        guard let submission else { return try requestForm(request, answers, errors: errors, status: .badRequest) }
        let rows = SurvivorText.rows(submission.request) + [SurvivorText.sharingRow(submission.consents)]
        return try page(
            request, "survivor-check",
            [
                "rows": rows, "hidden": answers.pairs.map { ["name": $0.name, "value": $0.value] }, "submission": try pages.forms.issueOnce(),
                "retention": SurvivorText.retention(service.retention),
            ])
    }

    /// `POST /request/edit`: back to the form, filled in.
    func editAnswers(_ request: Request) async throws -> Response {
        let fields = try await readForm(request, allowed: RequestAnswers.fieldNames)
        return try requestForm(request, RequestAnswers(fields), errors: [], status: .ok)
    }

    /// `POST /request/send`: checks the answers again, passes the submission gate (a refusal is a
    /// plain page and leaves the one-time token unspent, so sending again later works), spends the
    /// one-time token, then creates the record and shows the receipt, once.
    func send(_ request: Request, from source: LimiterSource) async throws -> Response {
        try await gate.precheck(source)
        let fields = try await readForm(request, allowed: RequestAnswers.fieldNames.union(["submission"]))
        let answers = RequestAnswers(fields)
        let (submission, errors) = answers.validate(today: service.today)
        guard let submission else { return try requestForm(request, answers, errors: errors, status: .badRequest) }
        try await gate.admit(source)
        let words = Catalogue.current
        guard let token = fields.value("submission"), pages.forms.redeemOnce(token) else {
            return pages.renderer.page(
                "survivor-error", status: .conflict,
                [
                    "heading": words.text("alreadySent.heading"), "message": words.text("alreadySent.message"),
                    "links": [
                        ["href": "/return", "label": words.text("layout.comeBack")],
                        ["href": "/request", "label": words.text("alreadySent.newRequest")],
                    ],
                ])
        }
        let result = try await service.submit(submission)
        let shared = result.consents.map { SurvivorText.scope($0.scope).short }
        return pages.renderer.page(
            "survivor-sent", status: .created,
            [
                "reference": result.reference, "receipt": result.receipt, "shared": !shared.isEmpty,
                "sharedWith": words.text("sent.shared", ["groups": SurvivorText.list(shared)]),
                "retention": SurvivorText.retention(service.retention),
            ])
    }

    // MARK: Coming back

    /// The receipt form; after a wrong receipt it keeps what was typed (never a working receipt).
    func returnForm(_ request: Request, typed: String, status: HTTPResponse.Status, errors: [FieldError] = []) throws -> Response {
        var context = Self.errorContext(errors)
        context["typed"] = typed
        return try page(request, "survivor-return", status: status, context)
    }

    /// `POST /return`: the receipt through the API's own check and rate limiter, then a session.
    func signIn(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        let fields = try await readForm(request, allowed: ["receipt"])
        let typed = fields.trimmed("receipt") ?? ""
        guard !typed.isEmpty else {
            return try returnForm(
                request, typed: "", status: .badRequest, errors: [FieldError(field: "receipt", message: Catalogue.current.text("return.missing"))])
        }
        let survivor: AuthenticatedSurvivor
        do {
            survivor = try await receipts.authenticate(receipt: typed, from: context.limiterSource)
        } catch let p as Problem where p == .receiptNotRecognised {
            return try returnForm(
                request, typed: typed, status: .unauthorized,
                errors: [FieldError(field: "receipt", message: Catalogue.current.text("return.notRecognised"))])
        }
        // A new session each time; one the browser still held ends now.
        sessions.remove(FormGuard.cookie(Self.sessionCookie, in: request))
        // The session keeps what the receipt derives, never the receipt itself.
        let token = try sessions.create(survivor.session)
        return seeOther(
            "/your-request", headers: [.setCookie: "\(Self.sessionCookie)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict"])
    }

    /// `POST /leave`: ends the browser's session, if it has one, and clears the cookie.
    func leave(_ request: Request) async throws -> Response {
        _ = try await readForm(request, allowed: [])
        sessions.remove(FormGuard.cookie(Self.sessionCookie, in: request))
        return seeOther("/", headers: [.setCookie: Self.endedCookie(Self.sessionCookie)])
    }

    // MARK: Helpers

    /// Reads a posted form strictly and checks its form token, before anything else happens.
    func readForm(_ request: Request, allowed: Set<String>) async throws -> FormFields {
        let fields: FormFields
        do {
            fields = try await FormFields.read(request, allowed: allowed)
        } catch let p as ProblemResponse where p.status == .contentTooLarge {
            throw Self.tooLong
        } catch is NIOTooManyBytesError {
            throw Self.tooLong
        }
        try pages.forms.verify(request, fields)
        return fields
    }

    /// The answer to a form too large to take, in the survivor's terms rather than bytes.
    static let tooLong = ProblemResponse(
        status: .contentTooLarge, code: "body-too-large",
        "what you wrote is too long for us to receive in one go, so nothing was sent; "
            + "please go back, shorten it, and try again (you can tell us more later in a message)")

    static func scope(_ fields: FormFields) throws -> Scope {
        guard let scope = fields.value("scope").flatMap(Scope.init(rawValue:)) else {
            throw Problem(.badRequest, code: "invalid-value", "that group was not recognised, so nothing was changed; please go back and try again")
        }
        return scope
    }

    /// A page with forms: adds the form token (and the form cookie when the browser has none).
    func page(_ request: Request, _ template: String, status: HTTPResponse.Status = .ok, _ context: [String: Any]) throws -> Response {
        let (token, setCookie) = try pages.forms.prepare(request)
        var context = context
        context["csrf"] = token
        var headers = HTTPFields()
        if let setCookie { headers.append(HTTPField(name: .setCookie, value: setCookie)) }
        return pages.renderer.page(template, status: status, context, headers: headers)
    }

    /// The template values for an error summary and the messages beside fields.
    static func errorContext(_ errors: [FieldError]) -> [String: Any] {
        [
            "hasErrors": !errors.isEmpty,
            "errorSummary": errors.map { ["field": $0.field, "message": $0.message] },
            "error": Dictionary(errors.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a }),
        ]
    }

    /// A `Set-Cookie` value that removes cookie `name`.
    static func endedCookie(_ name: String) -> String { "\(name)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" }
}
