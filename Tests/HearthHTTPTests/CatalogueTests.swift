import Foundation
import HearthCore
import Testing

@testable import HearthHTTP

/// The language catalogues: the rules of lookup, plurals, markup and pseudo-locales, that every
/// translation is complete and keeps English's placeholders and links, and that the templates hold
/// keys, not words.
@Suite("Language catalogues")
struct CatalogueTests {
    static let languages: Languages = {
        do { return try Languages.load(pseudo: true) } catch { fatalError("the bundled catalogues do not load: \(error)") }
    }()

    static var english: Catalogue { languages.english }

    /// The source tree's directory `path` (relative to the package root).
    static func sourceDirectory(_ path: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(path)
    }

    // MARK: Lookup, plurals, markup

    @Test("English and Welsh plural categories follow CLDR")
    func pluralRules() {
        #expect([0, 1, 2, 5].map(PluralRule.english.category) == ["other", "one", "other", "other"])
        #expect([0, 1, 2, 3, 4, 6, 7, 30].map(PluralRule.welsh.category) == ["zero", "one", "two", "few", "other", "many", "other", "other"])
    }

    @Test("a plural entry takes the form for its count and fills {count}")
    func plurals() throws {
        let english = Self.english
        #expect(english.text("retention.summary", count: 1).contains("for 1 day,"))
        #expect(english.text("retention.summary", count: 30).contains("for 30 days in a row"))
        let welsh = try #require(Self.languages.catalogue("cy"))
        #expect(welsh.text("retention.summary", count: 2).contains("2 ddiwrnod"))
        #expect(welsh.text("retention.summary", count: 30).contains("30 diwrnod"))
    }

    @Test("links become anchors only to this site; words and arguments are escaped")
    func markup() {
        #expect(Markup.html("Read [this](/safety) first & <b>", arguments: [:]) == "Read <a href=\"/safety\">this</a> first &amp; &lt;b&gt;")
        #expect(Markup.html("[x](#part)", arguments: [:]) == "<a href=\"#part\">x</a>")
        for target in ["javascript:void0", "//evil.example", "https://evil.example", "/a\"onmouseover=x"] {
            #expect(Markup.html("[x](\(target))", arguments: [:]) == "x", "a link to \(target) was made")
        }
        #expect(Markup.html("Hello {name}", arguments: ["name": "<script>"]) == "Hello &lt;script&gt;")
        // One pass: a value holding a placeholder (typed by a person) is put in as it is.
        #expect(Catalogue.fill("{a} and {b}", ["a": "{b}", "b": "x"]) == "{b} and x")
        #expect(Markup.html("{a} and {b}", arguments: ["a": "{b}", "b": "<x>"]) == "{b} and &lt;x&gt;")
        #expect(Catalogue.fill("{unknown} stays", ["a": "1"]) == "{unknown} stays")
        #expect(Markup.plain("Read [this](/safety) first") == "Read this first")
        #expect(Markup.html("a [b] c", arguments: [:]) == "a [b] c")
        #expect(Markup.html("run `keys <x>` and [see](/keys)", arguments: [:]) == "run <code>keys &lt;x&gt;</code> and <a href=\"/keys\">see</a>")
        #expect(Markup.plain("run `keys rewrap` now") == "run keys rewrap now")
    }

    @Test("a key nobody wrote shows as itself; Welsh falls back to English only for a missing key")
    func missingKeys() throws {
        #expect(Self.english.text("no.such.key") == "no.such.key")
        #expect(!Self.english.has("no.such.key"))
        let welsh = try #require(Self.languages.catalogue("cy"))
        #expect(welsh.text("layout.exit") == "Gadael y dudalen hon")
    }

    @Test("dates and UK times are written in the page's language")
    func dates() throws {
        let day = try #require(Day(iso: "2026-12-03"))
        #expect(Self.english.date(day) == "3 December 2026")
        let welsh = try #require(Self.languages.catalogue("cy"))
        #expect(welsh.date(day) == "3 Rhagfyr 2026")
        // 10:00 UTC on Thursday 10 December 2026 is 10:00 in the UK (no summer time).
        #expect(Self.english.ukTime(1_796_896_800) == "Thursday 10 December 2026 at 10:00 (UK time)")
        #expect(welsh.ukTime(1_796_896_800) == "Dydd Iau 10 Rhagfyr 2026 am 10:00 (amser y DU)")
    }

    // MARK: Choosing a language

