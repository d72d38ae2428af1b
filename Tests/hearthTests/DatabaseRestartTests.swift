import Foundation
import HearthTestSupport
import Testing

/// `hearth serve` on PostgreSQL carries on after the database server restarts: its pool
/// reconnects, what was acknowledged before is still there, and new submissions are taken.
@Suite("PostgreSQL restart under a running hearth", .enabled(if: TestPostgres.enabled), .timeLimit(.minutes(3)))
struct DatabaseRestartTests {
    /// `Tests/postgres-cluster.sh ARGS` (a cluster of this test's own, so a restart disturbs no one).
    static func cluster(_ arguments: [String], in work: TemporaryDirectory) async throws -> ChildProcess.Outcome {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "postgres-cluster.sh")
        let outcome = try await ChildProcess.run([script.path] + arguments, in: work.path, executable: "/bin/bash", timeout: .seconds(60))
        guard outcome.succeeded else { throw ChildProcessError(description: "postgres-cluster.sh \(arguments): \(outcome)") }
        return outcome
    }

    @Test("submissions before an immediate stop of the server survive it, and after crash recovery new ones are taken again")
    func serviceCarriesOnAfterDatabaseRestart() async throws {
        let work = try TemporaryDirectory("hearth-pg-restart")
        let directory = "/tmp/hearth-restart-pg-\(UInt32.random(in: 0...UInt32.max))"
        let envFile = try await Self.cluster(["start", directory], in: work).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        do {
            let env = try String(contentsOfFile: envFile, encoding: .utf8)
            func value(_ name: String) -> String {
                env.split(separator: "\n").first { $0.hasPrefix("export \(name)=") }.map { String($0.dropFirst("export \(name)=".count)) } ?? ""
            }
            let (socket, port) = (value("HEARTH_TEST_POSTGRES"), value("HEARTH_TEST_POSTGRES_PORT"))
            let url = { (user: String) in "postgres://\(user)@localhost:\(port)/postgres?host=\(socket)" }
            let migrated = try await ChildProcess.run(["db", "migrate", "--database", url("postgres")], in: work.path)
            try #require(migrated.succeeded, "\(migrated)")

            try await withHearth(
                [
                    "serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--database", url("hearth_casework"), "--intake-database",
                    url("hearth_intake"),
                ], in: work.path
            ) { server, listener in
                try await withClient(listener) { client in
                    let before = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(consents: [["scope": "support"]]))
                    #expect(before.status == 201, "\(before.text)")
                    let receipt = try #require(before.json["receipt"] as? String)

                    _ = try await Self.cluster(["crash", directory], in: work)
                    let during = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
                    #expect(during.status >= 500, "nothing is acknowledged while the database is down: \(during.status)")
                    _ = try await Self.cluster(["start", directory], in: work)

                    var after = 0
                    let deadline = ContinuousClock.now + .seconds(20)
                    while after != 201 && ContinuousClock.now < deadline {
                        after = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest()).status
                        if after != 201 { await pause(.milliseconds(200)) }
                    }
                    #expect(after == 201, "a submission is taken again after the restart")
                    let me = try await client.send(.GET, "/api/v1/me", receipt: receipt)
                    #expect(me.status == 200, "the request acknowledged before the crash is still there: \(me.text)")
                    #expect(!server.stderr.text.contains(receipt), "no receipt in the log")
                }
            }
        } catch {
            _ = try? await Self.cluster(["stop", directory], in: work)
            throw error
        }
        _ = try await Self.cluster(["stop", directory], in: work)
    }
}
