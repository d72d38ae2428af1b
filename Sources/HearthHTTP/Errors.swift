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

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        if problem.kind == .unauthorised {
            headers[.wwwAuthenticate] = problem.code == Problem.receiptNotRecognised.code ? "Receipt" : "Bearer"
        }
        return JSONBody.response(status: status, ["error": problem.message, "code": problem.code], headers: headers)
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

/// Turns every error into a plain JSON answer. Input problems get their 4xx; anything else gets a
/// 500 that says nothing about internals, while the log gets the error's type and the request id —
/// never its description, which could carry data.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as ProblemResponse {
            return try e.response(from: request, context: context)
        } catch let p as Problem {
            return try ProblemResponse(p).response(from: request, context: context)
        } catch let d as AccessDenial {
            return JSONBody.response(status: .forbidden, ["error": d.message, "code": d.code])
        } catch is NIOTooManyBytesError {
            return try ProblemResponse(Self.tooLarge).response(from: request, context: context)
        } catch let e as HTTPError {
            let (code, message): (String, String) =
                switch e.status {
                case .notFound: ("not-found", "there is nothing at this address")
                case .methodNotAllowed: ("method-not-allowed", "this address does not accept that method")
                case .contentTooLarge: (Self.tooLarge.code, Self.tooLarge.message)
                default: ("bad-request", "the request could not be understood")
                }
            return JSONBody.response(status: e.status, ["error": message, "code": code])
        } catch {
            context.logger.error(
                "request failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))", "http.route": "\(context.endpointPath ?? "-")"])
            return JSONBody.response(
                status: .internalServerError,
                ["error": "something went wrong on our side; please try again in a few minutes", "code": "internal", "requestId": context.id])
        }
    }

    /// The answer to a body over the limit.
    public static var tooLarge: Problem {
        Problem(.tooLarge, code: "body-too-large", "the request is larger than \(Limits.bodyBytes / 1024) KiB; please shorten it")
    }
}
