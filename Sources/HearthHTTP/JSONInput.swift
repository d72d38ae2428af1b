import HearthCore
public import Hummingbird

/// Reading request bodies strictly, the same way on both listeners.
public enum JSONInput {
    /// Reads a JSON body: `application/json` only, at most ``RequestLimits/bodyBytes``.
    public static func read(_ request: Request) async throws -> JSONValue {
        let type = request.headers[.contentType]?.lowercased().filter { $0 != " " } ?? ""
        guard type == "application/json" || type == "application/json;charset=utf-8" else {
            throw ProblemResponse.unsupportedMediaType("send the request as JSON with the header 'Content-Type: application/json'")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > RequestLimits.bodyBytes {
            throw ProblemResponse.tooLarge
        }
        let buffer = try await request.body.collect(upTo: RequestLimits.bodyBytes)
        return try JSONValue.parse(Array(buffer.readableBytesView))
    }
}
