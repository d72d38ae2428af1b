import Foundation
import HTTPTypes
public import Hummingbird

/// The languages the pages speak: the catalogues bundled in `Locales/`, which one a request gets,
/// and the pseudo-locales the tests use.
///
/// The choice is carried by one session cookie that holds only the language's tag (the same for
/// everyone who chose it, so it cannot tell one person from another), set by `GET /language` and
/// removed by "Exit this page"; without it the browser's `Accept-Language` decides, and English is
/// the default. Neither the choice nor the header is logged: the access log names only the route.
public struct Languages: Sendable {
    /// English, the source language.
    public let english: Catalogue
    /// Every catalogue a request may get, English first.
    public let all: [Catalogue]
    /// The languages offered in the language links (pseudo-locales only when asked for).
    public let offered: [Catalogue]

    /// The cookie that carries a chosen language (its tag only).
    public static let cookie = "__Host-hearth-lang"

    /// Loads the bundled catalogues; with `pseudo`, also offers the two pseudo-locales.
    public static func load(pseudo: Bool = false) throws -> Languages {
        try bundled(pseudo: pseudo)
    }

    /// The bundled catalogues, loaded once per process (the pseudo-locales are offered or not per
    /// listener).
    static func bundled(pseudo: Bool) throws -> Languages {
        let loaded = try loadedOnce.get()
        return Languages(english: loaded.english, all: loaded.all, offered: loaded.all.filter { pseudo || !$0.isPseudo })
    }

    static let loadedOnce: Result<(english: Catalogue, all: [Catalogue]), PageError> = {
        do {
            guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Locales") else {
                throw PageError(reason: "the language catalogues are missing from this build")
            }
            let english = try read(tag: "en", in: directory, fallback: nil)
            var all = [english]
            for tag in try tags(in: directory) where tag != "en" { all.append(try read(tag: tag, in: directory, fallback: english)) }
            all.append(PseudoLocale.accented(from: english))
            all.append(PseudoLocale.rightToLeft(from: english))
            return .success((english, all))
        } catch let error as PageError {
            return .failure(error)
        } catch {
            return .failure(PageError(reason: "the language catalogues could not be read (\(error))"))
        }
    }()

    /// The tags of the catalogue files (`en.json`, `cy.json`, …), sorted.
    static func tags(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .map { String($0.dropLast(5)) }
            .filter { !$0.contains(".") }
            .sorted()
    }

    /// Reads `<tag>.json`: a flat object of keys to words (or to an object of plural forms), with
    /// `@name`, `@direction` and `@status` describing the language.
    static func read(tag: String, in directory: URL, fallback: Catalogue?) throws -> Catalogue {
        let url = directory.appendingPathComponent("\(tag).json")
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw PageError(reason: "the catalogue \(tag).json is not a JSON object")
        }
        var entries: [String: Catalogue.Entry] = [:]
        var name = tag
        var direction = "ltr"
        var status = ""
        for (key, value) in object {
            switch (key, value) {
            case ("@name", let s as String): name = s
            case ("@direction", let s as String): direction = s
            case ("@status", let s as String): status = s
            case (_, _) where key.hasPrefix("@"): continue
            case (_, let s as String): entries[key] = .words(s)
            case (_, let forms as [String: String]): entries[key] = .plural(forms)
            default: throw PageError(reason: "the catalogue \(tag).json has a value for '\(key)' that is neither words nor plural forms")
            }
        }
        return Catalogue(
            tag: tag, name: name, direction: direction, isPseudo: false, status: status, plural: PluralRule(tag: tag), entries: entries,
            fallback: fallback)
    }

    /// The catalogue for `tag`, if it is offered.
    public func catalogue(_ tag: String) -> Catalogue? { offered.first { $0.tag == tag } }

    /// The language for a request: the chosen one (the cookie), else the best match for
    /// `Accept-Language`, else English.
    public func choose(for request: Request) -> Catalogue {
        if let chosen = FormGuard.cookie(Self.cookie, in: request).flatMap(catalogue) { return chosen }
        return negotiate(request.headers[.acceptLanguage] ?? "")
    }

    /// The best offered match for an `Accept-Language` value (by weight, then order; a tag matches
    /// its language, so `cy-GB` is Welsh); English when nothing matches.
    public func negotiate(_ header: String) -> Catalogue {
        var wanted: [(tag: String, weight: Double, order: Int)] = []
        for (i, part) in header.split(separator: ",").prefix(20).enumerated() {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { continue }
            var weight = 1.0
            for p in pieces.dropFirst() where p.hasPrefix("q=") { weight = Double(p.dropFirst(2)) ?? 0 }
            if weight > 0 { wanted.append((tag, weight, i)) }
        }
        wanted.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.order < $1.order }
        for w in wanted {
            if let exact = offered.first(where: { $0.tag.lowercased() == w.tag }) { return exact }
            let primary = w.tag.split(separator: "-").first.map(String.init) ?? w.tag
            if let match = offered.first(where: { !$0.isPseudo && $0.tag.lowercased() == primary }) { return match }
        }
        return english
    }

    /// The `Set-Cookie` value that carries `tag` until the browser closes.
    public static func setCookie(_ tag: String) -> String { "\(cookie)=\(tag); Path=/; Secure; HttpOnly; SameSite=Strict" }

    /// The `Set-Cookie` value that forgets the choice.
    public static var endedCookie: String { "\(cookie)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0" }
}

