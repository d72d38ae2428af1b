import Foundation
import HearthCore
@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Logging
import Testing

/// Reaching PostgreSQL: TLS with full verification, refusals of a wrong name or authority, and a
/// pool that comes back by itself after the server restarts.
@Suite("PostgreSQL connections: TLS and restarts", .enabled(if: TestPostgres.enabled))
struct PostgresConnectionTests {
    /// The test cluster's TLS listener, as `role`, with `parameters`.
    static func overTLS(_ db: TestPostgres, role: String, host: String = "localhost", _ parameters: String) throws -> PostgresLocation {
        guard let port = ProcessInfo.processInfo.environment["HEARTH_TEST_POSTGRES_PORT"] else {
            throw TestPostgresError("HEARTH_TEST_POSTGRES_PORT is not set")
        }
        return try PostgresLocation(url: "postgres://\(role)@\(host):\(port)/\(db.name)?\(parameters)")
    }

    static var ca: String { ProcessInfo.processInfo.environment["HEARTH_TEST_POSTGRES_CA"] ?? "/missing-ca" }
    static var otherCA: String { ProcessInfo.processInfo.environment["HEARTH_TEST_POSTGRES_OTHER_CA"] ?? "/missing-ca" }

    @Test("sslmode=verify-full with the server's CA connects over TLS, and the casework store works through it")
    func verifyFullConnects() async throws {
        try await TestPostgres.with { db in
            let location = try Self.overTLS(db, role: "hearth_casework", "sslmode=verify-full&sslrootcert=\(Self.ca)")
            #expect(location.tls == .verifyFull)
            let pool = try db.connect(location)
            defer { pool.close() }
            try await pool.checkSchema()
            let ssl = try await pool.inspect("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            #expect(ssl.first?.first == "true", "\(ssl)")
            #expect(ssl.first?.last??.hasPrefix("TLSv1.") == true, "\(ssl)")
            let store = PostgresCaseworkStore(pool)
            #expect(try await store.allStaff().isEmpty)
        }
    }

    @Test("verify-full refuses a certificate for another name, and one from another authority")
    func verifyFullRefusesWrongNameOrAuthority() async throws {
        try await TestPostgres.with { db in
            for location in [
                try Self.overTLS(db, role: "hearth_casework", host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(Self.ca)"),
                try Self.overTLS(db, role: "hearth_casework", "sslmode=verify-full&sslrootcert=\(Self.otherCA)"),
            ] {
                let pool = try db.connect(location)
                defer { pool.close() }
                await #expect(throws: (any Error).self, "\(location)") { try await pool.checkSchema() }
            }
        }
    }

    @Test("a URL asking for no TLS over TCP, or naming an unknown parameter or mode, is refused before connecting")
    func unsafeURLsRefused() {
        for url in [
            "postgres://hearth_casework@db.example/hearth?sslmode=disable", "postgres://hearth_casework@db.example/hearth?sslmode=prefer",
            "postgres://hearth_casework@db.example/hearth?sslcert=x", "postgres://db.example/hearth", "postgres://u@db.example/",
            "mysql://u@db.example/hearth",
        ] {
            #expect(throws: PostgresLocationError.self, "\(url)") { try PostgresLocation(url: url) }
        }
        #expect((try? PostgresLocation(url: "postgres://u@db.example/hearth"))?.tls == .verifyFull, "over TCP, full verification by default")
        #expect((try? PostgresLocation(url: "postgres://u:secret@db.example/hearth"))?.description.contains("secret") == false)
    }

    @Test("after every connection is cut, as a server restart does, the pool reconnects and the stores carry on")
    func poolReconnectsAfterConnectionsAreCut() async throws {
        try await TestPostgres.with { db in
            let pool = try db.connect(db.casework)
            defer { pool.close() }
            let store = PostgresCaseworkStore(pool)
            _ = try await store.addStaff(
                username: "sue", role: .supervisor, pseudonym: "supervisor-1", passwordHash: "x", sealedTOTPSecret: [1],
                audit: { _ in AuditEvent(actor: "cli", action: "staff.add", subject: "sue") }, at: 0)
            let cut = try await db.asOwner(
                "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE datname = current_database() AND usename = 'hearth_casework'"
            )
            #expect(cut.first?.first != "0", "the pool's connections were cut")
            // The first query meets a connection the server ended; it runs again on a new one.
            #expect(try await store.allStaff().map(\.identity.username) == ["sue"], "the pool answers at once on a new connection")
            #expect(try await store.auditEntries().count == 1)
        }
    }
}
