import Foundation
import HearthTestSupport
import Testing

/// The flood-control flags of `hearth serve`, end to end over TLS.
@Suite("hearth serve: flood-control flags", .timeLimit(.minutes(2)))
struct FloodControlFlagTests {
    @Test("--source-submissions 1: the second request from one address gets 429 with Retry-After; --min-free-disk above the disk: 503")
    func flagsReachTheIntake() async throws {
        let work = try TemporaryDirectory()
        let base = ["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--no-metrics"]
        try await withHearth(base + ["--source-submissions", "1", "--source-submissions-per-minute", "0.01", "--min-free-disk", "0"], in: work.path) {
            _, listener in
            let client = try TestHTTPSClient(baseURL: "https://127.0.0.1:\(listener.port)", certificatePath: listener.certificatePath)
            let first = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "flag-first"))
            let second = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "flag-second"))
            await client.shutdown()
            #expect(first.status == 201, "\(first.status) \(first.text)")
            #expect(second.status == 429 && second.headers["Retry-After"].first != nil, "\(second.status) \(second.text)")
        }
        try await withHearth(base + ["--min-free-disk", "1000000TiB"], in: work.path) { _, listener in
            let client = try TestHTTPSClient(baseURL: "https://127.0.0.1:\(listener.port)", certificatePath: listener.certificatePath)
            let refused = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "flag-full"))
            let health = try await client.send(.GET, "/healthz")
            await client.shutdown()
            #expect(refused.status == 503 && refused.json["code"] as? String == "not-accepting", "\(refused.status) \(refused.text)")
            #expect(health.status == 200)
        }
    }

    @Test("a size that is not one, or a budget of 0, is refused before anything starts")
    func badValuesAreRefused() async throws {
        let work = try TemporaryDirectory()
        for flags in [
            ["--min-free-disk", "lots"], ["--max-database-size", "0"], ["--source-submissions", "0"], ["--submissions-per-minute", "-1"],
        ] {
            let outcome = try await ChildProcess.run(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"] + flags, in: work.path)
            #expect(outcome.exitedNormally && outcome.status != 0, "\(flags): \(outcome)")
            #expect(outcome.stderr.contains(flags[0]), "\(flags): \(outcome.stderr)")
        }
    }
}
