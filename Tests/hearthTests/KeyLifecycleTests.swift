import Foundation
import GRDB
import HearthApp
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthKeys
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

/// Helpers for the key lifecycle tests (this file and RewrapCrashTests.swift).
enum KeyLifecycleSupport {
    /// A record seeded through `SurvivorService`, with the scopes it was given.
    struct Seeded: Sendable {
        let reference: String
        let receipt: String
        let scopes: Set<String>
    }

    /// A consent wrap row with what opening it needs.
    struct WrapRow: Sendable, Equatable {
        let rid: Int64
        let recordID: RecordID
        let commitment: [UInt8]
        let scope: String
        let version: Int64
        let wrap: [UInt8]
        let expires: String?

        var reference: String { recordID.reference }
    }

    /// Keys made in-process (fast) plus a data directory, for `hearth keys …` and `hearth retention
    /// run` with explicit `--keys` and `--data`; an in-process store and survivor service on the same files.
    struct Fixture: Sendable {
        let work: TemporaryDirectory
        let intake: HearthAssembly

        var keys: KeyDirectory { intake.keys }
        var data: String { intake.settings.data }
        var store: SQLiteStore {
            guard let store = intake.stores.sqlite else { preconditionFailure("these fixtures run on SQLite") }
            return store
        }
        var service: SurvivorService { intake.survivors! }
        var database: String { intake.settings.databasePath }

        static func make() async throws -> Fixture {
            let work = try TemporaryDirectory("hearth-keys")
            return Fixture(work: work, intake: try await intakeProcess(keys: work.file("keys"), data: work.file("data")))
        }

        /// An intake wired by the composition root as `hearth intake` is (development keys made on
        /// first use), not listening: the tests call its survivor service directly, alongside the CLI.
        static func intakeProcess(keys: String, data: String) async throws -> HearthAssembly {
            var settings = HearthSettings(keys: keys, data: data)
            settings.createDevelopmentKeys = true
            settings.backgroundJobs = false
            settings.handlesSignals = false
            settings.retentionDays = 30
            return try await HearthAssembly.assemble(settings, listeners: .intake, logger: LogCapture().logger())
        }

