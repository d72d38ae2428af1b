import Foundation
import HearthApp
import HearthCore
import HearthPostgres
import HearthTestSupport
import Testing

/// What survivors meet when the database cannot be reached, and what the intake refuses to run with.
@Suite("PostgreSQL outages and misconfiguration", .enabled(if: TestPostgres.enabled))
struct StorageOutageTests {
    @Test("while the database refuses connections the intake answers 503 with Retry-After, then takes requests again", .timeLimit(.minutes(2)))
    func outageGets503ThenRecovers() async throws {
        // Production's deadline: this test is about what a survivor meets when it passes.
        let productionDeadline: (inout HearthSettings) -> Void = { $0.databaseDeadline = .seconds(15) }
        try await IntakeHarness.with(store: .postgres, configure: productionDeadline) { h in
            let db = try #require(h.postgres)
            #expect(try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest()).status == 201)

            try await db.asAdmin("ALTER DATABASE \(db.name) ALLOW_CONNECTIONS false")
            try await db.asAdmin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(db.name)'")
            let during = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
            #expect(during.status == 503, "\(during.status) \(during.text)")
            #expect(during.headers.first(name: "Retry-After") == "30")
            #expect(during.json["code"] as? String == "unavailable")
            #expect(during.json["error"] as? String == "we cannot reach our storage just now; please try again in a minute")

            try await db.asAdmin("ALTER DATABASE \(db.name) ALLOW_CONNECTIONS true")
            let after = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
            #expect(after.status == 201, "\(after.text)")
            #expect(try await h.count("records") == 2, "the request made during the outage was not stored")
        }
    }

    @Test("a separate intake connected as a role that can read the tables refuses to start")
    func overPrivilegedIntakeRoleRefused() async throws {
        try await TestPostgres.with { db in
            let dir = try TemporaryDirectory()
            var settings = HearthSettings(keys: dir.file("keys"), data: dir.file("data"))
            settings.intakePort = 0
            settings.createDevelopmentKeys = true
            settings.backgroundJobs = false
            settings.handlesSignals = false
            for location in [db.casework, db.owner] {
                settings.database = location
                do {
                    _ = try await HearthAssembly.start(settings, listeners: .intake, logger: LogCapture().logger())
                    Issue.record("an intake connected as \(location.user) started")
                } catch let e as PostgresSchemaError {
                    #expect("\(e)".contains("can read or change stored data directly") && "\(e)".contains("hearth_intake"), "\(e)")
                }
            }
            settings.database = db.intake
            let (assembly, _, running) = try await HearthAssembly.start(settings, listeners: .intake, logger: LogCapture().logger())
            await assembly.shutdown()
            _ = await running.result
        }
    }
}
