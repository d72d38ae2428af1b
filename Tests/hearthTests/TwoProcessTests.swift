import Foundation
import HearthCrypto
import HearthHTTP
import HearthKeys
@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Testing

/// Intake and casework as two `hearth` processes, as on two hosts: separate key directories (the
/// intake's holds only what `hearth keys publish` wrote and its TLS pair) and separate PostgreSQL
/// roles. The whole survivor and caseworker journey passes between them.
@Suite("two processes, two roles", .enabled(if: TestPostgres.enabled), .timeLimit(.minutes(3)))
struct TwoProcessTests {
    /// `hearth casework` on its own: waits for its `casework:` line; returns its URL and certificate.
    static func waitForCasework(_ child: ChildProcess, timeout: Duration = .seconds(40)) async throws -> (url: String, certificate: String) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let lines = child.stdoutLines
            if let url = lines.first(where: { $0.hasPrefix("casework: ") }), let certificate = lines.first(where: { $0.hasPrefix("certificate: ") }) {
                return (String(url.dropFirst("casework: ".count)), String(certificate.dropFirst("certificate: ".count)))
            }
            if !child.isRunning { throw ChildProcessError(description: "casework exited: \(await child.outcome())") }
            await pause(.milliseconds(50))
        }
        throw ChildProcessError(description: "casework printed no URL\n\(child.stdout.text)\n\(child.stderr.text)")
    }

    static func totp(_ secret: String) -> String {
        TOTP.code(secret: SecretBytes(copying: base32Decode(secret) ?? []), step: TOTP.step(at: Int64(Date().timeIntervalSince1970)))
    }

    /// Signs in (waiting for a fresh TOTP step, since each code works once per account) and
    /// changes the one-time password; returns the bearer header.
    static func signIn(_ client: TestHTTPSClient, _ c: IssuedCredentials) async throws -> [(String, String)] {
        let first = try await client.send(
            .POST, "/api/v1/session", json: ["username": c.username, "password": c.password, "totp": totp(c.totpSecret)])
        guard first.status == 200, let token = first.json["token"] as? String else { throw ChildProcessError(description: "sign-in: \(first.text)") }
        let bearer = [("Authorization", "Bearer \(token)")]
        let change = try await client.send(
            .POST, "/api/v1/session/password",
            body: Array(try JSONSerialization.data(withJSONObject: ["password": c.password, "newPassword": "a long new password \(c.username)"])),
            headers: bearer)
        guard change.status == 204 else { throw ChildProcessError(description: "password change: \(change.text)") }
        return bearer
    }

    static func post(
        _ client: TestHTTPSClient, _ path: String, _ json: [String: Any], _ bearer: [(String, String)]
    ) async throws -> TestHTTPSClient.Reply {
        try await client.send(.POST, path, body: Array(try JSONSerialization.data(withJSONObject: json)), headers: bearer)
    }

    @Test("submit → assign → open → reply → survivor reads and writes back → withdraws → refused → erases; the audit chain verifies")
    func wholeJourneyAcrossTwoProcesses() async throws {
        try await TestPostgres.with { db in
            let work = try TemporaryDirectory("hearth-two-process")
            let caseworkKeys = try await makeKeySet(in: work, name: "casework-keys")
            let intakeKeys = work.file("intake-keys")
            let caseworkURL = "postgres://hearth_casework@localhost:\(db.casework.port)/\(db.name)?host=\(db.casework.socketDirectory ?? "")"
            let intakeURL = "postgres://hearth_intake@localhost:\(db.intake.port)/\(db.name)?host=\(db.intake.socketDirectory ?? "")"
            let caseworkData = work.file("casework-data")
            func cli(_ arguments: [String]) async throws -> ChildProcess.Outcome {
                try await ChildProcess.run(arguments, in: work.path, timeout: .seconds(60))
            }
            let published = try await cli([
                "keys", "publish", "--keys", caseworkKeys, "--data", caseworkData, "--database", caseworkURL, "--to", intakeKeys,
            ])
            try #require(published.succeeded, "\(published)")
            try HearthTLS.createDevelopmentCertificate(keys: KeyDirectory(path: intakeKeys))
            let intakeFiles = try FileManager.default.contentsOfDirectory(atPath: intakeKeys)
            #expect(!intakeFiles.contains { $0.hasSuffix(".sealed") || $0.hasPrefix("master") }, "the intake holds no private key: \(intakeFiles)")

            let casework = try ChildProcess(
                ["casework", "--keys", caseworkKeys, "--data", caseworkData, "--casework-port", "0", "--database", caseworkURL], in: work.path)
            let intake = try ChildProcess(
                ["intake", "--keys", intakeKeys, "--data", work.file("intake-data"), "--intake-port", "0", "--database", intakeURL], in: work.path)
            defer {
                Task {
                    await intake.stop(grace: .seconds(5))
                    await casework.stop(grace: .seconds(5))
                }
            }
            let (caseworkBase, caseworkCertificate) = try await Self.waitForCasework(casework)
            let intakeListener = try await intake.waitForListener()
            let survivor = try TestHTTPSClient(baseURL: intakeListener.url, certificatePath: intakeListener.certificatePath)
            let staff = try TestHTTPSClient(baseURL: caseworkBase, certificatePath: caseworkCertificate)
            defer {
                Task {
                    await survivor.shutdown()
                    await staff.shutdown()
                }
            }

            // The intake process, as hearth_intake, stores the request.
            let submitted = try await survivor.send(.POST, "/api/v1/contact-requests", json: sampleRequest(consents: [["scope": "support"]]))
            #expect(submitted.status == 201, "\(submitted.text)")
            let reference = try #require(submitted.json["reference"] as? String)
            let receipt = try #require(submitted.json["receipt"] as? String)

            // Accounts made with the CLI against the casework role.
            func add(_ username: String, _ role: String) async throws -> IssuedCredentials {
                let outcome = try await cli(
                    [
                        "staff", "add", "--username", username, "--role", role, "--json", "--keys", caseworkKeys, "--data", caseworkData,
                        "--database", caseworkURL,
                    ])
                #expect(outcome.succeeded, "\(outcome)")
                return try IssuedCredentials.decode(outcome.stdout)
            }
            let sue = try await Self.signIn(staff, try await add("sue", "supervisor"))
            let alice = try await Self.signIn(staff, try await add("alice", "caseworker"))

            let queue = try await staff.send(.GET, "/api/v1/cases", headers: sue)
            #expect((queue.json["cases"] as? [[String: Any]])?.first?["reference"] as? String == reference, "\(queue.text)")
            #expect(try await Self.post(staff, "/api/v1/cases/\(reference)/assign", ["staff": "alice"], sue).status == 200)
            let opened = try await Self.post(staff, "/api/v1/cases/\(reference)/open", ["reason": "first contact to offer support"], alice)
            #expect(opened.status == 200, "\(opened.text)")
            #expect((opened.json["request"] as? [String: Any])?["preferredName"] as? String == "Sam ")
            #expect(try await Self.post(staff, "/api/v1/cases/\(reference)/replies", ["text": "Hello Sam, this is Alice."], alice).status == 201)

            // Back on the intake: the reply, who opened and why, then the survivor writes back.
            let thread = try await survivor.send(.GET, "/api/v1/me/messages", receipt: receipt)
            #expect(thread.text.contains("Hello Sam, this is Alice."), "\(thread.text)")
            let access = try await survivor.send(.GET, "/api/v1/me/access", receipt: receipt)
            #expect(access.text.contains("first contact to offer support"), "\(access.text)")
            #expect(
                try await survivor.send(.POST, "/api/v1/me/messages", json: ["group": "support", "text": "Evenings are best."], receipt: receipt)
                    .status == 201)
            let reopened = try await Self.post(staff, "/api/v1/cases/\(reference)/open", ["reason": "reading the reply"], alice)
            #expect(reopened.text.contains("Evenings are best."), "\(reopened.text)")

            // Withdrawal on the intake takes effect on the casework side at once.
            #expect(try await survivor.send(.DELETE, "/api/v1/me/consents/support", receipt: receipt).status == 200)
            let refused = try await Self.post(staff, "/api/v1/cases/\(reference)/open", ["reason": "once more"], alice)
            #expect(refused.status == 403 && refused.json["code"] as? String == "no-consent", "\(refused.text)")

            // Erasure, then the audit trail of both sides verifies as one chain.
            #expect(try await survivor.send(.DELETE, "/api/v1/me", receipt: receipt).status == 204)
            #expect(try await db.count("SELECT count(*) FROM records") == 0)
            let verified = try await cli(["audit", "verify", "--keys", caseworkKeys, "--data", caseworkData, "--database", caseworkURL])
            #expect(verified.succeeded && verified.stdout.hasPrefix("ok:"), "\(verified)")
            let actions = try await db.asOwner("SELECT action FROM audit ORDER BY seq").compactMap { $0.first ?? nil }
            for expected in ["record.create", "consent.grant", "case.assign", "case.open", "message.write", "consent.withdraw", "record.erase"] {
                #expect(actions.contains(expected), "\(expected) is in the chain: \(actions)")
            }
            #expect(!intake.stderr.text.contains(receipt) && !casework.stderr.text.contains(receipt), "no receipt in either log")
        }
    }
}