extension Catalogue {
    /// The language of the request being answered (English outside a request).
    @TaskLocal public static var current: Catalogue = Catalogue.englishOrEmpty

    /// The path of the page being answered, for the language links (only for a GET; a form's
    /// answer links to the start page).
    @TaskLocal public static var currentPath: String = "/"

    static let englishOrEmpty: Catalogue =
        (try? Languages.loadedOnce.get().english)
        ?? Catalogue(tag: "en", name: "English", direction: "ltr", isPseudo: false, status: "", plural: .english, entries: [:], fallback: nil)
}

/// Picks each request's language (``Languages/choose(for:)``) and answers the language links:
/// `GET /language?to=TAG&back=/path` sets the choice and goes back to the page.
public struct LanguageMiddleware<Context: RequestContext>: RouterMiddleware {
    let languages: Languages

    public init(languages: Languages) { self.languages = languages }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let catalogue = languages.choose(for: request)
        let path = request.method == .get ? request.uri.path : "/"
        return try await Catalogue.$current.withValue(catalogue) {
            try await Catalogue.$currentPath.withValue(path) { try await next(request, context) }
        }
    }
}

extension Languages {
    /// Adds `GET /language`: with `to` an offered tag, remembers it (a session cookie) and sends the
    /// browser back to `back` (a path on this site; the start page otherwise). An unknown tag
    /// changes nothing.
    public func register<Context: RequestContext>(on router: Router<Context>, start: String) {
        router.get("/language") { request, _ in
            let query = request.uri.queryParameters
            let back = query["back"].map(String.init).flatMap { Self.isLocalPath($0) ? $0 : nil } ?? start
            var headers = HTTPFields()
            headers[.location] = back
            if let tag = query["to"].map(String.init), catalogue(tag) != nil {
                headers.append(HTTPField(name: .setCookie, value: Self.setCookie(tag)))
            }
            return Response(status: .seeOther, headers: headers)
        }
    }

    /// A path on this site: `/` then no second slash or backslash first, and printable ASCII only.
    static func isLocalPath(_ s: String) -> Bool {
        guard s.hasPrefix("/"), !s.hasPrefix("//"), !s.hasPrefix("/\\"), s.count <= 200 else { return false }
        return s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" }
    }

    /// The language links for a page at `path`: every offered language but the current one.
    public func links(current: Catalogue, path: String) -> [[String: Any]] {
        let back = Self.isLocalPath(path) ? path : "/"
        let encoded = back.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? "%2F"
        return offered.filter { $0.tag != current.tag }.map {
            ["tag": $0.tag, "name": $0.name, "dir": $0.direction, "href": "/language?to=\($0.tag)&back=\(encoded)"]
        }
    }
}
