import Foundation
public import HearthCore

/// One language's words: every survivor- and staff-facing string of the pages, looked up by key.
///
/// English (`Locales/en.json`) is the source; each other language is one file beside it with the
/// same keys (`hearth i18n check` lists the missing and unused ones). Two pseudo-locales are made
/// from English at load time, for the tests only: `en-XA` (accented and about 40% longer) and
/// `ar-XB` (right to left), so that a page which still holds English, clips a long word or does not
/// mirror is caught before a translator sees it.
///
/// A string may hold named placeholders (`{count}`) and, for the pages, links written
/// `[words](/path)` and commands between backticks; nothing else is markup. ``html(_:_:)`` escapes the words and makes the links;
/// ``text(_:_:)`` drops the link targets and escapes nothing (for values a template escapes).
public final class Catalogue: Sendable {
    /// The language's BCP 47 tag (`en`, `cy`, `en-XA`, `ar-XB`).
    public let tag: String
    /// The language's name in itself (`Cymraeg`), for the language links.
    public let name: String
    /// `ltr` or `rtl`, for `<html dir>`.
    public let direction: String
    /// A pseudo-locale made for the tests: offered only when the settings ask for it.
    public let isPseudo: Bool
    /// What a reader should know about the translation's state (for example, awaiting review).
    public let status: String
    /// The plural rule of the language.
    let plural: PluralRule
    /// Every entry, by key.
    let entries: [String: Entry]
    /// The words of English, for a key this language lacks (never for a complete one).
    let fallback: Catalogue?

    /// One catalogue entry: words, or words per plural category (`one`, `other`, and in Welsh
    /// also `zero`, `two`, `few`, `many`).
    enum Entry: Sendable {
        case words(String)
        case plural([String: String])
    }

    init(
        tag: String, name: String, direction: String, isPseudo: Bool, status: String, plural: PluralRule, entries: [String: Entry],
        fallback: Catalogue?
    ) {
        self.tag = tag
        self.name = name
        self.direction = direction
        self.isPseudo = isPseudo
        self.status = status
        self.plural = plural
        self.entries = entries
        self.fallback = fallback
        templateValues = Self.tree(entries)
    }

    /// The entries as nested dictionaries of HTML, for templates: `{{{t.start.title}}}`. Made once
    /// at load and never changed; it holds only strings and dictionaries of them.
    nonisolated(unsafe) public let templateValues: [String: Any]

    /// Whether this catalogue (or English behind it) has `key`.
    public func has(_ key: String) -> Bool { entries[key] != nil || fallback?.has(key) == true }

    /// Every key this catalogue holds (plural entries once).
    public var keys: Set<String> { Set(entries.keys) }

    // MARK: Looking up

    /// The words for `key` with `arguments` put in, as plain text (links keep only their words).
    /// A key nobody wrote shows as itself, which the catalogue check in the tests catches.
    public func text(_ key: String, _ arguments: [String: String] = [:]) -> String {
        Markup.plain(Self.fill(raw(key, count: nil), arguments))
    }

    /// The plural form of `key` for `count` (put in as `{count}`), as plain text.
    public func text(_ key: String, count: Int, _ arguments: [String: String] = [:]) -> String {
        var a = arguments
        a["count"] = a["count"] ?? String(count)
        return Markup.plain(Self.fill(raw(key, count: count), a))
    }

    /// The words for `key` as HTML: escaped, with its `[words](/path)` links made; arguments are
    /// escaped before they are put in.
    public func html(_ key: String, _ arguments: [String: String] = [:]) -> String {
        Markup.html(raw(key, count: nil), arguments: arguments)
    }

    /// The entry for `key` before placeholders are filled.
    func raw(_ key: String, count: Int?) -> String {
        switch entries[key] {
        case .words(let s): return s
        case .plural(let forms):
            let category = plural.category(count ?? 0)
            return forms[category] ?? forms["other"] ?? key
        case nil: return fallback?.raw(key, count: count) ?? key
        }
    }

    /// Puts each `{name}` of `s` in from `arguments`, in one pass: a value is never read again,
    /// so a value holding `{other}` (something a person typed) stays as it is.
    static func fill(_ s: String, _ arguments: [String: String], escaping: (Substring) -> String = { String($0) }) -> String {
        guard !arguments.isEmpty, s.contains("{") else { return escaping(s[...]) }
        var out = ""
        var rest = Substring(s)
        while let open = rest.firstIndex(of: "{") {
            out += escaping(rest[..<open])
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = arguments[String(after[..<close])] {
                out += escaping(value[...])
                rest = after[after.index(after: close)...]
            } else {
                out += escaping("{")
                rest = after
            }
        }
        return out + escaping(rest)
    }

    // MARK: Dates

    /// A day in words: `3 December 2026` (`3 Rhagfyr 2026`).
    public func date(_ day: Day) -> String {
        let (year, month, d) = day.components
        return text("date.day", ["day": String(d), "month": text("date.month.\(month)"), "year": String(year)])
    }

