import ArgumentParser
import Foundation
import HearthApp

/// `hearth config check`: what a service would run with, before it runs.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration file and print the effective configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print what `hearth serve` would run with (options given here, then the configuration file, then the defaults), secrets redacted, and where each value came from. Exits non-zero when the configuration is invalid."
        )

        @OptionGroup var locations: Locations
        @OptionGroup var listener: ListenerOptions
        @OptionGroup var submissionLimits: SubmissionLimitOptions
        @OptionGroup var passphrase: PassphraseOption

        @Flag(help: "Print JSON: an object of the effective values, keyed like the file.")
        var json = false

        func run() async throws {
            var service = try listener.configuration(locations, passphrase: passphrase)
            let file = try locations.file()
            try submissionLimits.apply(to: &service.settings, file: file)
            let rows = Self.rows(
                service, file: file, listener: listener, submissions: submissionLimits, locations: locations, passphrase: passphrase)
            if json {
                var object: [String: Any] = [:]
                for row in rows { object[row.key] = row.value }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("configuration file: \(file?.path ?? "none (no --config)")")
                let width = rows.map(\.key.count).max() ?? 0
                for row in rows {
                    print("\(row.key.padding(toLength: width, withPad: " ", startingAt: 0))  \(Self.text(row.value))  (\(row.source))")
                }
            }
        }

        /// One effective value, keyed like the file, with where it came from.
        struct Row {
            let key: String
            let value: Any
            let source: String
        }

        static func rows(
            _ service: ServiceConfiguration, file: ConfigurationFile?, listener l: ListenerOptions, submissions g: SubmissionLimitOptions,
            locations o: Locations, passphrase p: PassphraseOption
        ) -> [Row] {
            let s = service.settings
            func source(_ given: Any?, _ key: String) -> String { given != nil ? "option" : file?.sets(key) == true ? "file" : "default" }
            var rows: [Row] = [
                Row(key: "keys", value: s.keys, source: source(o.keys, "keys")),
                Row(key: "data", value: s.data, source: source(o.data, "data")),
                Row(key: "shared-data-group", value: s.sharedDataGroup, source: source(o.sharedDataGroup, "shared-data-group")),
            ]
            if let database = o.database ?? file?.text("database") {
                rows.append(Row(key: "database", value: redacted(database), source: source(o.database, "database")))
            }
            if let intake = o.intakeDatabase ?? file?.text("intake-database") {
                rows.append(Row(key: "intake-database", value: redacted(intake), source: source(o.intakeDatabase, "intake-database")))
            }
            if let credential = s.databasePasswordCredential {
                rows.append(
                    Row(
                        key: "database-password-credential", value: credential,
                        source: source(o.databasePasswordCredential, "database-password-credential")))
            }
            let passphraseGiven: Any? = p.passphraseCredential ?? p.passphraseEnv
            switch s.passphrase {
            case .credential(let name):
                rows.append(Row(key: "passphrase-credential", value: name, source: source(passphraseGiven, "passphrase-credential")))
            case .environment(let name): rows.append(Row(key: "passphrase-env", value: name, source: source(passphraseGiven, "passphrase-env")))
            case .none, .held: break
            }
            rows += [
                Row(key: "host", value: s.host, source: source(l.host, "host")),
                Row(key: "intake-port", value: s.intakePort, source: source(l.intakePort, "intake-port")),
                Row(key: "casework-port", value: s.caseworkPort, source: source(l.caseworkPort, "casework-port")),
                Row(key: "retention-days", value: s.retentionDays, source: source(l.retentionDays, "retention-days")),
                Row(key: "receipt-failures", value: s.receiptFailures, source: source(l.receiptFailures, "receipt-failures")),
                Row(key: "exit-url", value: s.exitURL, source: source(l.exitURL, "exit-url")),
                Row(key: "log-level", value: service.logLevel, source: source(l.logLevel, "log-level")),
                Row(key: "log-format", value: service.logFormat.rawValue, source: source(l.logFormat, "log-format")),
                Row(key: "metrics-host", value: s.metricsHost, source: source(l.metricsHost, "metrics-host")),
            ]
            if let port = s.metricsPort {
                rows.append(Row(key: "metrics-port", value: port, source: source(l.metricsPort, "metrics-port")))
            } else {
                rows.append(Row(key: "no-metrics", value: true, source: l.noMetrics ? "option" : "file"))
            }
            if let port = s.onionPort { rows.append(Row(key: "onion-port", value: port, source: source(l.onionPort, "onion-port"))) }
            let limits = s.listenerLimits
            let limit = s.submissionLimits
            rows += [
                Row(key: "handshake-timeout", value: seconds(limits.handshakeTimeout), source: source(l.handshakeTimeout, "handshake-timeout")),
                Row(
                    key: "request-head-timeout", value: seconds(limits.requestHeadTimeout),
                    source: source(l.requestHeadTimeout, "request-head-timeout")),
                Row(
                    key: "request-body-timeout", value: seconds(limits.requestBodyTimeout),
                    source: source(l.requestBodyTimeout, "request-body-timeout")),
                Row(key: "idle-timeout", value: seconds(limits.idleTimeout), source: source(l.idleTimeout, "idle-timeout")),
                Row(key: "max-connections", value: limits.maxConnections, source: source(l.maxConnections, "max-connections")),
                Row(key: "source-submissions", value: limit.perSourceBurst, source: source(g.sourceSubmissions, "source-submissions")),
                Row(
                    key: "source-submissions-per-minute", value: limit.perSourcePerMinute,
                    source: source(g.sourceSubmissionsPerMinute, "source-submissions-per-minute")),
                Row(key: "submissions", value: limit.globalBurst, source: source(g.submissions, "submissions")),
                Row(key: "submissions-per-minute", value: limit.globalPerMinute, source: source(g.submissionsPerMinute, "submissions-per-minute")),
                Row(key: "min-free-disk", value: "\(limit.minFreeDiskBytes)B", source: source(g.minFreeDisk, "min-free-disk")),
            ]
            if let bytes = limit.maxDatabaseBytes {
                rows.append(Row(key: "max-database-size", value: "\(bytes)B", source: source(g.maxDatabaseSize, "max-database-size")))
            }
            return rows
        }

        static func seconds(_ d: Duration) -> Int { Int(d.components.seconds) }

        /// A database URL with any password in it replaced, so the output can be pasted into a ticket.
        static func redacted(_ url: String) -> String {
            guard var components = URLComponents(string: url), components.password != nil else { return url }
            components.password = "REDACTED"
            return components.string ?? "(a URL with a password)"
        }

        static func text(_ value: Any) -> String {
            switch value {
            case let b as Bool: b ? "true" : "false"
            default: "\(value)"
            }
        }
    }
}