    @Test("Accept-Language picks the best offered language; pseudo-locales only when offered")
    func negotiation() throws {
        let plain = try Languages.load(pseudo: false)
        #expect(plain.negotiate("cy").tag == "cy")
        #expect(plain.negotiate("cy-GB,en;q=0.8").tag == "cy")
        #expect(plain.negotiate("fr, en;q=0.5, cy;q=0.9").tag == "cy")
        #expect(plain.negotiate("de, fr").tag == "en")
        #expect(plain.negotiate("").tag == "en")
        #expect(plain.negotiate("cy;q=0").tag == "en")
        #expect(plain.negotiate("en-XA").tag == "en")
        #expect(plain.catalogue("ar-XB") == nil)
        #expect(Self.languages.negotiate("ar-XB").tag == "ar-XB")
    }

    @Test("the way back after choosing a language is a path on this site, never another site")
    func localPaths() {
        for ok in ["/", "/request", "/your-request?x=1"] { #expect(Languages.isLocalPath(ok), "\(ok)") }
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a b", "/\u{0}", ""] {
            #expect(!Languages.isLocalPath(bad), "\(bad) was taken as a local path")
        }
    }

    // MARK: Pseudo-locales

    @Test("the pseudo-locales keep placeholders and link targets; en-XA has no plain ASCII letter, ar-XB is right to left")
    func pseudoLocales() throws {
        let accented = try #require(Self.languages.catalogue("en-XA"))
        let mirrored = try #require(Self.languages.catalogue("ar-XB"))
        #expect(accented.direction == "ltr" && mirrored.direction == "rtl")
        for (key, entry) in Self.english.entries {
            for form in Self.forms(entry) {
                let placeholders = Self.placeholders(form)
                for pseudo in [accented, mirrored] {
                    for other in Self.forms(try #require(pseudo.entries[key])) {
                        #expect(Self.placeholders(other) == placeholders, "\(pseudo.tag) \(key) lost a placeholder")
                        #expect(Self.linkTargets(other) == Self.linkTargets(form), "\(pseudo.tag) \(key) changed a link")
                    }
                }
            }
            for form in Self.forms(try #require(accented.entries[key])) {
                let words = Self.withoutPlaceholdersAndTargets(form)
                #expect(!words.unicodeScalars.contains { $0.isASCII && $0.properties.isAlphabetic }, "en-XA \(key): \(form)")
            }
        }
    }

    // MARK: Completeness

    @Test("every translation has exactly English's keys, placeholders, links and plural forms, and says its review state")
    func translationsAreComplete() {
        let english = Self.english
        let translations = Self.languages.all.filter { !$0.isPseudo && $0.tag != "en" }
        #expect(translations.contains { $0.tag == "cy" }, "Welsh is missing")
        for catalogue in translations {
            #expect(!catalogue.status.isEmpty, "\(catalogue.tag) does not say its review state")
            #expect(
                catalogue.keys == english.keys,
                "\(catalogue.tag): missing \(english.keys.subtracting(catalogue.keys).sorted()), unused \(catalogue.keys.subtracting(english.keys).sorted())"
            )
            for (key, entry) in catalogue.entries {
                guard let source = english.entries[key] else { continue }
                let sourcePlaceholders = Set(Self.forms(source).flatMap(Self.placeholders))
                let sourceLinks = Self.forms(source).first.map(Self.linkTargets) ?? []
                for form in Self.forms(entry) {
                    #expect(Self.placeholders(form).isSubset(of: sourcePlaceholders), "\(catalogue.tag) \(key) has a placeholder English lacks")
                    #expect(Self.linkTargets(form) == sourceLinks, "\(catalogue.tag) \(key) links elsewhere than English")
                }
                if case .words(let s) = source {
                    #expect(Self.placeholders(s) == Self.placeholders(Self.forms(entry)[0]), "\(catalogue.tag) \(key) drops a placeholder")
                }
                if case .plural(let forms) = entry {
                    #expect(Set(forms.keys) == Set(catalogue.plural.categories), "\(catalogue.tag) \(key) plural forms")
                }
            }
        }
        for (key, entry) in english.entries {
            if case .plural(let forms) = entry { #expect(Set(forms.keys) == Set(PluralRule.english.categories), "en \(key)") }
            #expect(!key.split(separator: ".").contains { $0.isEmpty }, "bad key \(key)")
            #expect(!english.keys.contains { $0.hasPrefix(key + ".") }, "\(key) is a prefix of another key")
        }
    }

    // MARK: Templates

