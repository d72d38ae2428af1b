import Foundation
public import HearthCore
public import Hummingbird
import NIOCore

/// A ``Problem`` as an HTTP answer: `{"error", "code"}` with the matching status.
public struct ProblemResponse: HTTPResponseError {
    /// The problem.
    public let problem: Problem
    /// Extra headers (e.g. `Retry-After`).
    public let headers: HTTPFields

    /// Wraps a problem.
    public init(_ problem: Problem, headers: HTTPFields = [:]) {
        self.problem = problem
        self.headers = headers
    }

    public var status: HTTPResponse.Status {
        switch problem.kind {
        case .badRequest: .badRequest
        case .unauthorised: .unauthorized
        case .notFound: .notFound
        case .tooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .rateLimited: .tooManyRequests
        case .conflict: .conflict
        case .forbidden: .forbidden
        }
    }

    /// ``headers`` plus, on a 401, the `WWW-Authenticate` scheme the caller should use.
    public var responseHeaders: HTTPFields {
        var h = headers
        if problem.kind == .unauthorised {
            h[.wwwAuthenticate] = problem.code == Problem.receiptNotRecognised.code ? "Receipt" : "Bearer"
        }
        return h
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONBody.response(status: status, ["error": problem.message, "code": problem.code], headers: responseHeaders)
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
            var body = ["error": message, "code": code]
            if status == .internalServerError { body["requestId"] = context.id }
            return JSONBody.response(status: status, body, headers: headers)
        }
    }

    static func describe(_ error: any Error, context: Context) -> (HTTPResponse.Status, String, String, HTTPFields) {
        switch error {
        case let e as ProblemResponse:
            return (e.status, e.problem.code, e.problem.message, e.responseHeaders)
        case let p as Problem:
            let e = ProblemResponse(p)
            return (e.status, p.code, p.message, e.responseHeaders)
        case let d as AccessDenial:
            return (.forbidden, d.code, d.message, [:])
        case is NIOTooManyBytesError:
            return (.contentTooLarge, Self.tooLarge.code, Self.tooLarge.message, [:])
        case let e as HTTPError:
            let (code, message): (String, String) =
                switch e.status {
                case .notFound: ("not-found", "there is nothing at this address")
                case .methodNotAllowed: ("method-not-allowed", "this address does not accept that method")
                case .contentTooLarge: (Self.tooLarge.code, Self.tooLarge.message)
                default: ("bad-request", "the request could not be understood")
                }
            return (e.status, code, message, [:])
        default:
            context.logger.error(
                "request failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "http.route": "\(context.endpointPath ?? "-")"])
            return (.internalServerError, "internal", "something went wrong on our side; please try again in a few minutes", [:])
        }
    }

    /// The answer to a body over the limit.
    public static var tooLarge: Problem {
        Problem(.tooLarge, code: "body-too-large", "the request is larger than \(RequestLimits.bodyBytes / 1024) KiB; please shorten it")
    }
}
