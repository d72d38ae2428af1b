import Foundation
import HearthTestSupport
import Testing

/// What operators run: `hearth doctor` and `--log-format json`, through the real binary.
@Suite("Operator commands", .timeLimit(.minutes(2)))
struct OperatorCommandTests {
    /// A working directory after `hearth serve --dev` ran once (keys, certificate, database).
    func devDeployment() async throws -> TemporaryDirectory {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, _ in }
        return work
    }

    @Test(
        "hearth doctor on a development deployment: exit 0, every check listed, the self-signed certificate and the missing backup key warnings; --json says the same"
    )
    func doctorPasses() async throws {
        let work = try await devDeployment()
        let text = try await ChildProcess.run(["doctor"], in: work.path)
        #expect(text.succeeded, "\(text)")
        for check in [
            "keys.permissions", "tls.certificate", "data.permissions", "database.reachable", "disk.free", "retention.days", "audit.checkpoint",
        ] {
            #expect(text.stdout.contains(" \(check): "), "\(check) in \(text.stdout)")
        }
        #expect(text.stdout.hasSuffix("0 errors, 2 warnings\n"), "the self-signed certificate and no backup key yet: \(text.stdout)")

        let json = try await ChildProcess.run(["doctor", "--json"], in: work.path)
        #expect(json.succeeded, "\(json)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(report["errors"] as? Int == 0)
        #expect(report["warnings"] as? Int == 2)
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["check"] as? String == "tls.certificate" && $0["severity"] as? String == "warning" && $0["action"] is String })
    }

    @Test("hearth doctor exits 1 on an error and says what to do")
    func doctorFails() async throws {
        let work = try await devDeployment()
        chmod(work.file("keys/police.v1.sealed"), 0o644)
        let outcome = try await ChildProcess.run(["doctor", "--min-free-disk", "1000000TiB"], in: work.path)
        #expect(outcome.status == 1, "\(outcome)")
        #expect(outcome.stdout.contains("error    keys.permissions: "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("→ run `chmod 600 "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("error    disk.free: "), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("2 errors"), "\(outcome.stdout)")
        let bad = try await ChildProcess.run(["doctor", "--min-free-disk", "lots"], in: work.path)
        #expect(bad.status != 0 && bad.stderr.contains("--min-free-disk"), "\(bad)")
    }

    @Test("--log-format json: every line on stderr is one JSON object; requests are logged by route and status, never the canary or the receipt")
    func jsonLogs() async throws {
        let work = try TemporaryDirectory()
        let canary = "CANARY-json-log-\(UInt64.random(in: 0...UInt64.max))"
        let child = try ChildProcess(["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--log-format", "json"], in: work.path)
        var receipt = ""
        do {
            let listener = try await child.waitForListener()
            try await withClient(listener) { client in
                let submitted = try await client.send(
                    .POST, "/api/v1/contact-requests", json: sampleRequest(canary: canary, consents: [["scope": "support"]]))
                #expect(submitted.status == 201)
                receipt = submitted.json["receipt"] as? String ?? ""
                #expect(try await client.send(.GET, "/api/v1/me", body: nil, headers: [("Authorization", "Receipt \(receipt)")]).status == 200)
                #expect(try await client.send(.GET, "/api/v1/me", body: nil, headers: [("Authorization", "Receipt \(canary)")]).status == 401)
            }
        } catch {
            await child.stop()
            throw error
        }
        await child.stop()
        let stderr = await child.outcome().stderr
        let lines = stderr.split(separator: "\n").map(String.init)
        #expect(lines.count >= 4, "\(stderr)")
        var routes: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["time"] is String && object["level"] is String && object["message"] is String, "\(line)")
            if object["message"] as? String == "request", let metadata = object["metadata"] as? [String: String] {
                routes.append("\(metadata["http.route"] ?? "") \(metadata["http.status"] ?? "")")
            }
        }
        #expect(
            lines.contains { $0.contains("\"message\":\"created development keys (never use them in production)\"") }, "--dev says so in JSON too")
        #expect(routes.contains("/api/v1/contact-requests 201"), "\(routes)")
        #expect(routes.contains("/api/v1/me 401"), "\(routes)")
        #expect(!receipt.isEmpty)
        #expect(!stderr.contains(canary), "no survivor content or submitted receipt text in the log")
        #expect(!stderr.contains(receipt), "no receipt in the log")
        #expect(!stderr.contains(receipt.replacingOccurrences(of: "-", with: "")), "no receipt in the log, even without dashes")
    }
}
