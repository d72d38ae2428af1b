import ArgumentParser
import Foundation
import HearthApp
import HearthCore

/// `hearth stats`: publishes every month closed by a date and prints the published figures
/// (SECURITY.md §13).
struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish the transparency figures of every month closed by a date, then print every published month.",
        discussion:
            "A month is computed once, when it has closed, and stored; it is never computed again. The intake serves the stored months at /transparency, /transparency.csv and /api/v1/transparency."
    )

    @OptionGroup var locations: Locations

    @Flag(help: "Print the JSON document of GET /api/v1/transparency.")
    var json = false

    @Option(name: .customLong("as-of"), help: "Publish the months closed by the end of this day (YYYY-MM-DD, today or earlier; default today).")
    var asOf: String?

    func validate() throws {
        if let asOf, Day(iso: asOf) == nil { throw ValidationError("--as-of takes a date as YYYY-MM-DD, not '\(asOf)'") }
    }

    func run() async throws {
        let settings = try locations.settings()
        let now = settings.clock.unixSeconds()
        var cutoff = now
        if let asOf, let day = Day(iso: asOf) {
            guard day <= Day(unixSeconds: now) else {
                FileHandle.standardError.write(
                    Data("hearth: failed to publish: '\(asOf)' is after today\nhint: a month is published only once it has closed\n".utf8))
                throw ExitCode(64)
            }
            cutoff = min(now, Int64(day.adding(days: 1).daysSinceEpoch) * 86_400)
        }
        guard let store = try await HearthMaintenance.openStore(settings, create: false) else {
            FileHandle.standardError.write(Data("hearth: there is no database at '\(settings.databasePath)'\n".utf8))
            throw ExitCode(1)
        }
        let service = TransparencyService(store: store, clock: settings.clock)
        let added = try await service.publishClosedMonths(asOf: cutoff)
        let months = try await service.publishedMonths()
        if json {
            print(String(decoding: try TransparencyReport.Document(months: months).json(pretty: true), as: UTF8.self))
        } else {
            print(added.isEmpty ? "published now: none" : "published now: " + added.map(\.month).joined(separator: ", "))
            print(TransparencyReport.text(months), terminator: "")
        }
    }
}
