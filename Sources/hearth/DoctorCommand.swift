import ArgumentParser
import Foundation
import HearthApp

/// `hearth doctor`: checks a deployment before survivors use it and says what to fix.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Check a deployment: key and data permissions, private keys in the intake's directory, the published manifest, TLS certificates, the database and its roles, free disk, clock skew, retention and audit checkpoints. Exits 1 on any error."
    )

    @OptionGroup var locations: Locations

    @Option(name: .customLong("intake-keys"), help: "A separate intake's published key directory (`hearth keys publish --to DIR`) to check too.")
    var intakeKeys: String?

    @OptionGroup var retention: RetentionOption

    @Option(
        name: .customLong("min-free-disk"),
        help:
            "The least free space the data directory should keep: bytes, or with KiB, MiB, GiB, TiB (default: the configuration file's, which the intake's disk guard uses too, else 1GiB)."
    )
    var minFreeDisk: String?

    @Flag(help: "Print the findings as JSON.")
    var json = false

    /// `2GiB` → 2147483648; nil when it is not a size.
    static func bytes(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1), ("", 1)]
        for (suffix, multiplier) in units where text.hasSuffix(suffix) {
            guard let n = UInt64(text.dropLast(suffix.count)) else { continue }
            let (product, overflow) = n.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        return nil
    }

    func run() async throws {
        var settings = try locations.settings()
        settings.retentionDays = try retention.days(locations)
        var options = DoctorOptions()
        options.intakeKeys = intakeKeys
        let m = Merged(file: try locations.file())
        if let text = m.text(minFreeDisk, "min-free-disk") {
            guard let bytes = Self.bytes(text) else {
                throw ValidationError("\(m.origin(minFreeDisk, "min-free-disk")) takes a size such as 500MiB or 2GiB")
            }
            options.minimumFreeBytes = bytes
        }
        let findings = await HearthDoctor.examine(settings, options: options)
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        if json {
            struct Report: Encodable {
                let findings: [DoctorFinding]
                let errors: Int
                let warnings: Int
            }
            try printJSON(Report(findings: findings, errors: errors, warnings: warnings))
        } else {
            for finding in findings {
                let label = finding.severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                print("\(label) \(finding.check): \(finding.message)")
                if let action = finding.action { print("         → \(action)") }
            }
            print("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
        }
        if errors > 0 { throw ExitCode(1) }
    }
}
