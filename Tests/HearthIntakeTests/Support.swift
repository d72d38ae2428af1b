import NIOHTTP1

/// HTTP methods as Sendable test arguments.
enum HTTPMethodName: String, Sendable {
    case GET, POST, PUT, DELETE

    var nio: HTTPMethod { HTTPMethod(rawValue: rawValue) }
}
