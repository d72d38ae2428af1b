import Foundation
import HearthApp
import HearthCore
import HearthTestSupport
import Testing

/// The metrics listener after a whole journey: figures, never people (SECURITY.md §11.1).
@Suite("Metrics carry no personal data")
struct MetricsPrivacyTests {
    static let canary = "CANARY-9q7Zx"
    static let username = "canaryuser9q7zx"
    static let reason = "opening because CANARY-REASON-4kW2"
    static let message = "survivor writes CANARY-MESSAGE-8pLm"
    static let reply = "staff reply CANARY-REPLY-3nBv"

    @Test(
        "after a full journey with canaries, /metrics names no canary, reference, receipt, lookup id, username, address or path, only allowed labels, and the expected series with the right counts",
        arguments: TestStore.all)
    func scrapeAfterJourneyCarriesNoPersonalData(store: TestStore) async throws {
        try await CaseworkHarness.with(loginFailuresPerAddress: 2, store: store, metrics: true) { h in
            // A survivor comes forward with a canary in every free-text field and a region.
            let (reference, receipt) = try await h.submit(consents: ["support"], canary: Self.canary)
            #expect(try await h.intake.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt).status == 200)
            #expect(try await h.intake.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt).status == 200)
            #expect(try await h.intake.send(.POST, "/api/v1/me/messages", json: ["text": Self.message], receipt: receipt).status == 201)
            // A failed look-up, and a raw path with the reference in it that no route matches.
            let wrong = otherReceipt(than: receipt)
            #expect(try await h.intake.send(.GET, "/api/v1/me", receipt: wrong).status == 401)
            #expect(try await h.intake.send(.GET, "/api/v1/nothing/\(reference)").status == 404)

            // Staff: a supervisor and a caseworker whose username is a canary.
            let sue = try await h.readyStaff("sue", .supervisor)
            let worker = try await h.readyStaff(Self.username, .caseworker)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": Self.username]).status == 200)
            let opened = try await h.staffPost(worker, "/api/v1/cases/\(reference)/open", ["reason": Self.reason])
            #expect(opened.status == 200, "\(opened.text)")
            #expect(try await h.staffPost(worker, "/api/v1/cases/\(reference)/replies", ["text": Self.reply]).status == 201)

            let middle = try await h.scrape()
            #expect(middle.value("hearth_key_wraps", ["scope": "support", "version": "v1"]) == 1, "the support wrap is live")
            #expect(middle.value("hearth_key_wraps", ["scope": "police", "version": "v1"]) == 0, "the police wrap was withdrawn")

            // The survivor erases everything; then two failed sign-ins and a third refused (429).
            #expect(try await h.intake.send(.DELETE, "/api/v1/me", receipt: receipt).status == 204)
            for _ in 0..<2 {
                let failed = try await h.staffClient.send(
                    .POST, "/api/v1/session", json: ["username": Self.username, "password": Self.canary, "totp": "000000"])
                #expect(failed.status == 401)
            }
            let refused = try await h.staffClient.send(
                .POST, "/api/v1/session", json: ["username": Self.username, "password": Self.canary, "totp": "000000"])
            #expect(refused.status == 429)

            let scrape = try await h.scrape()
            let lookup = hex(try #require(Receipt(parsing: receipt)).lookupID())
            let forbidden = [
                Self.canary, Self.username, Self.reason, Self.message, Self.reply, "CANARY", "a long new password", reference,
                String(reference.dropFirst(3)), "HR-", receipt, receipt.replacingOccurrences(of: "-", with: ""), wrong, lookup,
                "127.0.0.1", "::1", "localhost", "/api/v1/cases/HR", "/api/v1/nothing", "north-west", "sue", "Sam", "Example Road",
            ]
            for needle in forbidden {
                #expect(!scrape.text.localizedCaseInsensitiveContains(needle), "the scrape must not contain \(needle)")
            }
            try expectOnlyAllowedLabels(scrape, routes: h.assembly)

            // Not vacuous: the journey's series are there with the right counts.
            func requests(_ listener: String, _ route: String, _ method: String, _ status: Int) -> Double? {
                scrape.value(
                    "hearth_http_requests_total", ["listener": listener, "route": route, "method": method, "status": String(status)])
            }
            #expect(requests("intake", "/api/v1/contact-requests", "POST", 201) == 1)
            #expect(requests("intake", "/api/v1/me/consents", "POST", 200) == 1)
            #expect(requests("intake", "/api/v1/me/consents/{scope}", "DELETE", 200) == 1)
            #expect(requests("intake", "/api/v1/me/messages", "POST", 201) == 1)
            #expect(requests("intake", "/api/v1/me", "GET", 401) == 1)
            #expect(requests("intake", "unmatched", "GET", 404) == 1)
            #expect(requests("intake", "/api/v1/me", "DELETE", 204) == 1)
            #expect(requests("casework", "/api/v1/session", "POST", 200) == 2)
            #expect(requests("casework", "/api/v1/session", "POST", 401) == 2)
            #expect(requests("casework", "/api/v1/session", "POST", 429) == 1)
            #expect(requests("casework", "/api/v1/cases/{reference}/assign", "POST", 200) == 1)
            #expect(requests("casework", "/api/v1/cases/{reference}/open", "POST", 200) == 1)
            #expect(requests("casework", "/api/v1/cases/{reference}/replies", "POST", 201) == 1)
            #expect(
                scrape.value(
                    "hearth_http_request_duration_seconds_count", ["listener": "intake", "route": "/api/v1/contact-requests", "method": "POST"])
                    == 1)
            #expect(scrape.value("hearth_submissions_total") == 1)
            #expect(scrape.value("hearth_rate_limit_refusals_total", ["listener": "casework"]) == 1)
            #expect(scrape.value("hearth_rate_limit_refusals_total", ["listener": "intake"]) == 0)
            #expect(scrape.value("hearth_staff_sessions") == 2, "sue and the caseworker are signed in")
            #expect(scrape.value("hearth_key_wraps", ["scope": "support", "version": "v1"]) == 0, "erased: no wrap is left")
            #expect(scrape.value("hearth_key_primary_version", ["scope": "support"]) == 1)
            #expect((scrape.value("hearth_audit_entries_since_checkpoint") ?? 0) > 0)
            #expect((scrape.value("hearth_database_bytes") ?? 0) > 0)
            switch store {
            case .sqlite:
                #expect(scrape.value("hearth_sqlite_group_commit_batch_size_sum") == 1)
                #expect(scrape.value("hearth_sqlite_group_commit_duration_seconds_count") == 1)
                #expect(scrape.value("hearth_sqlite_group_commit_pending") == 0)
            case .postgres:
                #expect(scrape.value("hearth_postgres_insert_duration_seconds_count") == 1)
            }
            #expect(scrape.value("hearth_metrics_refresh_failures_total") == 0)
        }
    }

