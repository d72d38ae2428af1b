import Foundation
import GRDB
import HearthApp
import HearthCore
import HearthCrypto
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Synchronization
import Testing

/// Counts finished survivor operations.
final class OverlapCounter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// A small seeded generator (SplitMix64), so a failing run can be replayed with its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `hearth keys rewrap` is crash-safe and safe to run beside a live service: killed at random
/// moments it never loses, duplicates or breaks a wrap, and it never undoes a survivor's change.
@Suite("hearth keys rewrap: SIGKILL and concurrent survivors", .timeLimit(.minutes(5)))
struct RewrapCrashTests {
    typealias Support = KeyLifecycleSupport

    /// The seed: `HEARTH_TEST_SEED` if set, otherwise the clock.
    static func seed() -> UInt64 {
        if let s = ProcessInfo.processInfo.environment["HEARTH_TEST_SEED"], let v = UInt64(s) { return v }
        return UInt64(Date().timeIntervalSince1970 * 1000)
    }

    /// Every record has exactly `expected` scopes, each wrap opens with the key of its own version,
    /// support wraps are at one of `supportVersions`, others at v1, and SQLite's integrity check passes.
    static func expectIntact(
        _ f: Support.Fixture,
        _ expected: [String: Set<String>],
        supportVersions: Set<Int64>,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [String: [String: Int64]] {
        #expect(try await f.integrity() == "ok", "\(what): integrity_check", sourceLocation: sourceLocation)
        let rows = try await f.wraps()
        #expect(rows.count == expected.values.reduce(0) { $0 + $1.count }, "\(what): wrap rows", sourceLocation: sourceLocation)
        let opened = Support.openEveryWrap(rows, keys: f.keys, what, sourceLocation: sourceLocation)
        var wrong: [String] = []
        for (reference, scopes) in expected where Set((opened[reference] ?? [:]).keys) != scopes {
            wrong.append("\(reference): has \(opened[reference]?.keys.sorted() ?? []), expected \(scopes.sorted())")
        }
        #expect(wrong.isEmpty, "\(what): \(wrong.count) records with other scopes: \(wrong.prefix(5))", sourceLocation: sourceLocation)
        let badVersions = rows.filter { $0.scope == "support" ? !supportVersions.contains($0.version) : $0.version != 1 }
        #expect(
            badVersions.isEmpty,
            "\(what): unexpected versions \(badVersions.prefix(5).map { "\($0.scope).v\($0.version)" })",
            sourceLocation: sourceLocation
        )
        return opened
    }

