import HearthCore
public import Hummingbird

/// Reading request bodies strictly, the same way on both listeners.
public enum JSONInput {
    /// Reads a JSON body: `application/json` only, at most the route's ``RequestLimits/bodyBytes``.
    public static func read(_ request: Request) async throws -> JSONValue {
        let type = request.headers[.contentType]?.lowercased().filter { $0 != " " } ?? ""
        guard type == "application/json" || type == "application/json;charset=utf-8" else {
            throw ProblemResponse.unsupportedMediaType("send the request as JSON with the header 'Content-Type: application/json'")
        }
        let limit = RequestLimits.bodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ProblemResponse.tooLarge
        }
        let buffer = try await request.body.collect(upTo: limit)
        return try JSONValue.parse(Array(buffer.readableBytesView))
    }
}
