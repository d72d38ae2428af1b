import Foundation
import HearthCore
import HearthTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The casework side's figures move with what happens.
@Suite("Casework metrics")
struct CaseworkMetricsTests {
    @Test("staff sessions: none, one after signing in, none after signing out")
    func staffSessionsAreCounted() async throws {
        try await CaseworkHarness.with(metrics: true) { h in
            #expect(try await h.scrape().value("hearth_staff_sessions") == 0)
            let alice = try await h.readyStaff("alice", .caseworker)
            #expect(try await h.scrape().value("hearth_staff_sessions") == 1)
            #expect(try await h.staffClient.send(.DELETE, "/api/v1/session", headers: alice.bearer).status == 204)
            #expect(try await h.scrape().value("hearth_staff_sessions") == 0)
        }
    }

    @Test("key versions: a rotation makes v2 primary, and wraps are counted per version under scope and vN labels only")
    func keyVersionsAreCounted() async throws {
        try await CaseworkHarness.with(metrics: true) { h in
            _ = try await h.submit(consents: ["support", "police"])
            let first = try await h.scrape()
            #expect(first.value("hearth_key_primary_version", ["scope": "support"]) == 1)
            #expect(first.value("hearth_key_wraps", ["scope": "support", "version": "v1"]) == 1)
            #expect(first.value("hearth_key_wraps", ["scope": "review", "version": "v1"]) == 0)

            _ = try h.keys.rotate(.support, master: try h.keys.loadMasterKey(passphrase: nil))
            try h.assembly.reloadKeys()
            _ = try await h.submit(consents: ["support"])
            let second = try await h.scrape()
            #expect(second.value("hearth_key_primary_version", ["scope": "support"]) == 2)
            #expect(second.value("hearth_key_primary_version", ["scope": "police"]) == 1)
            #expect(second.value("hearth_key_wraps", ["scope": "support", "version": "v1"]) == 1)
            #expect(second.value("hearth_key_wraps", ["scope": "support", "version": "v2"]) == 1)
            #expect(second.value("hearth_key_wraps", ["scope": "police", "version": "v1"]) == 1)
        }
    }

    @Test("the audit checkpoint: entries since it grow; after signing one, its age follows the clock and nothing is unchecked")
    func checkpointAgeIsReported() async throws {
        try await CaseworkHarness.with(metrics: true) { h in
            _ = try await h.submit(consents: ["support"])
            let before = try await h.scrape()
            #expect(before.samples("hearth_audit_checkpoint_age_seconds").isEmpty, "no checkpoint yet: no age")
            #expect((before.value("hearth_audit_entries_since_checkpoint") ?? 0) >= 1)

            _ = try await h.casework.checkpointAudit()
            h.clock.advance(seconds: 120)
            let after = try await h.scrape()
            #expect(after.value("hearth_audit_checkpoint_age_seconds") == 120)
            #expect(after.value("hearth_audit_entries_since_checkpoint") == 0)
        }
    }

    @Test("free disk is the data directory's statvfs figure, and the database size is the SQLite file, WAL and shared memory together")
    func diskAndDatabaseSizesAreReported() async throws {
        try await CaseworkHarness.with(metrics: true) { h in
            _ = try await h.submit(consents: ["support"])
            let scrape = try await h.scrape()
            let files = [h.databasePath, h.databasePath + "-wal", h.databasePath + "-shm"]
            let size = try files.reduce(0) { total, file in
                total + ((try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.doubleValue ?? 0)
            }
            #expect(scrape.value("hearth_database_bytes") == size)
            var s = statvfs()
            #expect(statvfs(h.assembly.settings.data, &s) == 0)
            let free = Double(s.f_bavail) * Double(s.f_frsize)
            let reported = try #require(scrape.value("hearth_data_free_bytes"))
            #expect(reported > 0 && abs(reported - free) < 256 * 1024 * 1024, "\(reported) vs \(free)")
        }
    }

    @Test("/metrics is not served on the casework listener, and requests with no route count as unmatched")
    func caseworkListenerHasNoMetrics() async throws {
        try await CaseworkHarness.with(metrics: true) { h in
            #expect(try await h.staffClient.send(.GET, "/metrics").status == 404)
            let scrape = try await h.scrape()
            #expect(
                scrape.value("hearth_http_requests_total", ["listener": "casework", "route": "unmatched", "method": "GET", "status": "404"]) == 1)
            try expectOnlyAllowedLabels(scrape, routes: h.assembly)
        }
    }
}
