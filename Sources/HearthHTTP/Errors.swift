import Foundation
public import HearthCore
import HearthCrypto
public import Hummingbird
import NIOCore

/// A problem as an HTTP answer: `{"error", "code"}` with its status and any extra headers.
///
/// Problems with what someone sent come from Core as ``Problem`` and take the status of their
/// kind; problems of the transport itself (too large, wrong content type, too many attempts)
/// exist only here.
public struct ProblemResponse: HTTPResponseError {
    /// The status.
    public let status: HTTPResponse.Status
    /// A stable machine-readable code.
    public let code: String
    /// A plain message, never a secret.
    public let message: String
    /// Extra headers (e.g. `Retry-After`).
    public let headers: HTTPFields

    /// A Core problem, with the status of its kind.
    public init(_ problem: Problem, headers: HTTPFields = [:]) {
        self.init(status: Self.status(of: problem.kind), code: problem.code, problem.message, headers: headers)
    }

    /// A problem of the transport.
    public init(status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The status for each kind of Core problem.
    public static func status(of kind: Problem.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: .badRequest
        case .unauthorised: .unauthorized
        case .notFound: .notFound
        case .conflict: .conflict
        case .forbidden: .forbidden
        }
    }

    /// ``headers`` plus, on a 401, the `WWW-Authenticate` scheme the caller should use.
    public var responseHeaders: HTTPFields {
        var h = headers
        if status == .unauthorized {
            h[.wwwAuthenticate] = code == Problem.receiptNotRecognised.code ? "Receipt" : "Bearer"
        }
        return h
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONBody.response(status: status, ["error": message, "code": code], headers: responseHeaders)
    }

    /// The answer to a body over its route's limit, ``RequestLimits/bodyBytes`` (a whole number of KiB).
    public static var tooLarge: ProblemResponse {
        ProblemResponse(
            status: .contentTooLarge, code: "body-too-large",
            "the request is larger than \(RequestLimits.bodyBytes / 1024) KiB; please shorten it")
    }

    /// The answer to a body of the wrong content type.
    public static func unsupportedMediaType(_ message: String) -> ProblemResponse {
        ProblemResponse(status: .unsupportedMediaType, code: "unsupported-media-type", message)
    }

    /// 429 with `Retry-After: seconds`.
    public static func rateLimited(_ message: String, retryAfter seconds: Int) -> ProblemResponse {
        ProblemResponse(status: .tooManyRequests, code: "rate-limited", message, headers: [.retryAfter: "\(seconds)"])
    }
}

/// Small helpers for JSON responses.
public enum JSONBody {
    /// Encodes `value` as a JSON response.
    public static func response(status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data(#"{"error":"failed to encode the answer","code":"internal"}"#.utf8)
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Renders an error as an HTML page: status, machine code, plain message.
public typealias HTMLErrorPage = @Sendable (_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response

/// Turns every error into a plain answer: JSON under `/api/` and `/healthz`, and, when
/// `htmlPage` is given, an HTML page everywhere else. Input problems get their 4xx; anything else
/// gets a 500 that says nothing about internals, while the log gets the error's type and the
/// request id — never its description, which could carry data.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let htmlPage: HTMLErrorPage?

    /// JSON errors only, or HTML pages for page routes when `htmlPage` is given.
    public init(htmlPage: HTMLErrorPage? = nil) {
        self.htmlPage = htmlPage
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, code, message, headers) = Self.describe(error, context: context)
            let path = request.uri.path
            if let htmlPage, !path.hasPrefix("/api/"), path != "/healthz" {
                var response = htmlPage(status, code, message)
                for field in headers { response.headers.append(field) }
                return response
            }
            // People read the API's messages too (an app may show them): asked for another
            // language (Accept-Language), the message is the catalogue's words for the code. The
            // code never changes.
            let words = Catalogue.current.tag == "en" ? message : pageMessage(status: status, code: code, message: message)
            var body = ["error": words, "code": code]
            if status == .internalServerError { body["requestId"] = context.id }
            return JSONBody.response(status: status, body, headers: headers)
        }
    }

    static func describe(_ error: any Error, context: Context) -> (HTTPResponse.Status, String, String, HTTPFields) {
        switch error {
        case let e as ProblemResponse:
            return (e.status, e.code, e.message, e.responseHeaders)
        case let p as Problem:
            let e = ProblemResponse(p)
            return (e.status, e.code, e.message, e.responseHeaders)
        case let d as AccessDenial:
            return (.forbidden, d.code, d.message, [:])
        case is PasswordHasherBusy:
            return (
                .tooManyRequests, "busy", "too many sign-ins are being checked just now; please try again in a few seconds",
                [.retryAfter: "2"]
            )
        case is NIOTooManyBytesError:
            return (.contentTooLarge, ProblemResponse.tooLarge.code, ProblemResponse.tooLarge.message, [:])
        case let e as HTTPError:
            let (code, message): (String, String) =
                switch e.status {
                case .notFound: ("not-found", "there is nothing at this address")
                case .methodNotAllowed: ("method-not-allowed", "this address does not accept that method")
                case .contentTooLarge: (ProblemResponse.tooLarge.code, ProblemResponse.tooLarge.message)
                default: ("bad-request", "the request could not be understood")
                }
            return (e.status, code, message, e.status == .methodNotAllowed ? e.headers : [:])
        case is any StoreUnavailable:
            context.logger.warning(
                "storage unavailable",
                metadata: ["error.type": "\(String(reflecting: type(of: error)))", "http.route": "\(context.endpointPath ?? "-")"])
            return (
                .serviceUnavailable, "unavailable", "we cannot reach our storage just now; please try again in a minute",
                [.retryAfter: "30"]
            )
        default:
            context.logger.error(
                "request failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "http.route": "\(context.endpointPath ?? "-")"])
            return (.internalServerError, "internal", "something went wrong on our side; please try again in a few minutes", [:])
        }
    }
}
