import Foundation
import HearthHTTP

/// The one configuration file of a Hearth installation (`--config FILE`), read by the services
/// and by every CLI command, so that `hearth serve` and `hearth retention run` cannot disagree on,
/// say, the retention period.
///
/// The file is one JSON object. Each key is the long name of the command-line option it stands
/// for (`"retention-days": 90`, `"no-metrics": true`), and an option given on the command line
/// overrides the file. It is read with the same strict reader as request bodies: a key the file may
/// not hold (a typo), a key given twice, a wrong type or a fraction where a whole number belongs is
/// refused with the key named, so a mistake stops the process instead of being quietly ignored.
/// A file that others could change is refused too: whoever writes it decides where the keys are.
public struct ConfigurationFile: Sendable {
    /// What a key holds.
    public enum Kind: Sendable {
        /// Text (`"keys": "/etc/hearth/keys"`).
        case text
        /// A whole number (`"intake-port": 8443`).
        case integer
        /// A number, fractions allowed (`"submissions-per-minute": 0.5`).
        case number
        /// true or false, for an on/off option (`"shared-data-group": true`).
        case flag
    }

    /// Every key a file may hold, with what it holds: the options of `hearth serve` and the
    /// commands that share them.
    public static let keys: [String: Kind] = [
        "keys": .text, "data": .text, "shared-data-group": .flag, "database": .text, "intake-database": .text,
        "database-password-credential": .text, "passphrase-credential": .text, "passphrase-env": .text,
        "host": .text, "intake-port": .integer, "casework-port": .integer, "retention-days": .integer, "receipt-failures": .integer,
        "exit-url": .text, "log-level": .text, "log-format": .text, "metrics-host": .text, "metrics-port": .integer, "no-metrics": .flag,
        "onion-port": .integer, "handshake-timeout": .integer, "request-head-timeout": .integer, "request-body-timeout": .integer,
        "idle-timeout": .integer, "max-connections": .integer,
        "source-submissions": .integer, "source-submissions-per-minute": .number, "submissions": .integer, "submissions-per-minute": .number,
        "min-free-disk": .text, "max-database-size": .text,
    ]

    /// The largest file read: a configuration is a few hundred bytes.
    public static let maximumBytes = 64 * 1024

    /// Where the file was read from, for messages.
    public let path: String
    private let values: [String: JSONValue]

    /// Reads and checks the file at `path`.
    public static func load(_ path: String) throws(ConfigurationError) -> ConfigurationFile {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigurationError(path, "cannot be read (\(String(cString: strerror(errno))))", hint: "check the path given to --config")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw ConfigurationError(path, "is not a regular file") }
        guard info.st_mode & 0o022 == 0 else {
            throw ConfigurationError(
                path, "can be changed by its group or by others (mode \(String(info.st_mode & 0o777, radix: 8)))",
                hint: "chmod go-w '\(path)': whoever can write it decides where Hearth's keys are")
        }
        guard info.st_size <= maximumBytes, let data = FileManager.default.contents(atPath: path), data.count <= maximumBytes else {
            throw ConfigurationError(path, "is larger than \(maximumBytes / 1024) KiB or cannot be read")
        }
        return try parse([UInt8](data), path: path)
    }

    /// Checks `bytes` as the file at `path` (tests and ``load(_:)``).
    public static func parse(_ bytes: [UInt8], path: String) throws(ConfigurationError) -> ConfigurationFile {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch { throw ConfigurationError(path, "is not valid JSON: \(error.message)") }
        guard case .object(let fields) = document else {
            throw ConfigurationError(path, "must hold one JSON object of options, not \(document.typeName)")
        }
        for key in fields.keys.sorted() {
            guard let kind = keys[key] else {
                throw ConfigurationError(
                    path, "has an unknown key \(quoted(key))",
                    hint: "the keys are the long names of the options: \(keys.keys.sorted().joined(separator: ", "))")
            }
            try check(fields[key]!, kind: kind, key: key, path: path)
        }
        return ConfigurationFile(path: path, values: fields)
    }

    private static func check(_ value: JSONValue, kind: Kind, key: String, path: String) throws(ConfigurationError) {
        switch (kind, value) {
        case (.text, .string), (.flag, .bool), (.number, .number): return
        case (.integer, .number(let n)) where n.rounded() == n && abs(n) < 1e15: return
        case (.text, _): throw ConfigurationError(path, "key \(quoted(key)) must be text, not \(value.typeName)")
        case (.integer, _): throw ConfigurationError(path, "key \(quoted(key)) must be a whole number, not \(value.typeName)")
        case (.number, _): throw ConfigurationError(path, "key \(quoted(key)) must be a number, not \(value.typeName)")
        case (.flag, _): throw ConfigurationError(path, "key \(quoted(key)) must be true or false, not \(value.typeName)")
        }
    }

    private static func quoted(_ key: String) -> String {
        let printable = key.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" }
        return "'\(String(printable.prefix(40)))'"
    }

    /// The text under `key`, or nil when the file does not set it.
    public func text(_ key: String) -> String? {
        precondition(Self.keys[key] == .text, "not a text key: \(key)")
        guard case .string(let s) = values[key] else { return nil }
        return s
    }

    /// The whole number under `key`, or nil when the file does not set it.
    public func integer(_ key: String) -> Int? {
        precondition(Self.keys[key] == .integer, "not a number key: \(key)")
        guard case .number(let n) = values[key] else { return nil }
        return Int(n)
    }

    /// The number under `key`, or nil when the file does not set it.
    public func number(_ key: String) -> Double? {
        precondition(Self.keys[key] == .number, "not a number key: \(key)")
        guard case .number(let n) = values[key] else { return nil }
        return n
    }

    /// The on/off value under `key`, or nil when the file does not set it.
    public func flag(_ key: String) -> Bool? {
        precondition(Self.keys[key] == .flag, "not an on/off key: \(key)")
        guard case .bool(let b) = values[key] else { return nil }
        return b
    }

    /// Whether the file sets `key` at all.
    public func sets(_ key: String) -> Bool { values[key] != nil }
}

/// A configuration file Hearth will not run with: the file, what is wrong, and what to do.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// The file.
    public let path: String
    /// What is wrong, in plain words.
    public let reason: String
    /// What to do about it, when there is something to say.
    public let hint: String?

    init(_ path: String, _ reason: String, hint: String? = nil) {
        self.path = path
        self.reason = reason
        self.hint = hint
    }

    public var description: String {
        "configuration file '\(path)' \(reason)" + (hint.map { "\nhint: \($0)" } ?? "")
    }
}
