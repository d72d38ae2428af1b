import Foundation
@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Testing

/// The database password comes from a systemd credential, read once: never on the command line
/// (where `ps` shows it to every local user) nor in the environment.
@Suite("database password from a credential", .enabled(if: TestPostgres.enabled), .timeLimit(.minutes(2)))
struct DatabasePasswordTests {
    @Test("an intake role that needs a password signs in with --database-password-credential, and the password is nowhere in /proc")
    func passwordFromCredential() async throws {
        try await TestPostgres.with { db in
            // A login that must give its password (scram, set in the test cluster's pg_hba.conf)
            // and may do what hearth_intake does.
            let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
            try await db.asAdmin(
                "DO $$ BEGIN CREATE ROLE hearth_scram_test LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
            try await db.asAdmin("ALTER ROLE hearth_scram_test PASSWORD '\(password)'")
            try await db.asAdmin("GRANT hearth_intake TO hearth_scram_test")
            let work = try TemporaryDirectory("hearth-db-password")
            let keys = try await makeKeySet(in: work)
            let url = "postgres://hearth_scram_test@localhost:\(db.intake.port)/\(db.name)?host=\(db.intake.socketDirectory ?? "")"
            let credentials = work.file("credentials")
            #expect(mkdir(credentials, 0o700) == 0)
            #expect(
                FileManager.default.createFile(
                    atPath: "\(credentials)/db-password", contents: Data("\(password)\n".utf8), attributes: [.posixPermissions: 0o400]))

            // Without the password the role cannot log in: the intake does not come up.
            let refused = try await ChildProcess.run(
                ["serve", "--dev", "--keys", keys, "--data", work.file("data"), "--intake-port", "0", "--casework-port", "0", "--database", url],
                in: work.path, timeout: .seconds(40))
            #expect(refused.exitedNormally && refused.status == 69 && !refused.stdout.contains("intake: "), "\(refused)")
            #expect(refused.stderr.contains("did not answer") && refused.stderr.contains("pg_hba.conf"), "\(refused.stderr)")

            let casework = "postgres://hearth_casework@localhost:\(db.casework.port)/\(db.name)?host=\(db.casework.socketDirectory ?? "")"
            try await withHearth(
                [
                    "serve", "--keys", keys, "--data", work.file("data"), "--intake-port", "0", "--casework-port", "0", "--database", casework,
                    "--intake-database", url, "--database-password-credential", "db-password",
                ], in: work.path, environment: ["CREDENTIALS_DIRECTORY": credentials]
            ) { server, listener in
                try await withClient(listener) { client in
                    let reply = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
                    #expect(reply.status == 201, "\(reply.text)")
                }
                let cmdline = Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/\(server.pid)/cmdline")))
                let environ = Array(try Data(contentsOf: URL(fileURLWithPath: "/proc/\(server.pid)/environ")))
                #expect(!bytes(cmdline, contain: Array(password.utf8)), "the password is not on the command line")
                #expect(!bytes(environ, contain: Array(password.utf8)), "the password is not in the environment")
                #expect(!server.stderr.text.contains(password) && !server.stdout.text.contains(password), "nor in the log")
            }
            #expect(try await db.count("SELECT count(*) FROM records") == 1)
        }
    }
}
