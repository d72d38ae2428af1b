import Foundation
import NIOHTTP1

// MARK: - Browser

/// A browser without JavaScript for Hearth's HTML form pages (survivor and staff alike): keeps
/// cookies (AsyncHTTPClient has no jar), never follows redirects by itself (give it a client made
/// with `followRedirects: false`), and fills in the form token from the last page it saw.
public actor PageBrowser {
    /// The name of the cookie the form guard sets on a page with a form (`FormGuard.cookieName` in
    /// HearthHTTP, spelled out here so test support does not depend on the HTTP layer).
    public static let formCookieName = "__Host-hearth-form"

    /// The client every request goes through.
    public let client: TestHTTPSClient
    /// Cookie name to value, as the server last set them.
    public private(set) var cookies: [String: String] = [:]
    /// The `csrf` value from the last page that had a form.
    public private(set) var csrf: String?

    /// A browser with an empty cookie jar that sends through `client`.
    public init(_ client: TestHTTPSClient) {
        self.client = client
    }

    /// What a post sends as its form token.
    public enum Token: Sendable {
        /// The `csrf` value of the last page with a form (nothing if there was none yet).
        case fromLastPage
        /// No form token at all.
        case none
        /// This value as the form token.
        case value(String)
    }

    /// Whether the form guard's cookie is set.
    public var hasFormCookie: Bool { cookies[Self.formCookieName] != nil }

    /// Gets `path` with this browser's cookies.
    public func get(_ path: String) async throws -> TestHTTPSClient.Reply {
        absorb(try await client.send(.GET, path, headers: cookieHeader))
    }

    /// Posts `fields` urlencoded, with the form token from the last page unless told otherwise.
    public func post(
        _ path: String, _ fields: [(String, String)] = [], token: Token = .fromLastPage
    ) async throws -> TestHTTPSClient.Reply {
        var all = fields
        switch token {
        case .fromLastPage: if let csrf { all.append(("csrf", csrf)) }
        case .none: break
        case .value(let v): all.append(("csrf", v))
        }
        let body = all.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return try await send(.POST, path, body: body, contentType: "application/x-www-form-urlencoded")
    }

    /// Sends any body with this browser's cookies (e.g. JSON to a page route).
    public func send(_ method: HTTPMethod, _ path: String, body: String, contentType: String) async throws -> TestHTTPSClient.Reply {
        absorb(try await client.send(method, path, body: Array(body.utf8), contentType: contentType, headers: cookieHeader))
    }

    /// Replaces or removes a cookie by hand (e.g. to replay an old or ended session).
    public func setCookie(_ name: String, _ value: String?) { cookies[name] = value }

    /// The `Cookie` header this browser sends: every cookie, by name; none when the jar is empty.
    public var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    /// Takes in the cookies a reply sets (or clears, with `Max-Age=0`) and its form token, if any.
    private func absorb(_ reply: TestHTTPSClient.Reply) -> TestHTTPSClient.Reply {
        for header in reply.headers["Set-Cookie"] {
            let first = header.split(separator: ";", maxSplits: 1)[0]
            let kv = first.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { continue }
            cookies[String(kv[0])] = header.contains("Max-Age=0") ? nil : String(kv[1])
        }
        if let token = Self.formToken(reply.text) { csrf = token }
        return reply
    }

    /// The value of the first `csrf` field in `html`, if there is one.
    public static func formToken(_ html: String) -> String? {
        guard let start = html.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" })
    }

    /// `s` percent-encoded for an `application/x-www-form-urlencoded` body.
    public static func encode(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._*")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

// MARK: - Reading pages

/// The `Location` header of a reply (where a redirect leads), if any.
public func location(_ reply: TestHTTPSClient.Reply) -> String? { reply.headers["Location"].first }

/// Every match of the regular expression `pattern` in `text` (none when the pattern is invalid).
public func matches(_ text: String, _ pattern: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
    let ns = text as NSString
    return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) }
}

/// The text of the element with `id` (no nested markup), unescaped.
public func element(_ html: String, id: String) -> String? {
    guard let start = html.range(of: " id=\"\(id)\"") else { return nil }
    let rest = html[start.upperBound...].drop { $0 != ">" }.dropFirst()
    return unescape(String(rest.prefix { $0 != "<" }))
}

/// The hidden fields of the form that posts to `action`, as (name, value), unescaped.
public func hiddenFields(_ html: String, action: String) -> [(String, String)] {
    guard let start = html.range(of: "action=\"\(action)\"") else { return [] }
    let form = html[start.upperBound...].components(separatedBy: "</form>")[0]
    return matches(form, #"<input type="hidden" name="[^"]*" value="[^"]*">"#).map { tag in
        let parts = tag.components(separatedBy: "\"")
        return (unescape(parts[3]), unescape(parts[5]))
    }
}

/// Undoes the HTML escaping the page templates apply (`&lt; &gt; &quot; &#39; &amp;`).
public func unescape(_ s: String) -> String {
    s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
        .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
}
