import Foundation
import HTTPTypes
public import HearthCore
public import HearthHTTP
public import Hummingbird
import NIOCore

/// The staff side over HTTP. Public routes: `GET /healthz` and `POST /api/v1/session` (sign-in).
/// Every other route is registered behind ``StaffAuthenticator`` (see ``CaseworkAccess``), and while
/// a password change is required, only `POST /api/v1/session/password` and `DELETE /api/v1/session` answer.
public struct CaseworkRoutes: Sendable {
    let sessions: StaffSessions
    let casework: CaseworkService
    var staff: StaffService { sessions.staff }

    /// The routes over the staff sessions (shared with the pages) and the casework service.
    public init(sessions: StaffSessions, casework: CaseworkService) {
        self.sessions = sessions
        self.casework = casework
    }

    /// Adds the public routes to `router`, and the others behind the API's authenticator.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody.response(status: .ok, ["status": "ok"]) }
        router.post("/api/v1/session") { request, context in try await login(request, context) }

        let changingPassword = router.signedInStaff(StaffAuthenticator(sessions, refusal: .problem, allowPasswordChange: true))
        changingPassword.delete("/api/v1/session") { _, context in
            try await staff.logout(context.session)
            var response = Response(status: .noContent)
            response.headers[.setCookie] = StaffSessions.endedSessionCookie
            return response
        }
        changingPassword.post("/api/v1/session/password") { request, context in
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["password", "newPassword"])
            try await staff.changePassword(
                context.session, current: try f.requiredText("password", maxLength: 128), new: try f.requiredText("newPassword", maxLength: 128))
            return Response(status: .noContent)
        }

        let signedIn = router.signedInStaff(StaffAuthenticator(sessions, refusal: .problem))
        signedIn.get("/api/v1/cases") { _, context in
            let cases = try await casework.queue(for: context.session.identity)
            return JSONBody.response(status: .ok, ["cases": cases.map(CaseSummaryBody.init)])
        }
        signedIn.post("/api/v1/cases/:reference/assign") { request, context in
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["staff"])
            let username = try f.requiredText("staff", maxLength: 64)
            try await casework.assign(reference, to: username, by: context.session.identity)
            return JSONBody.response(status: .ok, ["reference": reference.reference, "assignee": username])
        }
        signedIn.post("/api/v1/cases/:reference/open") { request, context in
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["reason"])
            let reason = try f.requiredText("reason", maxLength: Limits.reason)
            let opened = try await casework.open(reference, reason: reason, by: context.session.identity)
            return JSONBody.response(status: .ok, OpenedCaseBody(opened))
        }
        signedIn.post("/api/v1/cases/:reference/status") { request, context in
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["status"])
            guard let status = try f.choice("status", of: CaseStatus.self) else {
                throw Problem(.badRequest, code: "missing-field", "'status' is required")
            }
            try await casework.setStatus(reference, to: status, by: context.session.identity)
            return JSONBody.response(status: .ok, ["reference": reference.reference, "status": status.rawValue])
        }
        signedIn.post("/api/v1/cases/:reference/interviews") { request, context in
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["purpose", "form", "times"])
            let draft = InterviewInvitationDraft(purpose: try f.string("purpose"), form: try f.string("form"), times: try f.strings("times"))
            let invitation = try InterviewInvitation.validate(draft, now: casework.now)
            let id = try await casework.invite(reference, invitation, by: context.session.identity)
            return JSONBody.response(status: .created, ["reference": reference.reference, "id": id, "state": InterviewState.invited.rawValue])
        }
        signedIn.post("/api/v1/cases/:reference/replies") { request, context in
            let reference = try Self.reference(context)
            let f = try FieldReader(try await JSONInput.read(request), allowed: ["text"])
            let text = try f.requiredText("text", maxLength: Limits.message, multiline: true)
            try await casework.reply(reference, text: text, by: context.session.identity)
            return JSONBody.response(status: .created, ["reference": reference.reference])
        }
    }

    /// The case named by the route's `:reference`, or 404 `not-found`.
    static func reference(_ context: some RequestContext) throws -> RecordID {
        guard let text = context.parameters.get("reference"), let id = RecordID(reference: text) else {
            throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        }
        return id
    }

    func login(_ request: Request, _ context: HearthRequestContext) async throws -> Response {
        try sessions.refuseIfRateLimited(context.limiterSource)
        let f = try FieldReader(try await JSONInput.read(request), allowed: ["username", "password", "totp"])
        let username = try f.requiredText("username", maxLength: 64)
        let password = try f.requiredText("password", maxLength: 128)
        let code = try f.requiredText("totp", maxLength: 10)
        let (token, mustChange) = try await sessions.signIn(username: username, password: password, totp: code, from: context.limiterSource)
        var response = JSONBody.response(status: .ok, LoginBody(token: token, mustChangePassword: mustChange))
        response.headers[.setCookie] = StaffSessions.sessionCookie(token)
        return response
    }
}

struct LoginBody: Encodable {
    let token: String
    let mustChangePassword: Bool
}

struct CaseSummaryBody: Encodable {
    let reference: String
    let created: String
    let region: String?
    let status: String
    let liveScopes: [String]
    let assignee: String?
    /// Whether the survivor has paused all contact (today), and until which day if they said.
    let paused: Bool
    let pausedUntil: String?

    init(_ c: CaseSummary) {
        reference = c.reference
        created = rfc3339(unixSeconds: c.createdHour)
        region = c.region?.rawValue
        status = c.status.rawValue
        liveScopes = c.liveScopes.map(\.rawValue)
        assignee = c.assignee
        paused = c.pause != nil
        pausedUntil = c.pause?.until?.description
    }
}

/// `POST /api/v1/cases/{reference}/open`: the record and its thread.
typealias OpenedCaseBody = RecordBody<ThreadExtras>

/// What opening a case adds to the record.
struct ThreadExtras: Encodable {
    /// The staff member's own group: the only conversation they can read.
    let group: String
    let messages: [MessageBody]
    /// That group's invitations to interviews, with the survivor's answers.
    let interviews: [InterviewBody]
    /// Whether the survivor has paused all contact (today), and until which day if they said.
    let paused: Bool
    let pausedUntil: String?
}

extension RecordBody<ThreadExtras> {
    init(_ o: OpenedCase) {
        self.init(
            o.record,
            adding: ThreadExtras(
                group: o.group.rawValue, messages: o.messages.map(MessageBody.init), interviews: o.interviews.map(InterviewBody.init),
                paused: o.pause != nil, pausedUntil: o.pause?.until?.description))
    }
}