    @Test("templates hold catalogue keys, not words: no letter outside tags, every key exists, always triple braces")
    func templatesHoldKeys() throws {
        let directory = Self.sourceDirectory("Sources/HearthHTTP/Templates")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".mustache") }.sorted()
        #expect(names.count >= 20)
        for name in names {
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            for problem in Self.templateProblems(text, english: Self.english) { Issue.record("\(name): \(problem)") }
        }
    }

    @Test("every unescaped `…HTML` value a page gives its template is made by the catalogue's html(), which escapes its arguments")
    func htmlValuesComeFromTheCatalogue() throws {
        var found = 0
        for module in ["Sources/HearthIntake", "Sources/HearthCasework", "Sources/HearthHTTP"] {
            let directory = Self.sourceDirectory(module)
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                for line in text.split(separator: "\n") where line.range(of: #""[A-Za-z]+HTML"\]? *[:=]"#, options: .regularExpression) != nil {
                    found += 1
                    #expect(line.range(of: #"[:=] *(words|Catalogue\.current)\.html\("#, options: .regularExpression) != nil, "\(name): \(line)")
                }
            }
        }
        #expect(found >= 1)
    }

    @Test("the template check itself catches words, unknown keys and double braces")
    func templateCheckCatches() {
        let english = Self.english
        #expect(Self.templateProblems("<p>{{{t.layout.exit}}}</p>", english: english).isEmpty)
        #expect(!Self.templateProblems("<p>Exit</p>", english: english).isEmpty)
        #expect(!Self.templateProblems("<p>{{{t.no.such}}}</p>", english: english).isEmpty)
        #expect(!Self.templateProblems("<p>{{t.layout.exit}}</p>", english: english).isEmpty)
        #expect(!Self.templateProblems("<nav aria-label=\"Account\"></nav>", english: english).isEmpty)
        #expect(!Self.templateProblems("<input placeholder=\"Your name\">", english: english).isEmpty)
        #expect(!Self.templateProblems("<p>{{{message}}}</p>", english: english).isEmpty)
        #expect(!Self.templateProblems("<p>{{&message}}</p>", english: english).isEmpty)
    }

    /// What is wrong with a template: words outside the catalogue, unknown keys, double braces.
    static func templateProblems(_ text: String, english: Catalogue) -> [String] {
        var problems: [String] = []
        for key in matches(#"\{\{\{\s*t\.([A-Za-z0-9.]+)\s*\}\}\}"#, in: text) where english.entries[key] == nil {
            problems.append("'\(key)' is not in the English catalogue")
        }
        // Unescaped: the catalogue's own words, or a value named `…HTML` that page code made with
        // `Catalogue.html` (checked in the Swift sources by `htmlValuesComeFromTheCatalogue`).
        for name in matches(#"\{\{\{\s*([^}]*?)\s*\}\}\}"#, in: text) where !name.hasPrefix("t.") && !name.hasSuffix("HTML") {
            problems.append("an unescaped value that is not the catalogue's: {{{\(name)}}}")
        }
        if text.range(of: #"\{\{&"#, options: .regularExpression) != nil { problems.append("an unescaped {{& }} tag") }
        if text.range(of: #"(?<!\{)\{\{\s*t\."#, options: .regularExpression) != nil {
            problems.append("a catalogue value in double braces (use {{{t.key}}})")
        }
        for value in matches(#"(?:aria-label|title|placeholder|alt)="([^"]*)""#, in: text) {
            let bare = value.replacingOccurrences(of: #"\{\{\{?[^}]*\}\}\}?"#, with: "", options: .regularExpression)
            if bare.contains(where: \.isLetter) { problems.append("words in an attribute: \(value)") }
        }
        var bare = text.replacingOccurrences(of: #"\{\{\{?[^}]*\}\}\}?"#, with: " ", options: .regularExpression)
        bare = bare.replacingOccurrences(of: #"<[^>]*>"#, with: " ", options: .regularExpression)
        bare = bare.replacingOccurrences(of: #"&[a-z]+;|&#[0-9]+;"#, with: " ", options: .regularExpression)
        for line in bare.split(separator: "\n") where line.contains(where: \.isLetter) {
            problems.append("words outside the catalogue: \(line.trimmingCharacters(in: .whitespaces))")
        }
        return problems
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let re = try? NSRegularExpression(pattern: pattern) else { return [] }
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    static func forms(_ entry: Catalogue.Entry) -> [String] {
        switch entry {
        case .words(let s): [s]
        case .plural(let forms): forms.keys.sorted().compactMap { forms[$0] }
        }
    }

    static func placeholders(_ s: String) -> Set<String> { Set(matches(#"\{([A-Za-z]+)\}"#, in: s)) }

    static func linkTargets(_ s: String) -> [String] { matches(#"\]\(([^)]*)\)"#, in: s) + matches(#"`([^`]*)`"#, in: s) }

    static func withoutPlaceholdersAndTargets(_ s: String) -> String {
        s.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"\]\([^)]*\)"#, with: "]", options: .regularExpression)
            .replacingOccurrences(of: #"`[^`]*`"#, with: "", options: .regularExpression)
    }
}
