import Foundation
public import HearthCore
import HearthCrypto
public import Hummingbird
import Synchronization

/// The fields of an `application/x-www-form-urlencoded` body, read strictly.
public struct FormFields: Sendable {
    /// Name–value pairs in the order sent.
    public let pairs: [(name: String, value: String)]

    /// The first value sent for `name`, if any.
    public func value(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    /// The first value for `name` with surrounding white space removed; nil when empty.
    public func trimmed(_ name: String) -> String? {
        guard let v = value(name)?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        return v
    }

    /// Every value sent for `name` (checkboxes), in order.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Reads a form body: that content type only, at most the route's ``RequestLimits/bodyBytes``,
    /// valid percent encoding and UTF-8, and no field outside `allowed` (the CSRF field `csrf` is
    /// always allowed).
    public static func read(_ request: Request, allowed: Set<String>) async throws -> FormFields {
        let type = request.headers[.contentType]?.lowercased().filter { $0 != " " } ?? ""
        guard type == "application/x-www-form-urlencoded" || type.hasPrefix("application/x-www-form-urlencoded;") else {
            throw ProblemResponse.unsupportedMediaType("this page only accepts its own form; please go back and try again")
        }
        let limit = RequestLimits.bodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ProblemResponse.tooLarge
        }
        let buffer = try await request.body.collect(upTo: limit)
        let fields = try parse(Array(buffer.readableBytesView))
        for (name, _) in fields.pairs where name != FormGuard.fieldName && !allowed.contains(name) {
            throw Problem(.badRequest, code: "unknown-field", "the form sent a field this page does not know; please go back and try again")
        }
        return fields
    }

    /// Parses `a=1&b=two+words`; throws on bad percent encoding or invalid UTF-8.
    public static func parse(_ bytes: [UInt8]) throws(Problem) -> FormFields {
        var pairs: [(String, String)] = []
        for part in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let kv = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(kv[0])
            let value = kv.count > 1 ? try decode(kv[1]) : ""
            pairs.append((name, value))
        }
        return FormFields(pairs: pairs)
    }

    static func decode(_ raw: ArraySlice<UInt8>) throws(Problem) -> String {
        let malformed = Problem(.badRequest, code: "malformed-form", "the form could not be read; please go back and try again")
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        while i < raw.endIndex {
            let b = raw[i]
            if b == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < raw.endIndex, let h = hex(raw[i + 1]), let l = hex(raw[i + 2]) else { throw malformed }
                out.append(h << 4 | l)
                i += 2
            } else {
                out.append(b)
            }
            i += 1
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw malformed }
        // Control characters other than tab and line breaks never belong in a form field.
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" || $0.value == 0x7f }) else {
            throw malformed
        }
        return text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Cross-site request forgery protection for every form, and one-time tokens for forms that must
/// not be sent twice.
///
/// Signed double-submit: each browser gets a random `__Host-hearth-form` cookie (Secure, HttpOnly,
/// SameSite=Strict); each form carries `csrf` = keyed BLAKE2b of that cookie under a key that
/// lives only in this process's memory. A post without the cookie, without the field, or with a
/// field that does not match is refused before anything changes.
public final class FormGuard: Sendable {
    /// The hidden form field.
    public static let fieldName = "csrf"
    /// The cookie that binds tokens to one browser.
    public static let cookieName = "__Host-hearth-form"
    /// How long a one-time token stays valid.
    public static let onceLifetime: Int64 = 2 * 3600

    private let key: SecretBytes
    private let clock: any WallClock
    private let redeemed = Mutex<[[UInt8]: Int64]>([:])

    /// A fresh random key; tokens from before a restart are refused (the form is simply reloaded).
    public init(clock: any WallClock) throws {
        key = try SecretBytes.random(count: 32)
        self.clock = clock
    }

    /// The token for a page's forms, and a `Set-Cookie` value when this browser has no cookie yet.
    public func prepare(_ request: Request) throws -> (token: String, setCookie: String?) {
        if let cookie = Self.cookie(Self.cookieName, in: request), cookie.utf8.count == 43 {
            return (try token(for: cookie), nil)
        }
        let cookie = Base64URL.encode(try SystemRandom.bytes(32))
        return (try token(for: cookie), "\(Self.cookieName)=\(cookie); Path=/; Secure; HttpOnly; SameSite=Strict")
    }

    /// Throws a 403 ``Problem`` unless `fields` carries the token for this browser's cookie.
    public func verify(_ request: Request, _ fields: FormFields) throws {
        guard let cookie = Self.cookie(Self.cookieName, in: request), let sent = fields.value(Self.fieldName),
            Sodium.constantTimeEqual(Array(sent.utf8), Array(try token(for: cookie).utf8))
        else { throw Self.expired }
    }