    /// A receipt-shaped text that is not `receipt` (its first group changed).
    func otherReceipt(than receipt: String) -> String {
        let first = receipt.prefix(4)
        let swapped = first == "AAAA" ? "BBBB" : "AAAA"
        return swapped + receipt.dropFirst(4)
    }
}

/// Every sample is `hearth_…`, every label one of listener, route, method, status, scope, version,
/// reason and le, and every label value from its closed set: a registered route template or
/// `unmatched`, a known method or `other`, a three-digit status, a scope, `vN`, a submission
/// refusal reason, a bucket bound.
func expectOnlyAllowedLabels(_ scrape: Scrape, routes assembly: HearthAssembly, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(scrape.malformed.isEmpty, "malformed lines: \(scrape.malformed)", sourceLocation: sourceLocation)
    #expect(!scrape.samples.isEmpty, sourceLocation: sourceLocation)
    let templates = Set(assembly.routes.values.flatMap { $0.routes.map(\.path) }).union(["unmatched"])
    let methods: Set = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "other"]
    let status = /[1-5][0-9][0-9]/
    let version = /v[0-9]+/
    let bound = /\+Inf|[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?/
    for sample in scrape.samples {
        #expect(sample.name.wholeMatch(of: /hearth_[a-z_]+/) != nil, "\(sample.name)", sourceLocation: sourceLocation)
        for (key, value) in sample.labels {
            let allowed: Bool
            switch key {
            case "listener": allowed = ["intake", "casework"].contains(value)
            case "route": allowed = templates.contains(value)
            case "method": allowed = methods.contains(value)
            case "status": allowed = value.wholeMatch(of: status) != nil
            case "scope": allowed = Scope(rawValue: value) != nil
            case "version": allowed = value.wholeMatch(of: version) != nil
            case "reason": allowed = ["source", "global", "disk"].contains(value)
            case "le": allowed = value.wholeMatch(of: bound) != nil
            default: allowed = false
            }
            #expect(allowed, "\(sample.name): label \(key)=\"\(value)\" is outside its closed set", sourceLocation: sourceLocation)
        }
    }
}