        /// `hearth <arguments…> --keys K --data D`, bounded.
        func cli(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ChildProcess.Outcome {
            try await ChildProcess.run(arguments + ["--keys", keys.path, "--data", data], in: work.path, timeout: timeout)
        }

        /// The same as `cli`, started and left running.
        func start(_ arguments: [String]) throws -> ChildProcess {
            try ChildProcess(arguments + ["--keys", keys.path, "--data", data], in: work.path)
        }

        /// Rotates a scope in-process and makes the survivor service seal to the new version.
        @discardableResult
        func rotate(_ scope: Scope) throws -> UInt32 {
            let master = try keys.loadMasterKey(passphrase: nil)
            let v = try keys.rotate(scope, master: master)
            try intake.reloadKeys()
            return v
        }

        func wraps() async throws -> [WrapRow] {
            try await store.inspect { db in try KeyLifecycleSupport.wrapRows(db) }
        }

        func integrity() async throws -> String? {
            try await store.inspect { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        }
    }

    /// A validated submission like the intake's, with these consents.
    static func submission(consents: [String], canary: String, today: Day) throws -> Submission {
        let json = try JSONSerialization.data(withJSONObject: sampleRequest(canary: canary, consents: consents.map { ["scope": $0] }))
        return try Submission.validate(JSONValue.parse(Array(json)), today: today)
    }

    /// Submits `count` records through `service`, `workers` at a time; `scopes(i)` gives record i's consents.
    static func seed(
        _ service: SurvivorService,
        count: Int,
        from start: Int = 0,
        workers: Int = 8,
        scopes: @escaping @Sendable (Int) -> [String]
    ) async throws -> [Seeded] {
        try await withThrowingTaskGroup(of: [(Int, Seeded)].self) { group in
            for w in 0..<workers {
                group.addTask {
                    var mine: [(Int, Seeded)] = []
                    for i in stride(from: start + w, to: start + count, by: workers) {
                        let s = scopes(i)
                        let result = try await service.submit(try submission(consents: s, canary: "seed-\(i)", today: service.today))
                        mine.append((i, Seeded(reference: result.reference, receipt: result.receipt, scopes: Set(s))))
                    }
                    return mine
                }
            }
            var all: [(Int, Seeded)] = []
            for try await part in group { all += part }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    static func wrapRows(_ db: Database) throws -> [WrapRow] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT w.record_rid, r.id, r.commitment, w.scope, w.key_version, w.wrap, w.expires
                FROM consent_wraps w JOIN records r ON r.rid = w.record_rid ORDER BY w.record_rid, w.scope
                """
        ).map { row in
            let id: Data = row["id"]
            let commitment: Data = row["commitment"]
            let wrap: Data = row["wrap"]
            return WrapRow(
                rid: row["record_rid"],
                recordID: RecordID(bytes: Array(id))!,
                commitment: Array(commitment),
                scope: row["scope"],
                version: row["key_version"],
                wrap: Array(wrap),
                expires: row["expires"]
            )
        }
    }

    /// Opens consent wraps with the private key of each wrap's own version, loaded from disk.
    final class WrapOpener {
        let keys: KeyDirectory
        private var cache: [String: ScopePrivateKey] = [:]

        init(_ keys: KeyDirectory) { self.keys = keys }

        func key(_ scope: Scope, version: UInt32) throws -> ScopePrivateKey {
            if let k = cache["\(scope.rawValue).v\(version)"] { return k }
            let master = try keys.loadMasterKey(passphrase: nil)
            let k = ScopePrivateKey(
                scope: scope,
                version: version,
                key: try keys.loadScopePrivateKey(scope, version: version, master: master)
            )
            cache["\(scope.rawValue).v\(version)"] = k
            return k
        }

        /// Opens the wrap (the commitment check proves it holds this record's data key); with
        /// `body`, also opens the record body with that key.
        func open(_ row: WrapRow, body: [UInt8]? = nil) throws {
            let scope = try #require(Scope(rawValue: row.scope))
            let k = try key(scope, version: UInt32(row.version))
            let dek = try Envelope.openScopeWrap(
                row.wrap,
                with: k.key,
                recordID: row.recordID,
                scope: scope,
                keyVersion: UInt32(row.version),
                commitment: row.commitment
            )
            if let body {
                _ = try Envelope.openBody(body, with: dek, recordID: row.recordID, commitment: row.commitment)
            }
        }
    }

    /// Opens every wrap; returns reference → scope → version, recording an issue for each that fails.
    static func openEveryWrap(
        _ rows: [WrapRow],
        keys: KeyDirectory,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> [String: [String: Int64]] {
        let opener = WrapOpener(keys)
        var out: [String: [String: Int64]] = [:]
        var failures: [String] = []
        for row in rows {
            do {
                try opener.open(row)
            } catch {
                failures.append("\(row.reference) \(row.scope).v\(row.version): \(error)")
            }
            #expect(
                out[row.reference]?[row.scope] == nil,
                "\(what): duplicate \(row.scope) wrap on \(row.reference)",
                sourceLocation: sourceLocation
            )
            out[row.reference, default: [:]][row.scope] = row.version
        }
        #expect(failures.isEmpty, "\(what): \(failures.count) wraps do not open: \(failures.prefix(5))", sourceLocation: sourceLocation)
        return out
    }

    /// One line of `hearth keys status --json`.
    struct StatusLine: Decodable, Equatable {
        let key: String
        let version: UInt32?
        let state: String
        let wraps: Int?
        let canRetire: Bool
        let problems: [String]
    }

    static func status(_ outcome: ChildProcess.Outcome) throws -> [StatusLine] {
        struct Top: Decodable { let keys: [StatusLine] }
        return try JSONDecoder().decode(Top.self, from: Data(outcome.stdout.utf8)).keys
    }

    /// The `support` lines as (version, state, wraps, canRetire).
    static func supportLines(_ lines: [StatusLine]) -> [String] {
        lines.filter { $0.key == "support" }.map { "v\($0.version ?? 0) \($0.state) wraps=\($0.wraps ?? -1) canRetire=\($0.canRetire)" }
    }
}

/// The key lifecycle end to end with the real `hearth`: rotation while the service runs, re-wrap,
/// retirement, status, refusals, corrupt or missing key versions, and retention.
@Suite("hearth keys: rotation, rewrap, retire, retention", .timeLimit(.minutes(2)))
struct KeyLifecycleTests {
    typealias Support = KeyLifecycleSupport

    /// Reads the consent wraps of the running service's database with a read-only GRDB connection.
    static func readWraps(_ database: String) throws -> [Support.WrapRow] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in try Support.wrapRows(db) }
    }

    /// Waits (bounded) until the server has logged `keys reloaded` more than `after` times and the
    /// last such line names `primary` (e.g. `support.v2`); returns the new count.
    static func waitForReload(_ server: ChildProcess, after: Int, primary: String, timeout: Duration = .seconds(15)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = server.stderr.text.split(separator: "\n").filter { $0.contains("keys reloaded") }
            if lines.count > after, lines.last?.contains(primary) == true { return lines.count }
            guard server.isRunning else { throw ChildProcessError(description: "the server exited: \(await server.outcome())") }
            guard ContinuousClock.now < deadline else {
                throw ChildProcessError(description: "no key reload naming \(primary) within \(timeout)\nstderr: \(server.stderr.text)")
            }
            await pause(.milliseconds(50))
        }
    }

    @Test(
        "rotation v1 → v2 → v3 under a running `hearth serve`: new wraps use the primary, every wrap opens throughout, retire refuses before rewrap, then v1 and v2 are destroyed and everything opens with v3"
    )
    func rotationThroughThreeVersions() async throws {
        let work = try TemporaryDirectory("hearth-rotation")
        let keys = KeyDirectory(path: work.file("keys"))
        let database = work.file(".hearth/hearth.sqlite")
        func cli(_ arguments: [String]) async throws -> ChildProcess.Outcome {
            try await ChildProcess.run(arguments, in: work.path)
        }
        func status() async throws -> [Support.StatusLine] {
            let outcome = try await cli(["keys", "status", "--json"])
            #expect(outcome.succeeded, "\(outcome)")
            return try Support.status(outcome)
        }

        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0"], in: work.path) { server, listener in
            try await withClient(listener) { client in
                var references: [String] = []
                func submit(_ scopes: [String], _ tag: String) async throws -> String {
                    let reply = try await client.send(
                        .POST,
                        "/api/v1/contact-requests",
                        json: sampleRequest(canary: tag, consents: scopes.map { ["scope": $0] })
                    )
                    guard reply.status == 201, let reference = reply.json["reference"] as? String else {
                        throw ChildProcessError(description: "submission answered \(reply.status): \(reply.text)")
                    }
                    references.append(reference)
                    return reference
                }
                /// Every wrap opens with its own version's key; returns reference → scope → version.
                func openAll(_ what: String) throws -> [String: [String: Int64]] {
                    let opened = Support.openEveryWrap(try Self.readWraps(database), keys: keys, what)
                    #expect(Set(opened.keys) == Set(references), "\(what): records with wraps")
                    return opened
                }

                // v1: support (and review on some) consent.
                var v1: [String] = []
                for i in 0..<4 { v1.append(try await submit(i % 2 == 0 ? ["support", "review"] : ["support"], "v1-\(i)")) }
                var opened = try openAll("at v1")
                #expect(v1.allSatisfy { opened[$0]?["support"] == 1 }, "\(opened)")

                // Rotate to v2; the running service picks it up and seals new wraps to v2.
                let rotate2 = try await cli(["keys", "rotate", "--scope", "support"])
                #expect(rotate2.succeeded && rotate2.stdout.contains("support v2 is now primary"), "\(rotate2)")
                #expect(rotate2.stdout.contains("hearth keys publish --to DIR"), "a separate intake needs a publication: \(rotate2.stdout)")
                var reloads = try await Self.waitForReload(server, after: 0, primary: "support.v2")
                #expect(
                    Support.supportLines(try await status()) == [
                        "v1 decrypt-only wraps=4 canRetire=false", "v2 primary wraps=0 canRetire=false",
                    ]
                )
                var v2: [String] = []
                for i in 0..<3 { v2.append(try await submit(["support"], "v2-\(i)")) }
                opened = try openAll("after rotating to v2")
                #expect(v1.allSatisfy { opened[$0]?["support"] == 1 } && v2.allSatisfy { opened[$0]?["support"] == 2 }, "\(opened)")
                #expect(v1.enumerated().allSatisfy { i, r in opened[r]?["review"] == (i % 2 == 0 ? 1 : nil) })

                // Rotate to v3.
                let rotate3 = try await cli(["keys", "rotate", "--scope", "support"])
                #expect(rotate3.succeeded && rotate3.stdout.contains("support v3 is now primary"), "\(rotate3)")
                reloads = try await Self.waitForReload(server, after: reloads, primary: "support.v3")
                // The primary version is never retired (here it has no wraps yet).
                let primary = try await cli(["keys", "retire", "--scope", "support", "--version", "3"])
                #expect(primary.exitedNormally && primary.status != 0 && primary.stderr.contains("it is the primary version"), "\(primary)")
                var v3: [String] = []
                for i in 0..<2 { v3.append(try await submit(["support", "police"], "v3-\(i)")) }
                opened = try openAll("after rotating to v3")
                #expect(
                    v1.allSatisfy { opened[$0]?["support"] == 1 } && v2.allSatisfy { opened[$0]?["support"] == 2 }
                        && v3.allSatisfy { opened[$0]?["support"] == 3 && opened[$0]?["police"] == 1 },
                    "\(opened)"
                )
                #expect(
                    Support.supportLines(try await status()) == [
                        "v1 decrypt-only wraps=4 canRetire=false", "v2 decrypt-only wraps=3 canRetire=false",
                        "v3 primary wraps=2 canRetire=false",
                    ]
                )

                // Retire refuses while wraps use the version, naming the count.
                let early = try await cli(["keys", "retire", "--scope", "support", "--version", "1"])
                #expect(early.exitedNormally && early.status != 0, "\(early)")
                #expect(early.stderr.contains("4 consent wraps still use it"), "\(early.stderr)")
                let early2 = try await cli(["keys", "retire", "--scope", "support", "--version", "2"])
                #expect(early2.exitedNormally && early2.status != 0 && early2.stderr.contains("3 consent wraps still use it"), "\(early2)")
                for v in 1...3 {
                    #expect(
                        FileManager.default.fileExists(atPath: keys.sealedFile(.scope(.support), version: UInt32(v))),
                        "v\(v) after refusals"
                    )
                }

                // Re-wrap moves every older support wrap to v3 and leaves other scopes alone.
                let rewrap = try await cli(["keys", "rewrap", "--scope", "support"])
                #expect(rewrap.succeeded && rewrap.stdout.contains("support: 7 re-wrapped, 0 left alone"), "\(rewrap)")
                opened = try openAll("after rewrap")
                #expect((v1 + v2 + v3).allSatisfy { opened[$0]?["support"] == 3 }, "\(opened)")
                #expect(v1.enumerated().allSatisfy { i, r in opened[r]?["review"] == (i % 2 == 0 ? 1 : nil) }, "\(opened)")
                #expect(
                    Support.supportLines(try await status()) == [
                        "v1 decrypt-only wraps=0 canRetire=true", "v2 decrypt-only wraps=0 canRetire=true",
                        "v3 primary wraps=9 canRetire=false",
                    ]
                )

                // Retire v1 and v2: private keys destroyed, public halves kept as .retired.
                for v in 1...2 {
                    let retire = try await cli(["keys", "retire", "--scope", "support", "--version", "\(v)"])
                    #expect(retire.succeeded && retire.stdout.contains("support v\(v) retired"), "\(retire)")
                    #expect(retire.stdout.contains("hearth keys publish --to DIR"), "\(retire.stdout)")
                    #expect(!FileManager.default.fileExists(atPath: keys.sealedFile(.scope(.support), version: UInt32(v))))
                    #expect(!FileManager.default.fileExists(atPath: keys.publicFile(.scope(.support), version: UInt32(v))))
                    #expect(mode(keys.retiredFile(.scope(.support), version: UInt32(v))) == 0o600)
                }
                let lines = try await status()
                #expect(
                    Support.supportLines(lines) == [
                        "v1 retired wraps=0 canRetire=false", "v2 retired wraps=0 canRetire=false", "v3 primary wraps=9 canRetire=false",
                    ]
                )
                #expect(lines.filter { $0.key == "review" }.map(\.state) == ["primary"])
                #expect(lines.allSatisfy { $0.problems.isEmpty }, "\(lines)")
                // Retiring again is refused.
                let again = try await cli(["keys", "retire", "--scope", "support", "--version", "1"])
                #expect(again.exitedNormally && again.status != 0, "\(again)")

                // The service reloads after the retirement and keeps sealing to v3; everything opens.
                reloads = try await Self.waitForReload(server, after: reloads, primary: "support.v3")
                let last = try await submit(["support"], "after-retire")
                opened = try openAll("after retiring v1 and v2")
                #expect(opened[last]?["support"] == 3 && (v1 + v2 + v3).allSatisfy { opened[$0]?["support"] == 3 }, "\(opened)")
                #expect(server.isRunning)
                #expect(!server.stderr.text.contains("key reload failed"), "\(server.stderr.text)")

                // A master-key rotation under the running service: it reloads, and every key still opens.
                let oldMaster = fileBytes(keys.masterKeyFile)
                let rotateMaster = try await cli(["keys", "rotate-master"])
                #expect(rotateMaster.succeeded, "\(rotateMaster)")
                #expect(fileBytes(keys.masterKeyFile) != oldMaster)
                #expect(
                    !(try FileManager.default.contentsOfDirectory(atPath: keys.path)).contains {
                        $0.hasSuffix(".next") || $0.hasSuffix(".commit")
                    }
                )
                reloads = try await Self.waitForReload(server, after: reloads, primary: "support.v3")
                let afterMaster = try await submit(["support"], "after-rotate-master")
                opened = try openAll("after rotating the master key")
                #expect(opened[afterMaster]?["support"] == 3)
                try keys.verifyPrivateKeys(master: try keys.loadMasterKey(passphrase: nil))
                #expect(try await status().allSatisfy { $0.problems.isEmpty })

                // Every step is in the audit trail.
                let actions = try Self.auditActions(database)
                #expect(
                    actions.filter { $0.hasPrefix("keys.") } == [
                        "keys.rotate support.v2 ok", "keys.rotate support.v3 ok", "keys.retire support.v3 refused",
                        "keys.retire support.v1 refused-in-use", "keys.retire support.v2 refused-in-use", "keys.rewrap.start support.v3 7",
                        "keys.rewrap.done support.v3 7", "keys.retire support.v1 ok", "keys.retire support.v2 ok",
                        "keys.retire support.v1 refused", "keys.rotate-master  ok",
                    ],
                    "\(actions)"
                )
            }
        }
    }

    static func auditActions(_ database: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: database, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT action, subject, outcome FROM audit ORDER BY seq").map {
                "\($0["action"] as String) \($0["subject"] as String) \($0["outcome"] as String)"
            }
        }
    }

    @Test(
        "a corrupt or missing support.v1.sealed stops `keys rewrap` (non-zero, naming the file) and leaves consent_wraps byte-identical",
        arguments: ["corrupt", "missing"]
    )
    func damagedOldVersionStopsRewrap(damage: String) async throws {
        let f = try await Support.Fixture.make()
        let seeded = try await Support.seed(f.service, count: 24) { i in i % 3 == 0 ? ["support", "review"] : ["support"] }
        try f.rotate(.support)
        let fresh = try await Support.seed(f.service, count: 4, from: 24) { _ in ["support"] }
        let before = try await f.wraps()
        #expect(before.filter { $0.scope == "support" && $0.version == 1 }.count == seeded.count)
        #expect(before.filter { $0.scope == "support" && $0.version == 2 }.count == fresh.count)
        let auditBefore = try await f.store.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") }

        let file = f.keys.sealedFile(.scope(.support), version: 1)
        let original = fileBytes(file)
        if damage == "corrupt" {
            var bytes = original
            bytes[bytes.count / 2] ^= 0x20
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            #expect(chmod(file, 0o600) == 0 && mode(file) == 0o600)
        } else {
            #expect(unlink(file) == 0)
        }

        let refused = try await f.cli(["keys", "rewrap", "--scope", "support"])
        #expect(refused.exitedNormally && refused.status != 0, "\(refused)")
        #expect(refused.stderr.contains("support.v1.sealed"), "stderr names the file: \(refused.stderr)")
        #expect(try await f.wraps() == before, "consent_wraps changed")
        #expect(try await f.store.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit") } == auditBefore)

        // The job itself also loads every old version before writing anything.
        let job = RewrapJob(store: f.store, files: f.keys, clock: SystemClock(), logger: LogCapture().logger())
        let master = try f.keys.loadMasterKey(passphrase: nil)
        do {
            _ = try await job.run(scope: .support, master: master, batch: 5)
            Issue.record("RewrapJob ran with a \(damage) support.v1.sealed")
        } catch let e as KeyFileError {
            #expect(e.path == file, "\(e)")
        }
        #expect(try await f.wraps() == before, "consent_wraps changed (in-process job)")

        // Put the file back: now the re-wrap goes through and every wrap opens at v2.
        if damage == "missing" {
            try SecureFile.createExclusive(file, contents: original)
        } else {
            try Data(original).write(to: URL(fileURLWithPath: file))
        }
        let rewrap = try await f.cli(["keys", "rewrap", "--scope", "support"])
        #expect(rewrap.succeeded && rewrap.stdout.contains("support: \(seeded.count) re-wrapped"), "\(rewrap)")
        let opened = Support.openEveryWrap(try await f.wraps(), keys: f.keys, "after restoring the key file")
        #expect((seeded + fresh).allSatisfy { opened[$0.reference]?["support"] == 2 }, "\(opened)")
        #expect(seeded.enumerated().allSatisfy { i, s in opened[s.reference]?["review"] == (i % 3 == 0 ? 1 : nil) })
    }

    @Test(
        "a retirement interrupted after the private key was destroyed (.sealed gone, .pub still there) is finished by running retire again"
    )
    func interruptedRetirementCanBeFinished() async throws {
        let f = try await Support.Fixture.make()
        _ = try await Support.seed(f.service, count: 3) { _ in ["support"] }
        try f.rotate(.support)
        let rewrap = try await f.cli(["keys", "rewrap", "--scope", "support"])
        #expect(rewrap.succeeded, "\(rewrap)")
        // The state a crash leaves between destroying support.v1.sealed and renaming support.v1.pub.
        #expect(unlink(f.keys.sealedFile(.scope(.support), version: 1)) == 0)
        let stuck = try Support.status(try await f.cli(["keys", "status", "--json"]))
        #expect(
            stuck.first { $0.key == "support" && $0.version == 1 }?.problems.contains { $0.contains("support.v1.sealed") } == true,
            "status reports the half-retired version: \(stuck)"
        )

        let retire = try await f.cli(["keys", "retire", "--scope", "support", "--version", "1"])
        #expect(retire.succeeded, "\(retire)")
        #expect(!FileManager.default.fileExists(atPath: f.keys.publicFile(.scope(.support), version: 1)))
        #expect(FileManager.default.fileExists(atPath: f.keys.retiredFile(.scope(.support), version: 1)))
        // The fixture's development keys include TLS files, so nothing at all is a problem now.
        let lines = try Support.status(try await f.cli(["keys", "status", "--json"]))
        #expect(lines.filter { !$0.problems.isEmpty }.isEmpty, "\(lines)")
        #expect(Support.supportLines(lines) == ["v1 retired wraps=0 canRetire=false", "v2 primary wraps=3 canRetire=false"])
        let master = try f.keys.loadMasterKey(passphrase: nil)
        try f.keys.verifyPrivateKeys(master: master)
    }

    @Test("`hearth retention run` crypto-shreds only records unconsented for longer than the period, each audited as retention.shred")
    func retentionRunShredsOnlyLongUnconsentedRecords() async throws {
        let f = try await Support.Fixture.make()
        // 0: live consent; 1: never consented, recently; 2: never consented, long ago;
        // 3: withdrawn long ago; 4: consent expired (swept by the run itself, so recently unconsented);
        // 5: withdrawn recently.
        let seeded = try await Support.seed(f.service, count: 6, workers: 1) { i in [0, 3, 4, 5].contains(i) ? ["support"] : [] }
        for i in [3, 5] {
            _ = try await f.service.withdraw(.support, for: try await f.service.authenticate(receipt: seeded[i].receipt))
        }
        let longAgo = Int64(Date().timeIntervalSince1970) - 100 * 86_400
        let ids = seeded.map { Data(RecordID(reference: $0.reference)!.bytes) }
        let bodies = try await f.store.tamper { db in
            for i in [2, 3] {
                try db.execute(sql: "UPDATE records SET no_consent_since = ? WHERE id = ?", arguments: [longAgo, ids[i]])
            }
            try db.execute(
                sql: "UPDATE consent_wraps SET expires = '2001-01-01' WHERE record_rid = (SELECT rid FROM records WHERE id = ?)",
                arguments: [ids[4]]
            )
            return try ids.map { id in Array(try Data.fetchOne(db, sql: "SELECT body FROM records WHERE id = ?", arguments: [id]) ?? Data())
            }
        }
        let unconsented = try await f.store.inspect { db in
            try ids.map { try Int64.fetchOne(db, sql: "SELECT no_consent_since FROM records WHERE id = ?", arguments: [$0]) }
        }
        #expect(unconsented[0] == nil && unconsented[4] == nil && unconsented[1] != nil && unconsented[5] != nil)

        let run = try await f.cli(["retention", "run", "--retention-days", "30"])
        #expect(run.succeeded, "\(run)")
        #expect(
            run.stdout.contains("1 expired consents withdrawn; 2 records with no live consent for 30 days crypto-shredded"),
            "\(run.stdout)"
        )

        let remaining = try await f.store.inspect { db in
            try ids.map { try Bool.fetchOne(db, sql: "SELECT 1 FROM records WHERE id = ?", arguments: [$0]) ?? false }
        }
        #expect(remaining == [true, true, false, false, true, true], "\(remaining)")
        let wraps = try await f.wraps()
        #expect(Set(wraps.map(\.reference)) == [seeded[0].reference], "\(wraps.map(\.reference))")
        let audit = try await f.store.inspect { db in
            try Row.fetchAll(
                db,
                sql: "SELECT actor, action, subject FROM audit WHERE action IN ('retention.shred', 'consent.expire') ORDER BY seq"
            ).map {
                "\($0["actor"] as String) \($0["action"] as String) \($0["subject"] as String)"
            }
        }
        #expect(
            audit == [
                "system consent.expire \(seeded[4].reference)", "system retention.shred \(seeded[2].reference)",
                "system retention.shred \(seeded[3].reference)",
            ],
            "\(audit)"
        )
        // The shredded ciphertext is gone from the database file and its WAL; the kept records' is there.
        let disk = fileBytes(f.database) + fileBytes(f.database + "-wal")
        for i in 0..<6 {
            let window = Array(bodies[i][100..<164])
            #expect(bytes(disk, contain: window) == remaining[i], "record \(i) body on disk")
        }
        // Running it again shreds nothing more.
        let again = try await f.cli(["retention", "run", "--retention-days", "30"])
        #expect(again.succeeded && again.stdout.contains("0 expired consents withdrawn; 0 records"), "\(again)")
    }
}
