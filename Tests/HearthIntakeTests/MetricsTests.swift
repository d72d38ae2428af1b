import Foundation
import HearthCore
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Testing

/// The intake listener's figures move with what happens, and stay its own.
@Suite("Intake metrics")
struct IntakeMetricsTests {
    @Test("20 submissions at once: 20 counted, group-commit batches add up to 20 with one time per batch, nothing left pending")
    func submissionsAndGroupCommitsAreCounted() async throws {
        try await IntakeHarness.with(metrics: true) { h in
            let before = try await h.scrape()
            #expect(before.value("hearth_submissions_total") == 0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 { group.addTask { _ = try await h.submit(sampleRequest(canary: "c\(i)")) } }
                try await group.waitForAll()
            }
            let after = try await h.scrape()
            #expect(after.value("hearth_submissions_total") == 20)
            #expect(after.value("hearth_sqlite_group_commit_batch_size_sum") == 20)
            let batches = try #require(after.value("hearth_sqlite_group_commit_batch_size_count"))
            #expect((1...20).contains(batches))
            #expect(after.value("hearth_sqlite_group_commit_duration_seconds_count") == batches, "one commit time per batch")
            #expect((after.value("hearth_sqlite_group_commit_duration_seconds_sum") ?? 0) > 0)
            #expect(after.value("hearth_sqlite_group_commit_pending") == 0)
            let route = ["listener": "intake", "route": "/api/v1/contact-requests", "method": "POST"]
            #expect(after.value("hearth_http_requests_total", route.merging(["status": "201"]) { $1 }) == 20)
            #expect(after.value("hearth_http_request_duration_seconds_count", route) == 20)
            #expect(after.value("hearth_http_request_duration_seconds_bucket", route.merging(["le": "+Inf"]) { $1 }) == 20)
        }
    }

    @Test("failed receipt look-ups past the limit answer 429 and count one refusal on the intake listener")
    func rateLimitRefusalsAreCounted() async throws {
        try await IntakeHarness.with(receiptFailures: 1, metrics: true) { h in
            let bogus = "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA"
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: bogus).status == 401)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: bogus).status == 429)
            let scrape = try await h.scrape()
            #expect(scrape.value("hearth_rate_limit_refusals_total", ["listener": "intake"]) == 1)
            #expect(scrape.value("hearth_http_requests_total", ["listener": "intake", "route": "/api/v1/me", "method": "GET", "status": "429"]) == 1)
        }
    }

    @Test("a survivor signing in at /return makes one live page session")
    func survivorPageSessionsAreCounted() async throws {
        try await IntakeHarness.with(metrics: true) { h in
            let (_, receipt) = try await h.submit(sampleRequest())
            #expect(try await h.scrape().value("hearth_survivor_page_sessions") == 0)
            try await h.withBrowser { b in try await b.signIn(receipt) }
            #expect(try await h.scrape().value("hearth_survivor_page_sessions") == 1)
        }
    }

    @Test(
        "the intake alone reports the primary versions it seals to, its submissions and the database size (as hearth_intake on PostgreSQL), and no staff, audit or wrap figures",
        arguments: TestStore.all)
    func intakeAloneReportsItsOwnFigures(store: TestStore) async throws {
        try await IntakeHarness.with(store: store, metrics: true) { h in
            _ = try await h.submit(sampleRequest())
            let scrape = try await h.scrape()
            for scope in Scope.allCases { #expect(scrape.value("hearth_key_primary_version", ["scope": scope.rawValue]) == 1) }
            #expect(scrape.value("hearth_submissions_total") == 1)
            #expect((scrape.value("hearth_database_bytes") ?? 0) > 0)
            #expect(scrape.value("hearth_metrics_refresh_failures_total") == 0)
            #expect(scrape.samples("hearth_key_wraps").isEmpty)
            #expect(scrape.samples("hearth_staff_sessions").isEmpty, "the intake cannot see staff")
            switch store {
            case .sqlite:
                #expect((scrape.value("hearth_data_free_bytes") ?? 0) > 0)
                #expect(scrape.samples("hearth_postgres_insert_duration_seconds_count").isEmpty, "SQLite: no PostgreSQL series")
            case .postgres:
                #expect(scrape.value("hearth_postgres_insert_duration_seconds_count") == 1)
                #expect(scrape.samples("hearth_sqlite_group_commit_pending").isEmpty, "PostgreSQL: no SQLite series")
            }
            #expect(scrape.samples("hearth_audit_checkpoint_age_seconds").isEmpty)
            #expect(scrape.samples("hearth_http_requests_total", where: ["listener": "casework"]).isEmpty)
        }
    }

    @Test("the metrics listener answers GET /metrics only: other paths 404, other methods 405; the intake listener has no /metrics")
    func metricsListenerServesOnlyMetrics() async throws {
        try await IntakeHarness.with(metrics: true) { h in
            let base = "http://127.0.0.1:\(try #require(h.metricsPort))"
            let ok = try await plainHTTP("GET", base + "/metrics")
            #expect(ok.status == 200)
            #expect(ok.headers["Content-Type"].first == "text/plain; version=0.0.4; charset=utf-8")
            #expect(ok.headers["Cache-Control"].first == "no-store")
            for path in ["/", "/healthz", "/metrics/", "/metrics/x", "/api/v1/contact-requests", "/favicon.ico"] {
                #expect(try await plainHTTP("GET", base + path).status == 404, "\(path)")
            }
            for method in ["POST", "PUT", "DELETE"] {
                let refused = try await plainHTTP(method, base + "/metrics")
                #expect(refused.status == 405 && refused.headers["Allow"].first == "GET", "\(method)")
            }
            #expect(try await h.client.send(.GET, "/metrics").status == 404, "no /metrics on the intake listener")
        }
    }

    @Test("two assemblies in one process keep their own figures")
    func assembliesDoNotMixFigures() async throws {
        try await IntakeHarness.with(metrics: true) { a in
            try await IntakeHarness.with(metrics: true) { b in
                _ = try await a.submit(sampleRequest())
                _ = try await a.submit(sampleRequest())
                #expect(try await a.scrape().value("hearth_submissions_total") == 2)
                #expect(try await b.scrape().value("hearth_submissions_total") == 0)
            }
        }
    }
}
