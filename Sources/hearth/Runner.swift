import ArgumentParser
import Foundation
import HearthApp
import HearthCore
import HearthPostgres
import Logging

/// How log lines are written to standard error.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    /// swift-log's text lines.
    case text
    /// One JSON object per line (``JSONLogHandler``).
    case json
}

/// Sets up logging to standard error at `level` in `format` (once per process).
func bootstrapLogging(_ level: String, format: LogFormat = .text) -> Logger {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        switch format {
        case .json:
            return JSONLogHandler(label: label, level: lvl)
        case .text:
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = lvl
            return h
        }
    }
    return Logger(label: "hearth")
}

/// Runs the listeners through the composition root, failing closed with exit status 78 (and the
/// file and what to do) when keys, TLS files or the data directory are not right.
struct Runner {
    let settings: HearthSettings
    let listeners: Listeners
    let logLevel: String
    let logFormat: LogFormat

    init(_ service: ServiceConfiguration, listeners: Listeners) {
        settings = service.settings
        self.listeners = listeners
        logLevel = service.logLevel
        logFormat = service.logFormat
    }

    func run() async throws {
        umask(0o077)
        let logger = bootstrapLogging(logLevel, format: logFormat)
        do {
            let host = Self.bracketed(settings.host)
            let (assembly, ports, running) = try await HearthAssembly.start(settings, listeners: listeners, logger: logger)
            // The URLs in a fixed order (intake, casework), then the certificates to trust, then
            // the metrics listener (last: scripts read the first lines as they always were).
            for kind in [ListenerKind.intake, .casework] { if let port = ports[kind] { print("\(kind): https://\(host):\(port)") } }
            for line in assembly.certificateLines { print(line) }
            if let port = ports[.metrics] { print("metrics: http://\(Self.bracketed(settings.metricsHost)):\(port)/metrics") }
            if let port = ports[.onion] { print("onion: \(HearthSettings.onionHost):\(port) (PROXY header from Tor, then TLS)") }
            fflush(nil)
            try await running.value
        } catch let e as KeyFileError {
            FileHandle.standardError.write(Data("hearth: refusing to start: \(e)\n".utf8))
            throw ExitCode(78)
        } catch let e as PostgresSchemaError {
            FileHandle.standardError.write(Data("hearth: refusing to start: \(e)\n".utf8))
            throw ExitCode(78)
        } catch let e as PostgresUnavailableError {
            // EX_UNAVAILABLE: systemd's Restart= tries again; the server log says why it refused.
            FileHandle.standardError.write(Data("hearth: cannot start: \(e)\nhint: check the URL, the role's login and pg_hba.conf\n".utf8))
            throw ExitCode(69)
        }
    }

    /// `host`, in brackets when it is an IPv6 address (for a URL).
    static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}