    /// A moment in UK time, in words: `Thursday 10 December 2026 at 10:00 (UK time)`.
    public func ukTime(_ unixSeconds: Int64) -> String {
        let c = UKTime.components(unixSeconds)
        let day = text("date.day", ["day": String(c.day ?? 1), "month": text("date.month.\(c.month ?? 1)"), "year": String(c.year ?? 1970)])
        return text(
            "date.ukTime",
            [
                "weekday": text("date.weekday.\(c.weekday ?? 1)"), "date": day,
                "time": "\(UKTime.two(c.hour ?? 0)):\(UKTime.two(c.minute ?? 0))",
            ])
    }

    // MARK: Template values

    /// Nested dictionaries of HTML from dotted keys; a plural entry shows its `other` form.
    static func tree(_ entries: [String: Entry]) -> [String: Any] {
        var root = Node()
        for (key, entry) in entries {
            let html: String
            switch entry {
            case .words(let s): html = Markup.html(s, arguments: [:])
            case .plural(let forms): html = Markup.html(forms["other"] ?? "", arguments: [:])
            }
            root.insert(key.split(separator: ".").map(String.init)[...], html)
        }
        return root.value
    }

    struct Node {
        var children: [String: Node] = [:]
        var leaf: String?
        mutating func insert(_ path: ArraySlice<String>, _ html: String) {
            guard let first = path.first else {
                leaf = html
                return
            }
            children[first, default: Node()].insert(path.dropFirst(), html)
        }
        var value: [String: Any] {
            var out: [String: Any] = [:]
            for (k, child) in children { out[k] = child.children.isEmpty ? (child.leaf ?? "") : child.value }
            return out
        }
    }
}

/// CLDR plural categories for the languages Hearth has.
enum PluralRule: Sendable {
    /// English: `one` for 1, `other` otherwise.
    case english
    /// Welsh: `zero` 0, `one` 1, `two` 2, `few` 3, `many` 6, `other` otherwise.
    case welsh

    func category(_ n: Int) -> String {
        switch self {
        case .english: n == 1 ? "one" : "other"
        case .welsh:
            switch n {
            case 0: "zero"
            case 1: "one"
            case 2: "two"
            case 3: "few"
            case 6: "many"
            default: "other"
            }
        }
    }

    /// The categories a complete catalogue entry has.
    var categories: [String] {
        switch self {
        case .english: ["one", "other"]
        case .welsh: ["zero", "one", "two", "few", "many", "other"]
        }
    }

    init(tag: String) { self = tag == "cy" ? .welsh : .english }
}

/// The catalogue's only markup: `[words](/path)` links (a path on this site or a `#fragment`) and
/// code spans between backticks (a command, left as written in every language).
enum Markup {
    /// Escaped HTML with the links and code spans made; each argument is escaped, then put in.
    static func html(_ s: String, arguments: [String: String]) -> String {
        guard !s.contains("`") else {
            return s.split(separator: "`", omittingEmptySubsequences: false).enumerated().map { i, part in
                i % 2 == 1 ? "<code>\(escape(part))</code>" : html(String(part), arguments: arguments)
            }.joined()
        }
        return links(s).map { piece in
            switch piece {
            case .words(let w): escapeFilling(w, arguments)
            case .link(let words, let target) where isSafeTarget(target):
                "<a href=\"\(escape(target))\">\(escapeFilling(words, arguments))</a>"
            case .link(let words, _): escapeFilling(words, arguments)
            }
        }.joined()
    }

    /// The words without link targets or backticks.
    static func plain(_ s: String) -> String {
        guard !s.contains("`") else { return plain(s.replacingOccurrences(of: "`", with: "")) }
        guard s.contains("](") else { return s }
        return links(s).map { piece in
            switch piece {
            case .words(let w): String(w)
            case .link(let words, _): String(words)
            }
        }.joined()
    }

    /// A stretch of catalogue text: plain words, or a `[words](target)` link.
    enum Piece {
        case words(Substring)
        case link(words: Substring, target: Substring)
    }

    /// `s` cut into words and links; a `[` that starts no link stays in the words.
    static func links(_ s: String) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(s)
        var words = rest.startIndex
        var from = rest.startIndex
        while let open = rest[from...].firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "]"), after[after.index(after: close)...].hasPrefix("("),
                let end = after[close...].firstIndex(of: ")")
            else {
                from = after.startIndex
                continue
            }
            if words < open { pieces.append(.words(rest[words..<open])) }
            pieces.append(.link(words: after[..<close], target: after[after.index(close, offsetBy: 2)..<end]))
            rest = after[after.index(after: end)...]
            words = rest.startIndex
            from = rest.startIndex
        }
        if words < rest.endIndex { pieces.append(.words(rest[words...])) }
        return pieces
    }

    static func isSafeTarget(_ t: Substring) -> Bool {
        guard t.hasPrefix("/") || t.hasPrefix("#") else { return false }
        guard !t.hasPrefix("//") else { return false }
        return t.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || "0123456789/#-_.?=&".unicodeScalars.contains($0)) }
    }

    static func escapeFilling(_ s: Substring, _ arguments: [String: String]) -> String {
        Catalogue.fill(String(s), arguments, escaping: { escape($0) })
    }

    static func escape<S: StringProtocol>(_ s: S) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
