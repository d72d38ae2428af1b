import Foundation
public import HearthCore
public import Hummingbird
import Mustache
import NIOCore

/// Server-rendered HTML from the mustache templates bundled with this module.
///
/// Templates live in `Templates/` (`survivor-…` for the intake listener, `staff-…` for casework; template names have no
/// slashes, which mustache closing tags cannot hold). `{{name}}` escapes HTML; the templates never use triple mustaches, so every
/// value from a survivor or member of staff is escaped.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// The languages the pages speak.
    public let languages: Languages

    /// Loads every template and language catalogue (offering the pseudo-locales with
    /// `pseudoLocales`, for tests); throws when the bundle, a template or a catalogue is broken,
    /// so a bad build fails at start-up rather than on a survivor's page.
    public init(pseudoLocales: Bool = false) async throws {
        languages = try Languages.load(pseudo: pseudoLocales)
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw PageError(reason: "the page templates are missing from this build")
        }
        library = try await MustacheLibrary(directory: directory)
        for required in ["survivor-layout", "staff-layout"] where library.getTemplate(named: required) == nil {
            throw PageError(reason: "the page template '\(required)' is missing from this build")
        }
    }

    /// Renders `template` with `context`, in the language of the request being answered
    /// (``Catalogue/current``): the template reads its words as `{{{t.key}}}`, and `lang`, `dir`
    /// and the language links come with them. A missing template renders a plain fallback (and
    /// is a bug a test catches).
    public func render(_ template: String, _ context: [String: Any]) -> String {
        let words = Catalogue.current
        var context = context
        context["t"] = words.templateValues
        context["lang"] = words.tag
        context["dir"] = words.direction
        let links = languages.links(current: words, path: Catalogue.currentPath)
        context["languageLinks"] = links
        context["hasLanguageLinks"] = !links.isEmpty
        return library.render(context, withTemplate: template)
            ?? "<!doctype html><html lang=\"en\"><title>Hearth</title><p>Sorry, this page could not be shown. Please try again later.</p></html>"
    }

    /// An HTML response: `text/html; charset=utf-8`, plus `headers`.
    public func page(_ template: String, status: HTTPResponse.Status = .ok, _ context: [String: Any], headers: HTTPFields = [:]) -> Response {
        var h = headers
        h[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: render(template, context))))
    }
}

/// A page-rendering failure at start-up.
public struct PageError: Error, CustomStringConvertible {
    /// What is wrong, for the operator.
    public let reason: String
    public var description: String { "failed to load pages: \(reason)" }
}

/// A `303 See Other` to `location` (a path on this listener), for post/redirect/get.
public func seeOther(_ location: String, headers: HTTPFields = [:]) -> Response {
    var h = headers
    h[.location] = location
    return Response(status: .seeOther, headers: h)
}

/// The stylesheet and the optional "Exit this page" keyboard script, served from this origin.
public enum Assets {
    /// Adds `GET /assets/hearth.css` and `GET /assets/exit.js`.
    public static func register(on router: Router<HearthRequestContext>) {
        let css = load("hearth", "css")
        let js = load("exit", "js")
        router.get("/assets/hearth.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: css)))
        }
        router.get("/assets/exit.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: js)))
        }
    }

    static func load(_ name: String, _ ext: String) -> [UInt8] {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Assets"),
            let data = try? Data(contentsOf: url)
        else { return [] }
        return Array(data)
    }
}

/// What the page routes of one listener share: the templates, the form guard, and where "Exit
/// this page" leaves for.
public struct PageSettings: Sendable {
    /// The templates.
    public let renderer: PageRenderer
    /// CSRF and one-time tokens for this listener's forms.
    public let forms: FormGuard
    /// The everyday site "Exit this page" leads to (an absolute `https://` URL).
    public let exitURL: String
    /// The clock that times page sessions and one-time tokens.
    public let clock: any WallClock

    /// Settings over loaded templates.
    public init(renderer: PageRenderer, forms: FormGuard, exitURL: String, clock: any WallClock) {
        self.renderer = renderer
        self.forms = forms
        self.exitURL = exitURL
        self.clock = clock
    }

    /// The default neutral site "Exit this page" leads to.
    public static let defaultExitURL = "https://www.bbc.co.uk/weather"

    /// Loads the templates and makes a fresh form guard.
    public static func load(exitURL: String = defaultExitURL, clock: any WallClock, pseudoLocales: Bool = false) async throws -> PageSettings {
        PageSettings(
            renderer: try await PageRenderer(pseudoLocales: pseudoLocales), forms: try FormGuard(clock: clock), exitURL: exitURL, clock: clock)
    }
}

/// A plain heading for an error page, in the page's language.
public func errorHeading(_ status: HTTPResponse.Status) -> String {
    let key =
        switch status.code {
        case 400, 413, 415: "error.heading.badRequest"
        case 401: "error.heading.notFound"
        case 403: "error.heading.forbidden"
        case 404: "error.heading.pageNotFound"
        case 409: "error.heading.conflict"
        case 429: "error.heading.wait"
        default: "error.heading.ours"
        }
    return Catalogue.current.text(key)
}

/// What an error page says about a refusal with `code`: in English the service's own message
/// (the source), in another language the catalogue's words for the code (`problem.CODE`), or for
/// its status when the code has none.
public func pageMessage(status: HTTPResponse.Status, code: String, message: String) -> String {
    let words = Catalogue.current
    if words.tag == "en" { return sentence(message) }
    if words.has("problem.\(code)") { return words.text("problem.\(code)") }
    return words.text(status.code >= 500 ? "problem.ours" : "problem.other")
}

/// A message from the services (lowercase, no full stop, as the API sends it) as a sentence
/// for a page.
public func sentence(_ message: String) -> String {
    guard let first = message.first else { return message }
    let body = first.uppercased() + message.dropFirst()
    return body.hasSuffix(".") || body.hasSuffix("?") ? body : body + "."
}
