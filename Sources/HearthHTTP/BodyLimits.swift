public import HTTPTypes
import HearthCore
public import Hummingbird

/// How large a request body may be.
///
/// Texts are limited in characters as the survivor sees them (``FieldRules/length(_:)``), never
/// in bytes, so no script has less room than another. A body limit only refuses a body too large
/// to be an honest one: a route's limit holds the longest texts it takes, in any script and
/// however the client encodes them, plus room for everything else. The routes that take long
/// texts name their limits in their listener's table (`IntakeAccess.largerBodies`,
/// `CaseworkAccess.largerBodies`, applied by ``BodyLimitMiddleware``); every other route keeps
/// ``standardBodyBytes``, so what a client may make the service hold grows only where a survivor
/// needs it. A body over its limit is 413 `body-too-large` and changes nothing; a text over its
/// limit is 400 `field-too-long`.
public enum RequestLimits {
    /// The most bytes one character can take in a body: a 4-byte UTF-8 scalar percent-encoded in a
    /// form (`%F0%9E%A4%80`) or written in JSON as an escaped surrogate pair (`\uD83A\uDD00`), 12
    /// bytes either way. A 3-byte scalar takes at most 9 (form), a 2-byte one 6, and a line break 6
    /// (`%0D%0A`, which the form reader makes one line feed).
    public static let bytesPerCharacter = 12

    /// Room in a body for all that is not text: field names, the form and one-time tokens,
    /// choices, dates, JSON punctuation and white space. Generous: an honest body uses under 2 KiB.
    public static let structureBytes = 16 * 1024

    /// The limit of every route that takes little text (consents, a pause, a check phrase, a
    /// reason for opening a case, sign-in): 64 KiB, which holds each of their texts many times over.
    public static let standardBodyBytes = 64 * 1024

    /// The limit of a route whose texts hold at most `characters` characters together: each at
    /// ``bytesPerCharacter``, plus ``structureBytes``, rounded up to a whole KiB; never below
    /// ``standardBodyBytes``.
    public static func bodyBytes(holding characters: Int) -> Int {
        let needed = characters * bytesPerCharacter + structureBytes
        return max(standardBodyBytes, (needed + 1023) / 1024 * 1024)
    }

    /// A new contact request: the API's body, and the page forms that carry every answer
    /// (`POST /request`, `/request/edit`, `/request/send`). 229 KiB.
    public static let submissionBodyBytes = bodyBytes(holding: Limits.submissionCharacters)
    /// A message: a survivor's, or a member of staff's reply. 75 KiB.
    public static let messageBodyBytes = bodyBytes(holding: Limits.message)
    /// A survivor's answer to an invitation to an interview. 64 KiB.
    public static let interviewAnswerBodyBytes = bodyBytes(holding: Limits.interviewAnswerCharacters)
    /// An invitation to an interview. 64 KiB.
    public static let invitationBodyBytes = bodyBytes(holding: Limits.interviewPurpose)

    /// The limit of the request being handled: its route's, as ``BodyLimitMiddleware`` set it;
    /// ``standardBodyBytes`` outside a request or where no middleware set it.
    @TaskLocal public static var bodyBytes = standardBodyBytes
}

/// Sets ``RequestLimits/bodyBytes`` for each request from its listener's table of routes that take
/// larger bodies, before anything reads a body; every other route keeps the standard limit.
///
/// A row's path is a route template as registered (`:name` matches any one segment), matched the
/// way ``RouteIndex`` matches them. A path spelled otherwise than its route (percent-encoded, say)
/// gets the standard limit: never more room than the table gives.
public struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [(method: HTTPRequest.Method, segments: [Substring], bytes: Int)]

    /// A middleware over `routes`: method, route template and limit in bytes.
    public init(_ routes: [(HTTPRequest.Method, String, Int)]) {
        self.routes = routes.map { (method: $0.0, segments: RouteIndex.segments($0.1), bytes: $0.2) }
    }

    /// The limit of a request with this method and path.
    public func bodyBytes(_ method: HTTPRequest.Method, path: String) -> Int {
        let asked = RouteIndex.segments(path)
        let row = routes.first { $0.method == method && RouteIndex.template($0.segments, matches: asked) }
        return row?.bytes ?? RequestLimits.standardBodyBytes
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await RequestLimits.$bodyBytes.withValue(bodyBytes(request.method, path: request.uri.path)) {
            try await next(request, context)
        }
    }
}
