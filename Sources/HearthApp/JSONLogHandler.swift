import Foundation
public import Logging

/// One JSON object per line (`--log-format json`), for journald and log shippers:
///
///     {"time":"2026-12-01T14:05:09.123Z","level":"info","label":"hearth","message":"request","metadata":{"http.route":"/healthz","http.status":"200"}}
///
/// It writes exactly what the text format writes — the message and its metadata, which the code
/// keeps free of survivor content, receipts, usernames and addresses (SECURITY.md §11) — and
/// nothing else: no source file, function or line, no host name, no process environment.
public struct JSONLogHandler: LogHandler {
    /// Receives each finished line, newline included.
    public typealias Sink = @Sendable (String) -> Void

    /// The label (`hearth`).
    public let label: String
    /// Messages below this level are dropped.
    public var logLevel: Logger.Level
    /// Metadata added to every message.
    public var metadata: Logger.Metadata = [:]
    private let sink: Sink

    /// A handler for `label` at `level` that writes to standard error (or to `sink`).
    public init(label: String, level: Logger.Level = .info, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "{\"time\":"
        Self.appendString(Self.timestamp(), to: &line)
        line += ",\"level\":"
        Self.appendString(event.level.rawValue, to: &line)
        line += ",\"label\":"
        Self.appendString(label, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        if !merged.isEmpty {
            line += ",\"metadata\":"
            Self.append(.dictionary(merged), to: &line)
        }
        line += "}\n"
        sink(line)
    }

    /// Writes `line` to standard error in one `write` (lines from several threads never interleave).
    public static let standardError: Sink = { line in
        var line = line
        line.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(2, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// Now, as RFC 3339 UTC with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ n: Int32, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }

    static func append(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let s): appendString(s, to: &line)
        case .stringConvertible(let c): appendString(c.description, to: &line)
        case .array(let values):
            line += "["
            for (i, v) in values.enumerated() {
                if i > 0 { line += "," }
                append(v, to: &line)
            }
            line += "]"
        case .dictionary(let entries):
            line += "{"
            // Sorted keys: the same event always reads the same way.
            for (i, key) in entries.keys.sorted().enumerated() {
                if i > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                append(entries[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// Appends `s` as a JSON string: quotes, backslashes and every control character escaped.
    static func appendString(_ s: String, to line: inout String) {
        line += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