    @Test(
        "rewrap --batch 5 SIGKILLed 24 times at random moments (seeded) loses, duplicates and breaks no wrap; each wrap is at the old or the new version; a final run completes it"
    )
    func rewrapSurvivesSigkill() async throws {
        let started = ContinuousClock.now
        let f = try await Support.Fixture.make()
        // 800 records: support on 6 in 8 (some with review or police too), review only on 1, none on 1.
        let seeded = try await Support.seed(f.service, count: 800, workers: 32) { i in
            switch i % 8 {
            case 0, 1, 2: ["support"]
            case 3: ["support", "review"]
            case 4, 5: ["support", "police"]
            case 6: ["review"]
            default: []
            }
        }
        let expected = Dictionary(uniqueKeysWithValues: seeded.filter { !$0.scopes.isEmpty }.map { ($0.reference, $0.scopes) })
        let supportTotal = seeded.filter { $0.scopes.contains("support") }.count
        var primary = Int64(try f.rotate(.support))
        _ = try await Self.expectIntact(f, expected, supportVersions: [primary - 1], "before any rewrap")
        let seededAt = ContinuousClock.now

        let seed = Self.seed()
        print("RewrapCrashTests.rewrapSurvivesSigkill seed: \(seed) (replay with HEARTH_TEST_SEED=\(seed))")
        var rng = SeededGenerator(seed: seed)
        var atPrimary = 0
        var log: [String] = []
        var killedMidway = 0
        for round in 0..<24 {
            let delay = Int.random(in: 0...300, using: &rng)
            let child = try f.start(["keys", "rewrap", "--scope", "support", "--batch", "5"])
            await pause(.milliseconds(delay))
            child.signal(SIGKILL)
            #expect(await child.waitForExit(timeout: .seconds(10)), "round \(round): the child did not exit")
            let outcome = await child.outcome()
            #expect(outcome.reason == .uncaughtSignal || outcome.succeeded, "round \(round): \(outcome)")

            let opened = try await Self.expectIntact(
                f,
                expected,
                supportVersions: [primary - 1, primary],
                "after kill \(round) at \(delay) ms (primary v\(primary))"
            )
            let now = opened.values.filter { $0["support"] == primary }.count
            #expect(now >= atPrimary, "round \(round): wraps went back to an older version")
            #expect(now % 5 == 0, "round \(round): \(now) wraps at the primary is not a whole number of 5-wrap batches")
            if now > atPrimary && now < supportTotal && outcome.reason == .uncaughtSignal { killedMidway += 1 }
            log.append("\(delay)ms:\(now)")
            atPrimary = now
            // The whole job fits in a few hundred milliseconds: once it is done, rotate again so the
            // following kills land in a job again (wraps then move from v(N-1) to vN).
            if now == supportTotal && round < 23 {
                primary = Int64(try f.rotate(.support))
                atPrimary = 0
                log.append("| v\(primary):")
            }
        }
        print(
            "RewrapCrashTests.rewrapSurvivesSigkill rounds (delay:wraps at the primary, of \(supportTotal)): \(log.joined(separator: " ")); killed mid-job \(killedMidway) times; seeding took \(seededAt - started)"
        )

        let final = try await f.cli(["keys", "rewrap", "--scope", "support", "--batch", "5"])
        #expect(final.succeeded, "\(final)")
        let opened = try await Self.expectIntact(f, expected, supportVersions: [primary], "after the final run")
        #expect(opened.values.filter { $0["support"] == primary }.count == supportTotal)
        // Every record's body opens with the data key from each of its wraps.
        let bodies = try await f.store.inspect { db in
            try Dictionary(
                uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT rid, body FROM records").map {
                    ($0["rid"] as Int64, Array($0["body"] as Data))
                }
            )
        }
        let opener = Support.WrapOpener(f.keys)
        var failures = 0
        for row in try await f.wraps() {
            do { try opener.open(row, body: bodies[row.rid]) } catch { failures += 1 }
        }
        #expect(failures == 0)
        #expect(killedMidway >= 3, "too few kills landed while wraps were being moved (\(killedMidway)); the test proved little")
    }

    /// What the concurrent survivors do to seeded record `i` (every third record takes part).
    enum SurvivorAction: CaseIterable {
        case withdrawSupport, grantReview, withdrawThenGrantSupportAgain, renewSupportWithExpiry
    }

    static func action(for i: Int) -> SurvivorAction? {
        i % 3 == 0 ? SurvivorAction.allCases[(i / 3) % 4] : nil
    }

    @Test(
        "while rewrap (batch 1, every scope) runs on 300 records, survivors submit, grant and withdraw: nothing acknowledged is lost, no withdrawn wrap comes back, the consent history is intact"
    )
    func rewrapBesideLiveSurvivors() async throws {
        let f = try await Support.Fixture.make()
        // Three or four wraps per record, so the job (every scope, one wrap per transaction) lasts.
        let seededScopes: @Sendable (Int) -> [String] = { i in
            i % 5 == 0 ? ["support", "review", "police", "prosecution"] : ["support", "police", "prosecution"]
        }
        let seeded = try await Support.seed(f.service, count: 300, workers: 32, scopes: seededScopes)
        for scope in Scope.allCases { try f.rotate(scope) }  // the service now seals every new wrap to v2
        let expiry = f.service.today.adding(days: 30)

        // What every record must look like afterwards: scopes (with version and expiry) and history.
        var expected: [String: [String: (version: Int64, expires: String?)]] = [:]
        var history: [String: [String]] = [:]
        for (i, s) in seeded.enumerated() {
            let scopes = seededScopes(i)
            // Every wrap ends at v2: re-wrapped by the job, or re-sealed by the survivor.
            expected[s.reference] = Dictionary(uniqueKeysWithValues: scopes.map { ($0, (version: Int64(2), expires: String?.none)) })
            history[s.reference] = scopes.map { "\($0) granted" }
            switch Self.action(for: i) {
            case .withdrawSupport:
                expected[s.reference]!["support"] = nil
                history[s.reference]! += ["support withdrawn"]
            case .grantReview:
                expected[s.reference]!["review"] = (2, nil)
                history[s.reference]! += ["review granted"]
            case .withdrawThenGrantSupportAgain:
                history[s.reference]! += ["support withdrawn", "support granted"]
            case .renewSupportWithExpiry:
                expected[s.reference]!["support"] = (2, expiry.description)
                history[s.reference]! += ["support granted \(expiry)"]
            case nil:
                break
            }
        }

        // The survivors start first and keep going; the rewrap starts once they are under way, so
        // their changes land before, during and after its batches however loaded the machine is
        // (the interleaving is checked below from the audit trail).
        let done = OverlapCounter()
        let service = f.service
        let survivors = Task {
            try await withThrowingTaskGroup(of: [Support.Seeded].self) { group in
                let workers = 6
                for w in 0..<workers {
                    group.addTask {
                        var mine: [Support.Seeded] = []
                        for i in stride(from: w, to: seeded.count, by: workers) {
                            guard let action = Self.action(for: i) else { continue }
                            let receipt = seeded[i].receipt
                            switch action {
                            case .withdrawSupport:
                                _ = try await service.withdraw(.support, for: try await service.authenticate(receipt: receipt))
                            case .grantReview:
                                _ = try await service.grant(
                                    ConsentChoice(scope: .review),
                                    for: try await service.authenticate(receipt: receipt)
                                )
                            case .withdrawThenGrantSupportAgain:
                                _ = try await service.withdraw(.support, for: try await service.authenticate(receipt: receipt))
                                _ = try await service.grant(
                                    ConsentChoice(scope: .support),
                                    for: try await service.authenticate(receipt: receipt)
                                )
                            case .renewSupportWithExpiry:
                                _ = try await service.grant(
                                    ConsentChoice(scope: .support, expires: expiry),
                                    for: try await service.authenticate(receipt: receipt)
                                )
                            }
                            done.add()
                            // Survivors arrive with gaps between them (a tight loop of writes in
                            // this process would starve the job's writes in another, by SQLite's
                            // busy-wait back-off, and nothing would interleave).
                            await pause(.milliseconds(8))
                            // And a new submission now and then.
                            if i % 9 == 0 {
                                let result = try await service.submit(
                                    try Support.submission(consents: ["support", "police"], canary: "during-\(i)", today: service.today)
                                )
                                mine.append(
                                    Support.Seeded(reference: result.reference, receipt: result.receipt, scopes: ["support", "police"])
                                )
                                done.add()
                            }
                        }
                        return mine
                    }
                }
                var all: [Support.Seeded] = []
                for try await part in group { all += part }
                return all
            }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while done.value < 6 && ContinuousClock.now < deadline { await pause(.milliseconds(2)) }
        let child = try f.start(["keys", "rewrap", "--batch", "1"])
        let startedAfter = done.value
        let created: [Support.Seeded]
        do {
            created = try await survivors.value
        } catch {
            await child.stop(grace: .seconds(2))
            throw error
        }
        #expect(await child.waitForExit(timeout: .seconds(60)), "the rewrap did not finish")
        let outcome = await child.outcome()
        #expect(outcome.succeeded, "\(outcome)")
        // Survivor changes committed between the job's start and end entries in the audit trail.
        let interleaved = try await f.store.inspect { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM audit WHERE actor = 'survivor'
                    AND seq > (SELECT min(seq) FROM audit WHERE action = 'keys.rewrap.start')
                    AND seq < (SELECT max(seq) FROM audit WHERE action = 'keys.rewrap.done')
                    """
            ) ?? 0
        }
        print(
            "RewrapCrashTests.rewrapBesideLiveSurvivors: rewrap started after \(startedAfter) of \(done.value) survivor operations; \(interleaved) survivor audit entries between the first keys.rewrap.start and the last .done; \(outcome.stdout.split(separator: "\n").filter { $0.contains("re-wrapped") }.joined(separator: "; "))"
        )
        #expect(interleaved > 0, "no survivor change landed while the rewrap ran; the test proved little")

        for c in created {
            expected[c.reference] = ["support": (2, nil), "police": (2, nil)]
            history[c.reference] = ["support granted", "police granted"]
        }
        #expect(try await f.integrity() == "ok")

        // Every acknowledged record is there and opens with its receipt.
        for s in seeded + created {
            let survivor = try await service.authenticate(receipt: s.receipt)
            #expect(survivor.reference == s.reference)
        }
        // Exactly the expected wraps, at the expected versions and expiry, and each opens.
        let rows = try await f.wraps()
        let opened = Support.openEveryWrap(rows, keys: f.keys, "after the concurrent rewrap")
        var wrong: [String] = []
        for (reference, scopes) in expected {
            let got = rows.filter { $0.reference == reference }
            let gotDescription = got.map { "\($0.scope).v\($0.version) \($0.expires ?? "-")" }.sorted()
            let wanted = scopes.map { "\($0.key).v\($0.value.version) \($0.value.expires ?? "-")" }.sorted()
            if gotDescription != wanted { wrong.append("\(reference): \(gotDescription), expected \(wanted)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) records differ: \(wrong.prefix(5))")
        #expect(Set(opened.keys) == Set(expected.filter { !$0.value.isEmpty }.keys))
        #expect(rows.count == expected.values.reduce(0) { $0 + $1.count })

        // The consent history of every record is exactly what happened, in order.
        let events = try await f.store.inspect { db in
            try Row.fetchAll(
                db,
                sql: "SELECT r.id, e.scope, e.action, e.expires FROM consent_events e JOIN records r ON r.rid = e.record_rid ORDER BY e.seq"
            )
            .map { row -> (String, String) in
                let id: Data = row["id"]
                let expires: String? = row["expires"]
                return (
                    RecordID(bytes: Array(id))!.reference,
                    "\(row["scope"] as String) \(row["action"] as String)" + (expires.map { " \($0)" } ?? "")
                )
            }
        }
        var gotHistory: [String: [String]] = [:]
        for (reference, event) in events { gotHistory[reference, default: []].append(event) }
        let historyWrong = history.filter { gotHistory[$0.key] != $0.value }.map {
            "\($0.key): \(gotHistory[$0.key] ?? []), expected \($0.value)"
        }
        #expect(historyWrong.isEmpty, "\(historyWrong.count) histories differ: \(historyWrong.prefix(3))")
        #expect(gotHistory.count == history.count)

        // Nothing is left at v1 for support: a second run has nothing to do.
        let again = try await f.cli(["keys", "rewrap"])
        #expect(
            again.succeeded && Scope.allCases.allSatisfy { again.stdout.contains("\($0.rawValue): 0 re-wrapped, 0 left alone") },
            "\(again)"
        )
    }

    @Test(
        "compare-and-set: wraps withdrawn, re-granted (fresh or by a stale intake still sealing to v1) or renewed between the job's read and its write are left alone, not overwritten or brought back"
    )
    func rowsChangedMidBatchAreLeftAlone() async throws {
        let f = try await Support.Fixture.make()
        let seeded = try await Support.seed(f.service, count: 40, workers: 1) { _ in ["support"] }
        // A second intake process on the same files that has not reloaded its keys yet.
        let stale = try await Support.Fixture.intakeProcess(keys: f.keys.path, data: f.data).survivors!
        try f.rotate(.support)
        let receipts = Dictionary(uniqueKeysWithValues: seeded.map { ($0.reference, $0.receipt) })
        let service = f.service
        let expiry = service.today.adding(days: 7)
        // Between reading and writing the first batch, survivors change its first four rows.
        let store = InterferingRewrapStore(inner: f.store) { batch in
            let refs = batch.map(\.old.recordID.reference)
            func who(_ i: Int) async throws -> AuthenticatedSurvivor { try await service.authenticate(receipt: receipts[refs[i]]!) }
            _ = try await service.withdraw(.support, for: try await who(0))
            _ = try await service.withdraw(.support, for: try await who(1))
            _ = try await service.grant(ConsentChoice(scope: .support), for: try await who(1))
            _ = try await stale.grant(ConsentChoice(scope: .support), for: try await stale.authenticate(receipt: receipts[refs[2]]!))
            _ = try await service.grant(ConsentChoice(scope: .support, expires: expiry), for: try await who(3))
            return Array(refs.prefix(4))
        }
        let before = try await f.wraps()
        let job = RewrapJob(store: store, files: f.keys, clock: SystemClock(), logger: LogCapture().logger())
        let master = try f.keys.loadMasterKey(passphrase: nil)
        let progress = try await job.run(scope: .support, master: master, batch: 10)
        let touched = try #require(store.touched)
        #expect(progress.done == seeded.count - 4 && progress.skipped == 4, "\(progress)")

        let after = try await f.wraps()
        let byRef = Dictionary(uniqueKeysWithValues: after.map { ($0.reference, $0) })
        let old = Dictionary(uniqueKeysWithValues: before.map { ($0.reference, $0) })
        #expect(byRef[touched[0]] == nil, "the withdrawn wrap came back")
        #expect(byRef[touched[1]]?.version == 2 && byRef[touched[1]]?.wrap != old[touched[1]]?.wrap)
        #expect(
            byRef[touched[2]]?.version == 1 && byRef[touched[2]]?.wrap != old[touched[2]]?.wrap,
            "the stale intake's fresh v1 wrap is kept"
        )
        #expect(byRef[touched[3]]?.version == 2 && byRef[touched[3]]?.expires == expiry.description)
        #expect(after.filter { !touched.contains($0.reference) }.allSatisfy { $0.version == 2 })
        _ = Support.openEveryWrap(after, keys: f.keys, "after the interfered job")
        let history = try await service.view(try await service.authenticate(receipt: receipts[touched[1]]!)).history
        #expect(
            history.map { "\($0.scope.rawValue) \($0.action.rawValue)" } == ["support granted", "support withdrawn", "support granted"]
        )

        // The next run picks up the v1 wrap the stale intake wrote; the withdrawn one stays gone.
        let again = try await RewrapJob(store: f.store, files: f.keys, clock: SystemClock(), logger: LogCapture().logger())
            .run(scope: .support, master: master, batch: 10)
        #expect(again.done == 1 && again.skipped == 0, "\(again)")
        let final = try await f.wraps()
        #expect(final.count == seeded.count - 1 && final.allSatisfy { $0.version == 2 })
        #expect(!final.contains { $0.reference == touched[0] })
        _ = Support.openEveryWrap(final, keys: f.keys, "after the second job")
    }
}

/// A `RewrapStore` over the real one that lets survivors act between the job's read of the first
/// batch and its compare-and-set write.
final class InterferingRewrapStore: RewrapStore, @unchecked Sendable {
    let inner: SQLiteStore
    let interfere: @Sendable ([RewrappedWrap]) async throws -> [String]
    private let state = Mutex<[String]?>(nil)

    init(inner: SQLiteStore, interfere: @escaping @Sendable ([RewrappedWrap]) async throws -> [String]) {
        self.inner = inner
        self.interfere = interfere
    }

    /// The references changed under the job, once it has happened.
    var touched: [String]? { state.withLock { $0 } }

    func wrapsToRewrap(scope: Scope, version: UInt32, after cursor: RewrapCursor?, limit: Int) async throws -> [WrapToRewrap] {
        try await inner.wrapsToRewrap(scope: scope, version: version, after: cursor, limit: limit)
    }

    func replaceWraps(_ updates: [RewrappedWrap]) async throws -> Int {
        if state.withLock({ $0 == nil }) {
            let refs = try await interfere(updates)
            state.withLock { $0 = refs }
        }
        return try await inner.replaceWraps(updates)
    }

    func wrapCounts() async throws -> [Scope: [UInt32: Int]] { try await inner.wrapCounts() }

    func appendAudit(_ event: AuditEvent, at: Int64) async throws { try await inner.appendAudit(event, at: at) }
    func auditHead() async throws -> (seq: Int64, hash: [UInt8])? { try await inner.auditHead() }
    func auditEntries() async throws -> [AuditEntry] { try await inner.auditEntries() }
    func auditCheckpoints() async throws -> [AuditCheckpoint] { try await inner.auditCheckpoints() }
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] { try await inner.auditEntries(after: seq, limit: limit) }
    func auditCheckpoints(after seq: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try await inner.auditCheckpoints(after: seq, limit: limit)
    }
    func lastAuditCheckpoint() async throws -> AuditCheckpoint? { try await inner.lastAuditCheckpoint() }
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws { try await inner.addCheckpoint(checkpoint) }
}
