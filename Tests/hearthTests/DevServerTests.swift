import Foundation
import HearthTestSupport
import Testing

/// `hearth serve --dev` in an empty working directory.
@Suite("hearth serve --dev", .timeLimit(.minutes(1)))
struct DevServerTests {
    @Test("serve --dev in an empty directory creates keys/ and .hearth/ and prints exactly the intake, casework, certificate and metrics lines")
    func devModeCreatesKeysAndPrintsTwoLines() async throws {
        let work = try TemporaryDirectory()
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)

        let child = try ChildProcess(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path)
        do {
            let listener = try await child.waitForListener()
            #expect(listener.host == "127.0.0.1")
            #expect((1...65535).contains(listener.port))
            #expect(listener.intakeLine == "intake: https://127.0.0.1:\(listener.port)")
            #expect(listener.certificateLine == "certificate: \(realPath(work.path))/keys/tls.crt")
            #expect(listener.certificatePath.hasPrefix("/"))
            #expect(FileManager.default.fileExists(atPath: listener.certificatePath))

            #expect(mode(work.file("keys")) == 0o700)
            #expect(mode(work.file(".hearth")) == 0o700)
            let keys = try FileManager.default.contentsOfDirectory(atPath: work.file("keys"))
            for name in ["master.key", "police.v1.pub", "police.v1.sealed", "audit.v1.sealed", "tls.crt", "tls.key"] {
                #expect(keys.contains(name), "keys/ holds \(name): \(keys)")
            }
            #expect(FileManager.default.fileExists(atPath: work.file(".hearth/hearth.sqlite")))
        } catch {
            await child.stop()
            throw error
        }
        await child.stop()
        let outcome = await child.outcome()
        // Nothing else ever goes to stdout: logs go to stderr.
        let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5 && lines[4].isEmpty, "exactly four lines on stdout: \(outcome.stdout)")
        #expect(lines.first?.hasPrefix("intake: https://127.0.0.1:") == true)
        #expect(lines.dropFirst().first?.hasPrefix("casework: https://127.0.0.1:") == true)
        #expect(lines.dropFirst(2).first == "certificate: \(realPath(work.path))/keys/tls.crt")
        #expect(lines.dropFirst(3).first?.wholeMatch(of: /metrics: http:\/\/127\.0\.0\.1:[0-9]+\/metrics/) != nil, "\(outcome.stdout)")
    }

    @Test("serve --no-metrics prints the intake, casework and certificate lines only, and the metrics line's URL serves /metrics otherwise")
    func metricsLineComesLastAndNoMetricsDropsIt() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--no-metrics"], in: work.path) { server, _ in
            let lines = server.stdout.text.split(separator: "\n").map(String.init)
            #expect(lines.count == 3 && !lines.contains { $0.hasPrefix("metrics:") }, "\(lines)")
        }
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--metrics-port", "0"], in: work.path) { server, _ in
            var line: String?
            for _ in 0..<100 where line == nil {
                line = server.stdout.text.split(separator: "\n").map(String.init).first { $0.hasPrefix("metrics: ") }
                if line == nil { await pause(.milliseconds(50)) }
            }
            let url = String(try #require(line).dropFirst("metrics: ".count))
            let scrape = try await plainHTTP("GET", url)
            #expect(scrape.status == 200)
            #expect(scrape.headers["Content-Type"].first?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(scrape.text.contains("# TYPE hearth_submissions_total counter"))
        }
    }

    @Test("/healthz answers 200 over verified TLS with Strict-Transport-Security and Cache-Control: no-store")
    func healthzAnswersWithSecurityHeaders() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { _, listener in
            try await withClient(listener) { client in
                let reply = try await client.send(.GET, "/healthz")
                #expect(reply.status == 200)
                let hsts = reply.headers["Strict-Transport-Security"].first ?? ""
                #expect(hsts.hasPrefix("max-age="), "HSTS: \(reply.headers)")
                #expect((Int(hsts.dropFirst("max-age=".count).prefix { $0.isNumber }) ?? 0) >= 31_536_000, "HSTS of at least a year: \(hsts)")
                #expect(reply.headers["Cache-Control"] == ["no-store"], "\(reply.headers)")
            }
        }
    }

    @Test("SIGTERM shuts the server down cleanly with exit status 0")
    func sigtermShutsDownCleanly() async throws {
        let work = try TemporaryDirectory()
        let child = try ChildProcess(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path)
        do {
            let listener = try await child.waitForListener()
            try await withClient(listener) { client in
                let reply = try await client.send(.GET, "/healthz")
                #expect(reply.status == 200)
            }
        } catch {
            await child.stop()
            throw error
        }
        child.signal(SIGTERM)
        let exited = await child.waitForExit(timeout: .seconds(15))
        if !exited { await child.stop(grace: .seconds(1)) }
        #expect(exited, "it exits within 15 s of SIGTERM")
        let outcome = await child.outcome()
        #expect(outcome.succeeded, "\(outcome)")
        #expect(!outcome.stderr.contains(" error "), "no error is logged on an ordinary shutdown: \(outcome.stderr)")
    }
}