    /// The refusal for a missing or wrong token.
    public static let expired = Problem(
        .forbidden, code: "form-expired",
        "this form has expired or did not come from this site, so nothing was changed; please go back, reload the page and try again")

    func token(for cookie: String) throws -> String {
        Base64URL.encode(try Blake2b.hash(Array("hearth-csrf-v1\u{0}\(cookie)".utf8), key: key))
    }

    /// A token that ``redeemOnce(_:)`` accepts exactly once, within ``onceLifetime``.
    public func issueOnce() throws -> String {
        let nonce = try SystemRandom.bytes(16)
        let expiry = clock.unixSeconds() + Self.onceLifetime
        let body = nonce + withUnsafeBytes(of: expiry.bigEndian) { Array($0) }
        return Base64URL.encode(body + (try mac(body)))
    }

    /// True the first time a valid, unexpired token is presented; false for a replay, an expired
    /// token or anything forged.
    public func redeemOnce(_ token: String) -> Bool {
        guard let bytes = Base64URL.decode(token), bytes.count == 40 else { return false }
        let body = Array(bytes[0..<24])
        guard let expected = try? mac(body), Sodium.constantTimeEqual(expected, Array(bytes[24...])) else { return false }
        let expiry = body[16..<24].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let now = clock.unixSeconds()
        guard expiry > now else { return false }
        return redeemed.withLock { used in
            used = used.filter { $0.value > now }
            let nonce = Array(body[0..<16])
            guard used[nonce] == nil else { return false }
            used[nonce] = expiry
            return true
        }
    }

    func mac(_ body: [UInt8]) throws -> [UInt8] {
        Array(try Blake2b.hash(Array("hearth-once-v1\u{0}".utf8) + body, key: key).prefix(16))
    }

    /// The value of cookie `name`, if the request carries it.
    public static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }
}

/// Short-lived sessions held in memory only: the browser keeps a random 256-bit token in a
/// `__Host-` cookie; the table is keyed by a keyed hash of it, so a memory dump does not yield
/// usable cookies. Entries end after `idle` seconds without use or `absolute` seconds in all, and
/// the table holds at most `capacity` (the oldest go first).
public final class EphemeralSessions<Value: Sendable>: Sendable {
    struct Entry {
        let value: Value
        let created: Int64
        var lastUsed: Int64
    }

    private let key: SecretBytes
    private let clock: any WallClock
    private let idle: Int64
    private let absolute: Int64
    private let capacity: Int
    private let entries = Mutex<[[UInt8]: Entry]>([:])

    /// A table whose tokens end after `idle` seconds unused or `absolute` seconds in all.
    public init(idle: Int64, absolute: Int64, capacity: Int = 10_000, clock: any WallClock) throws {
        key = try SecretBytes.random(count: 32)
        self.clock = clock
        self.idle = idle
        self.absolute = absolute
        self.capacity = capacity
    }

    /// Stores `value` and returns the new token for the cookie.
    public func create(_ value: Value) throws -> String {
        let token = Base64URL.encode(try SystemRandom.bytes(32))
        let id = try hash(token)
        let now = clock.unixSeconds()
        entries.withLock { table in
            table = table.filter { live($0.value, now) }
            if table.count >= capacity, let oldest = table.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
                table[oldest.key] = nil
            }
            table[id] = Entry(value: value, created: now, lastUsed: now)
        }
        return token
    }

    /// The value for a live token (and marks it used); nil when unknown or ended.
    public func lookup(_ token: String?) -> Value? {
        guard let token, token.utf8.count == 43, let id = try? hash(token) else { return nil }
        let now = clock.unixSeconds()
        return entries.withLock { table in
            guard var entry = table[id] else { return nil }
            guard live(entry, now) else {
                table[id] = nil
                return nil
            }
            entry.lastUsed = now
            table[id] = entry
            return entry.value
        }
    }

    /// Ends a session.
    public func remove(_ token: String?) {
        guard let token, let id = try? hash(token) else { return }
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// Ends every session whose value matches `predicate` (e.g. after erasure).
    public func removeAll(where predicate: (Value) -> Bool) {
        entries.withLock { table in table = table.filter { !predicate($0.value.value) } }
    }

    /// How many sessions are held (for tests).
    public var count: Int { entries.withLock { $0.count } }

    /// How many held sessions are live now (for the operators' figures): a count, nothing else.
    public var liveCount: Int {
        let now = clock.unixSeconds()
        return entries.withLock { table in table.values.count { live($0, now) } }
    }

    private func live(_ e: Entry, _ now: Int64) -> Bool { now - e.lastUsed < idle && now - e.created < absolute }

    private func hash(_ token: String) throws -> [UInt8] { try Blake2b.hash(Array(token.utf8), key: key) }
}
