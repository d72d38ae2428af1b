import ArgumentParser
import Foundation
import HearthPostgres
import Logging

/// `hearth db`: the PostgreSQL schema, which only the database owner changes.
struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Look after the PostgreSQL database (the SQLite file needs nothing).", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create or upgrade the schema and the roles hearth_intake and hearth_casework (no passwords set), as the database owner. The services never change the schema."
        )

        @Option(help: "The database, as its owner: postgres://OWNER@HOST/DB?sslmode=verify-full&sslrootcert=CA (or ?host=/socket/dir).")
        var database: String

        func run() async throws {
            let location: PostgresLocation
            do { location = try PostgresLocation(url: database) } catch let e as PostgresLocationError { throw ValidationError(e.description) }
            do {
                let done = try await PostgresMigration.migrate(location, logger: Logger(label: "hearth", factory: { _ in SwiftLogNoOpLogHandler() }))
                print("\(location): \(done)")
            } catch let e as PostgresSchemaError {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(1)
            } catch {
                FileHandle.standardError.write(Data("hearth: migrating \(location) failed: \(String(reflecting: error))\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
