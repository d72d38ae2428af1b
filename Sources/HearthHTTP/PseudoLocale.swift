/// The two pseudo-locales, made from English when the catalogues load, for the tests.
///
/// - `en-XA`: every letter accented and each string about 40% longer, between `⟦` and `⟧`: text
///   that is clipped, overlaps, or still comes from a template or page code instead of the
///   catalogue stands out (a page in `en-XA` has no plain ASCII word left but the user's own).
/// - `ar-XB`: right to left: the page has `dir="rtl"` and each word is written right to left, so
///   a layout that does not mirror shows.
///
/// Placeholders (`{name}`) and link targets (`](/path)`) are left exactly as they are.
enum PseudoLocale {
    static func accented(from english: Catalogue) -> Catalogue {
        Catalogue(
            tag: "en-XA", name: transform("English (accented)", accent), direction: "ltr", isPseudo: true,
            status: "pseudo-locale for tests", plural: .english, entries: english.entries.mapValues { map($0, accentAndLengthen) },
            fallback: nil)
    }

    static func rightToLeft(from english: Catalogue) -> Catalogue {
        Catalogue(
            tag: "ar-XB", name: transform("English (right to left)", mirror), direction: "rtl", isPseudo: true,
            status: "pseudo-locale for tests", plural: .english, entries: english.entries.mapValues { map($0) { transform($0, mirror) } },
            fallback: nil)
    }

    static func map(_ entry: Catalogue.Entry, _ f: (String) -> String) -> Catalogue.Entry {
        switch entry {
        case .words(let s): .words(f(s))
        case .plural(let forms): .plural(forms.mapValues(f))
        }
    }

    static let accents: [Character: Character] = {
        let plain = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let marked = Array("áƀçðéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÅƁÇÐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ")
        return Dictionary(uniqueKeysWithValues: zip(plain, marked))
    }()

    static let filler = Array("ôñé ţŵö ţĥŕéé ƒöûŕ ƒîṽé šîẋ šéṽéñ éîĝĥţ ñîñé ţéñ ")

    /// Accents every letter of the words.
    static func accent(_ words: Substring) -> String { String(words.map { accents[$0] ?? $0 }) }

    /// Writes a run of words right to left (right-to-left override, then pop), keeping the marks
    /// that make it a run of its own.
    static func mirror(_ words: Substring) -> String {
        guard words.contains(where: \.isLetter) else { return String(words) }
        return "\u{200F}\u{202E}" + words + "\u{202C}\u{200F}"
    }

    static func accentAndLengthen(_ s: String) -> String {
        let body = transform(s, accent)
        let letters = s.filter(\.isLetter).count
        guard letters > 0 else { return body }
        let extra = (letters * 2 + 4) / 5
        var padding = ""
        var i = 0
        while padding.count < extra {
            padding.append(filler[i % filler.count])
            i += 1
        }
        return "⟦" + body + " " + padding.trimmingCharacters(in: " ") + "⟧"
    }

    /// Applies `f` to the words of `s`, leaving `{placeholders}`, `](link targets)` and
    /// `` `code` `` alone.
    static func transform(_ s: String, _ f: (Substring) -> String) -> String {
        guard !s.contains("`") else {
            return s.split(separator: "`", omittingEmptySubsequences: false).enumerated().map { i, part in
                i % 2 == 1 ? "`\(part)`" : transform(String(part), f)
            }.joined()
        }
        var out = ""
        var rest = Substring(s)
        while let special = rest.firstIndex(where: { $0 == "{" || $0 == "]" }) {
            out += f(rest[..<special])
            let tail = rest[special...]
            let closing: Character = tail.first == "{" ? "}" : ")"
            if tail.first == "]", !tail.dropFirst().hasPrefix("(") {
                out += "]"
                rest = tail.dropFirst()
                continue
            }
            guard let end = tail.firstIndex(of: closing) else {
                out += f(tail)
                return out
            }
            out += tail[...end]
            rest = tail[tail.index(after: end)...]
        }
        return out + f(rest)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return String(s)
    }
}
