import Foundation
import GRDB
import HearthCore
import HearthCrypto
import HearthKeys
@_spi(Inspection) import HearthPostgres
import HearthStore
import HearthTestSupport
import Synchronization
import Testing

/// A key set, an offline backup key whose public half is in the key set, and a store (a SQLite
/// data directory, or a fresh PostgreSQL database reached as each service role).
struct BackupFixture {
    let work: TemporaryDirectory
    let keys: String
    let offline: String
    let data: String
    let postgres: TestPostgres?

    static func make(_ store: TestStore) async throws -> BackupFixture {
        let work = try TemporaryDirectory("hearth-backup")
        let keys = try await makeKeySet(in: work)
        let offline = work.file("offline")
        let made = try await ChildProcess.run(["keys", "init-backup", "--dir", offline], in: work.path)
        try #require(made.succeeded, "\(made)")
        try FileManager.default.copyItem(atPath: "\(offline)/backup.pub", toPath: "\(keys)/backup.pub")
        return BackupFixture(
            work: work, keys: keys, offline: offline, data: work.file("data"), postgres: store == .postgres ? try await TestPostgres.create() : nil)
    }

    func drop() async {
        await postgres?.drop()
    }

    static func url(_ location: PostgresLocation) -> String {
        "postgres://\(location.user)@localhost:\(location.port)/\(location.database)?host=\(location.socketDirectory ?? "")"
    }

    /// Where maintenance commands find the live store.
    var storeArguments: [String] {
        ["--keys", keys, "--data", data] + (postgres.map { ["--database", Self.url($0.casework)] } ?? [])
    }

    /// `hearth serve` over the live store.
    var serveArguments: [String] {
        ["serve", "--intake-port", "0", "--casework-port", "0", "--keys", keys, "--data", data]
            + (postgres.map { ["--database", Self.url($0.casework), "--intake-database", Self.url($0.intake)] } ?? [])
    }

    func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)) async throws -> ChildProcess.Outcome {
        try await ChildProcess.run(arguments, in: work.path, environment: environment, timeout: timeout)
    }

    /// `hearth backup --to FILE` over the live store.
    func backup(to file: String) async throws -> ChildProcess.Outcome {
        try await run(["backup", "--to", file, "--json"] + storeArguments)
    }

    /// A restore target: a new SQLite directory, or a new empty database (made here) as its owner.
    struct Target {
        let restoreArguments: [String]
        let storeArguments: [String]
        let serveArguments: [String]
        let database: String?
    }

    func newTarget(_ name: String, keys: String? = nil) async throws -> Target {
        let keys = keys ?? self.keys
        guard let postgres else {
            let dir = work.file(name)
            return Target(
                restoreArguments: ["--data", dir], storeArguments: ["--keys", keys, "--data", dir],
                serveArguments: ["serve", "--intake-port", "0", "--casework-port", "0", "--keys", keys, "--data", dir], database: nil)
        }
        let database = "\(postgres.name)_\(name)".replacingOccurrences(of: "-", with: "_")
        try await postgres.asAdmin("CREATE DATABASE \(database)")
        let owner = postgres.owner.database(database)
        return Target(
            restoreArguments: ["--database", Self.url(owner)],
            storeArguments: ["--keys", keys, "--data", work.file(name), "--database", Self.url(owner.asUser("hearth_casework"))],
            serveArguments: [
                "serve", "--intake-port", "0", "--casework-port", "0", "--keys", keys, "--data", work.file(name), "--database",
                Self.url(owner.asUser("hearth_casework")), "--intake-database", Self.url(owner.asUser("hearth_intake")),
            ], database: database)
    }

    func dropTarget(_ target: Target) async {
        if let database = target.database { _ = try? await postgres?.asAdmin("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
    }

    /// The plaintext data stream of a backup file, opened with the offline backup key.
    func plaintext(of file: String) throws -> (data: [UInt8], manifest: BackupManifest) {
        let key = try BackupKeys.loadPrivateKey(inDirectory: offline, passphrase: nil)
        var bytes = fileBytes(file)[...]
        let reader = try BackupStreamReader(privateKey: key) { count in
            let part = Array(bytes.prefix(count))
            bytes = bytes.dropFirst(part.count)
            return part
        }
        var data: [UInt8] = []
        let manifest = try BackupFile.read(reader) { data += $0 }
        return (data, manifest)
    }
}

/// One acknowledged submission of the load: its receipt, the canary in its text, and when its
/// request was sent and its 201 arrived.
struct Acknowledged: Sendable {
    let receipt: String
    let canary: String
    let sent: ContinuousClock.Instant
    let acknowledged: ContinuousClock.Instant
}

/// Survivors submitting, changing consent and writing messages, continuously, over TLS.
final class SurvivorLoad: Sendable {
    let client: TestHTTPSClient
    private let state = Mutex<(acknowledged: [Acknowledged], stopped: Bool, failures: [String], consents: Int, messages: Int)>(([], false, [], 0, 0))

    init(client: TestHTTPSClient) { self.client = client }

    var acknowledged: [Acknowledged] { state.withLock { $0.acknowledged } }
    var failures: [String] { state.withLock { $0.failures } }
    var otherChanges: (consents: Int, messages: Int) { state.withLock { ($0.consents, $0.messages) } }
    func stop() { state.withLock { $0.stopped = true } }
    var stopped: Bool { state.withLock { $0.stopped } }

    func randomReceipt() -> String? { state.withLock { $0.acknowledged.randomElement()?.receipt } }

    /// Runs three loops until ``stop()``: submissions, consent changes, messages.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.submissions() }
            group.addTask { await self.consentChanges() }
            group.addTask { await self.messages() }
        }
    }

    func submissions() async {
        var n = 0
        while !stopped {
            n += 1
            let canary = "drill-\(UUID().uuidString.prefix(12))-\(n)"
            let sent = ContinuousClock.now
            do {
                let reply = try await client.send(
                    .POST, "/api/v1/contact-requests", json: sampleRequest(canary: canary, consents: [["scope": "support"]]))
                if reply.status == 201, let receipt = reply.json["receipt"] as? String {
                    let ack = Acknowledged(receipt: receipt, canary: canary, sent: sent, acknowledged: .now)
                    state.withLock { $0.acknowledged.append(ack) }
                } else {
                    state.withLock { $0.failures.append("submit \(reply.status) \(reply.text)") }
                }
            } catch {
                state.withLock { $0.failures.append("submit \(error)") }
            }
        }
    }

    func consentChanges() async {
        var give = true
        while !stopped {
            guard let receipt = randomReceipt() else {
                await pause(.milliseconds(20))
                continue
            }
            do {
                let reply =
                    give
                    ? try await client.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt)
                    : try await client.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt)
                if reply.status >= 500 {
                    state.withLock { $0.failures.append("consent \(reply.status)") }
                } else {
                    state.withLock { $0.consents += 1 }
                }
            } catch {
                state.withLock { $0.failures.append("consent \(error)") }
            }
            give.toggle()
        }
    }

    func messages() async {
        while !stopped {
            guard let receipt = randomReceipt() else {
                await pause(.milliseconds(20))
                continue
            }
            do {
                let reply = try await client.send(
                    .POST, "/api/v1/me/messages", json: ["group": "support", "text": "a message during the drill"], receipt: receipt)
                if reply.status == 201 {
                    state.withLock { $0.messages += 1 }
                } else {
                    state.withLock { $0.failures.append("message \(reply.status)") }
                }
            } catch {
                state.withLock { $0.failures.append("message \(error)") }
            }
        }
    }
}

@Suite("sealed backups and the restore drill", .serialized, .timeLimit(.minutes(6)))
struct BackupTests {
    /// THE DRILL: a running `hearth serve` under continuous survivor load (submissions, consent
    /// changes, messages) while `hearth backup` runs; restore elsewhere; a service on the restored
    /// copy with the same keys opens, over TLS, every receipt acknowledged before the backup
    /// began; nothing sent after the backup finished is there; `hearth audit verify` passes; the
    /// record count is the manifest's; no key file's bytes are in the plaintext stream.
    @Test("restore drill under load", arguments: TestStore.all)
    func restoreDrillUnderLoad(_ store: TestStore) async throws {
        let f = try await BackupFixture.make(store)
        defer { Task { await f.drop() } }
        var file = f.work.file("drill-1.hbk")
        var backupStart = ContinuousClock.now
        var backupEnd = ContinuousClock.now
        var load: SurvivorLoad?
        let backupOutcome: ChildProcess.Outcome = try await withHearth(f.serveArguments, in: f.work.path) { _, listener in
            try await withClient(listener) { client in
                let survivors = SurvivorLoad(client: client)
                load = survivors
                let running = Task { await survivors.run() }
                // Warm up: enough acknowledged records, consent changes and messages before the backup.
                let warm = ContinuousClock.now + .seconds(60)
                while (survivors.acknowledged.count < 25 || survivors.otherChanges.messages < 5) && ContinuousClock.now < warm {
                    await pause(.milliseconds(50))
                }
                var outcome: ChildProcess.Outcome
                var attempt = 0
                repeat {
                    attempt += 1
                    file = f.work.file("drill-\(attempt).hbk")
                    backupStart = .now
                    outcome = try await f.backup(to: file)
                    backupEnd = .now
                    // A backup so quick (or a load so slow, on a busy machine) that no acknowledgement
                    // fell inside it shows nothing about taking it online: take another while the load
                    // goes on, at most five; the last one is the one restored below.
                } while outcome.succeeded && attempt < 5
                    && !survivors.acknowledged.contains(where: { $0.acknowledged > backupStart && $0.acknowledged < backupEnd })
                // Keep going after the backup, so there is something that must not be in it.
                let after = survivors.acknowledged.filter { $0.sent > backupEnd }.count
                let more = ContinuousClock.now + .seconds(30)
                while survivors.acknowledged.filter({ $0.sent > backupEnd }).count < after + 10 && ContinuousClock.now < more {
                    await pause(.milliseconds(50))
                }
                survivors.stop()
                await running.value
                return outcome
            }
        }
        let survivors = try #require(load)
        #expect(survivors.failures.isEmpty, "load failures: \(survivors.failures.prefix(5))")
        try #require(backupOutcome.succeeded, "\(backupOutcome)")
        #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
        let before = survivors.acknowledged.filter { $0.acknowledged < backupStart }
        let after = survivors.acknowledged.filter { $0.sent > backupEnd }
        #expect(before.count >= 25 && after.count >= 10, "before \(before.count), after \(after.count)")
        let during = survivors.acknowledged.filter { $0.acknowledged > backupStart && $0.acknowledged < backupEnd }
        #expect(!during.isEmpty, "submissions were acknowledged while the backup ran")
        let changes = survivors.otherChanges
        #expect(changes.consents > 0 && changes.messages > 0, "consent changes and messages went on: \(changes)")

        // The plaintext stream holds no key file of the service.
        let (plaintext, manifest) = try f.plaintext(of: file)
        for name in try FileManager.default.contentsOfDirectory(atPath: f.keys) {
            let keyFile = fileBytes("\(f.keys)/\(name)")
            #expect(!keyFile.isEmpty && !bytes(plaintext, contain: keyFile), "\(name) is in the backup")
        }
        #expect(manifest.store == (store == .sqlite ? .sqlite : .postgresql))
        #expect(Int(manifest.recordCount) >= before.count && Int(manifest.recordCount) <= survivors.acknowledged.count - after.count)

        let verified = try await f.run(["backup", "verify", file, "--backup-key", f.offline])
        #expect(verified.succeeded && verified.stdout.contains("records: \(manifest.recordCount)"), "\(verified)")

        let target = try await f.newTarget("restored")
        defer { Task { await f.dropTarget(target) } }
        let restored = try await f.run(["restore", "--from", file, "--backup-key", f.offline, "--json"] + target.restoreArguments)
        try #require(restored.succeeded, "\(restored)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(restored.stdout.utf8)) as? [String: Any])
        #expect(report["restoredRecords"] as? Int == Int(manifest.recordCount), "\(report)")
        #expect(report["records"] as? Int == Int(manifest.recordCount))
        if store == .sqlite {
            #expect(report["integrityCheck"] as? String == "ok")
            #expect(mode(f.work.file("restored")) == 0o700 && mode(f.work.file("restored/hearth.sqlite")) == 0o600)
        }

        let audit = try await f.run(["audit", "verify"] + target.storeArguments)
        #expect(audit.succeeded && audit.stdout.hasPrefix("ok:"), "\(audit)")

        // Unknown receipts are expected here: the failure limiter must not turn them into 429.
        try await withHearth(target.serveArguments + ["--receipt-failures", "100000"], in: f.work.path) { _, listener in
            try await withClient(listener) { client in
                for a in before {
                    let reply = try await client.send(.GET, "/api/v1/me", receipt: a.receipt)
                    #expect(reply.status == 200 && reply.text.contains(a.canary), "acknowledged before the backup, must open: \(reply.status)")
                }
                for a in after {
                    let reply = try await client.send(.GET, "/api/v1/me", receipt: a.receipt)
                    #expect(reply.status == 401, "sent after the backup finished, must not be there: \(reply.status)")
                }
            }
        }
    }

    /// A consent withdrawn after the backup, and its key version retired: the restored copy still
    /// holds the wrap (bound: consent was live when the backup was taken), but with the retired
    /// private key gone no casework decrypt of it can succeed, while another scope still opens.
    @Test("a withdrawn wrap in a restored backup cannot be opened once its key version is retired")
    func withdrawnWrapUnopenableAfterRetirement() async throws {
        let f = try await BackupFixture.make(.sqlite)
        let file = f.work.file("before-withdrawal.hbk")
        let canary = "withdrawn-\(UUID().uuidString.prefix(8))"
        var reference = ""
        try await withHearth(f.serveArguments, in: f.work.path) { _, listener in
            try await withClient(listener) { client in
                let reply = try await client.send(
                    .POST, "/api/v1/contact-requests", json: sampleRequest(canary: canary, consents: [["scope": "support"], ["scope": "police"]]))
                try #require(reply.status == 201, "\(reply.text)")
                reference = try #require(reply.json["reference"] as? String)
                let receipt = try #require(reply.json["receipt"] as? String)
                // Another record whose police wrap the re-wrap moves to v2.
                let other = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(consents: [["scope": "police"]]))
                try #require(other.status == 201)

                let backup = try await f.backup(to: file)
                try #require(backup.succeeded, "\(backup)")

                let withdrawn = try await client.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt)
                #expect(withdrawn.status == 200 || withdrawn.status == 204, "\(withdrawn.status) \(withdrawn.text)")
                for step in [
                    ["keys", "rotate", "--scope", "police"], ["keys", "rewrap", "--scope", "police"],
                    ["keys", "retire", "--scope", "police", "--version", "1"],
                ] {
                    let outcome = try await f.run(step + f.storeArguments)
                    try #require(outcome.succeeded, "\(step): \(outcome)")
                }
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "\(f.keys)/police.v1.sealed"))

        let target = try await f.newTarget("restored")
        let restored = try await f.run(["restore", "--from", file, "--backup-key", f.offline] + target.restoreArguments)
        try #require(restored.succeeded, "\(restored)")

        // The withdrawn wrap is there, bound, sealed to police v1.
        let id = try #require(RecordID(reference: reference))
        let restoredStore = try SQLiteStore(path: f.work.file("restored/hearth.sqlite"), logger: .init(label: "test"))
        let record = try #require(try await restoredStore.record(id: id))
        let police = try #require(record.wraps.first { $0.scope == .police }, "the withdrawn wrap is in the restored copy")
        #expect(police.keyVersion == 1)
        let support = try #require(record.wraps.first { $0.scope == .support })

        // Casework decrypts with the keys the service would load: police v1 is gone, support v1 opens.
        let keys = KeyDirectory(path: f.keys)
        let master = try keys.loadMasterKey(passphrase: nil)
        let loaded = try keys.loadScopePrivateKeys(master: master)
        #expect(loaded[.police]?[1] == nil && loaded[.police]?[2] != nil, "police v1 retired, v2 loaded")
        #expect(throws: KeyFileError.self) { _ = try keys.loadScopePrivateKey(.police, version: 1, master: master) }
        let v2 = try #require(loaded[.police]?[2])
        #expect(throws: CryptoError.self, "the v1 wrap does not open with the police key that remains") {
            _ = try Envelope.openScopeWrap(
                police.wrap, with: v2.key, recordID: id, scope: .police, keyVersion: 1, commitment: record.commitment)
        }
        let supportKey = try #require(loaded[.support]?[1])
        let dek = try Envelope.openScopeWrap(
            support.wrap, with: supportKey.key, recordID: id, scope: .support, keyVersion: 1, commitment: record.commitment)
        let body = try Envelope.openBody(record.body, with: dek, recordID: id, commitment: record.commitment)
        #expect(String(decoding: body.unsafeExportedBytes(), as: UTF8.self).contains(canary), "support still opens the record")

        // And through the service on the restored copy, over TLS: the police liaison officer is
        // refused (key-retired, audited), the support caseworker opens it.
        func add(_ username: String, _ role: String) async throws -> IssuedCredentials {
            let outcome = try await f.run(["staff", "add", "--username", username, "--role", role, "--json"] + target.storeArguments)
            try #require(outcome.succeeded, "\(outcome)")
            return try IssuedCredentials.decode(outcome.stdout)
        }
        let supervisor = try await add("sue.restored", "supervisor")
        let liaison = try await add("lee.restored", "police-liaison")
        let caseworker = try await add("cat.restored", "caseworker")
        let serve = try ChildProcess(target.serveArguments, in: f.work.path)
        do {
            let casework = try await TwoProcessTests.waitForCasework(serve)
            let staff = try TestHTTPSClient(baseURL: casework.url, certificatePath: casework.certificate)
            let sue = try await TwoProcessTests.signIn(staff, supervisor)
            let lee = try await TwoProcessTests.signIn(staff, liaison)
            let cat = try await TwoProcessTests.signIn(staff, caseworker)
            let open = ["reason": "restore drill"]
            #expect(try await TwoProcessTests.post(staff, "/api/v1/cases/\(reference)/assign", ["staff": "lee.restored"], sue).status == 200)
            let refused = try await TwoProcessTests.post(staff, "/api/v1/cases/\(reference)/open", open, lee)
            #expect(refused.status == 403 && refused.json["code"] as? String == "key-retired", "\(refused.status) \(refused.text)")
            #expect(!refused.text.contains(canary))
            #expect(try await TwoProcessTests.post(staff, "/api/v1/cases/\(reference)/assign", ["staff": "cat.restored"], sue).status == 200)
            let opened = try await TwoProcessTests.post(staff, "/api/v1/cases/\(reference)/open", open, cat)
            #expect(opened.status == 200 && opened.text.contains(canary), "\(opened.status) \(opened.text)")
            await staff.shutdown()
        } catch {
            await serve.stop()
            throw error
        }
        await serve.stop()
    }

    @Test("restore refuses a location that is not empty", arguments: TestStore.all)
    func restoreRefusesNonEmptyTarget(_ store: TestStore) async throws {
        let f = try await BackupFixture.make(store)
        defer { Task { await f.drop() } }
        let added = try await f.run(["staff", "add", "--username", "sue.backup", "--role", "supervisor"] + f.storeArguments)
        try #require(added.succeeded, "\(added)")
        let file = f.work.file("one.hbk")
        let backup = try await f.backup(to: file)
        try #require(backup.succeeded, "\(backup)")
        let target = try await f.newTarget("occupied")
        defer { Task { await f.dropTarget(target) } }
        let first = try await f.run(["restore", "--from", file, "--backup-key", f.offline] + target.restoreArguments)
        try #require(first.succeeded, "\(first)")
        let again = try await f.run(["restore", "--from", file, "--backup-key", f.offline] + target.restoreArguments)
        #expect(again.exitedNormally && again.status == 1, "\(again)")
        #expect(again.stderr.contains(store == .sqlite ? "is not empty" : "already has the schema hearth"), "\(again)")
        if store == .sqlite {
            // A directory holding anything at all is refused too, and left as it was.
            let other = f.work.file("has-a-file")
            try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
            _ = FileManager.default.createFile(atPath: "\(other)/notes.txt", contents: Data("keep".utf8))
            let refused = try await f.run(["restore", "--from", file, "--backup-key", f.offline, "--data", other])
            #expect(refused.status == 1 && refused.stderr.contains("is not empty"), "\(refused)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: other) == ["notes.txt"])
        }
    }

    @Test("backup refuses to run with a backup private key in the service's key directory, and says why")
    func backupRefusesWithPrivateKeyPresent() async throws {
        let f = try await BackupFixture.make(.sqlite)
        _ = try await f.run(["staff", "add", "--username", "sue.backup", "--role", "supervisor"] + f.storeArguments)
        // Under another name too: it is the contents that make it a backup private key.
        try FileManager.default.copyItem(atPath: "\(f.offline)/backup.key", toPath: "\(f.keys)/spare-copy")
        let outcome = try await f.backup(to: f.work.file("refused.hbk"))
        #expect(outcome.exitedNormally && outcome.status == 1, "\(outcome)")
        #expect(
            outcome.stderr.contains("refusing to back up") && outcome.stderr.contains("spare-copy") && outcome.stderr.contains("backup private key"))
        #expect(!FileManager.default.fileExists(atPath: f.work.file("refused.hbk")))
        #expect(!FileManager.default.fileExists(atPath: f.work.file("refused.hbk.partial")))
    }

    @Test("backup verify fails, naming the truncation, on a file cut short")
    func verifyFailsOnTruncatedFile() async throws {
        let f = try await BackupFixture.make(.sqlite)
        _ = try await f.run(["staff", "add", "--username", "sue.backup", "--role", "supervisor"] + f.storeArguments)
        let file = f.work.file("whole.hbk")
        let backup = try await f.backup(to: file)
        try #require(backup.succeeded, "\(backup)")
        let whole = try await f.run(["backup", "verify", file, "--backup-key", f.offline, "--json"])
        #expect(whole.succeeded && whole.stdout.contains("\"verified\":true"), "\(whole)")
        let bytes = fileBytes(file)
        let cut = f.work.file("cut.hbk")
        _ = FileManager.default.createFile(atPath: cut, contents: Data(bytes.prefix(bytes.count - 200)))
        let outcome = try await f.run(["backup", "verify", cut, "--backup-key", f.offline])
        #expect(outcome.exitedNormally && outcome.status == 1, "\(outcome)")
        #expect(outcome.stderr.contains("failed verification: truncated"), "\(outcome)")
        let restore = try await f.run(["restore", "--from", cut, "--backup-key", f.offline, "--data", f.work.file("never")])
        #expect(restore.status == 1 && !FileManager.default.fileExists(atPath: f.work.file("never")), "nothing is restored from it: \(restore)")
    }

    @Test("a backup key sealed under a passphrase opens only with it")
    func passphraseBackupKey() async throws {
        let f = try await BackupFixture.make(.sqlite)
        let sealedDir = f.work.file("sealed-offline")
        let made = try await f.run(
            ["keys", "init-backup", "--dir", sealedDir, "--passphrase-env", "HEARTH_BK"], environment: ["HEARTH_BK": "a long backup passphrase"])
        try #require(made.succeeded, "\(made)")
        #expect(mode("\(sealedDir)/backup.key") == 0o600 && fileBytes("\(sealedDir)/backup.key").count == BackupKeys.passphraseFileByteCount)
        let again = try await f.run(["keys", "init-backup", "--dir", sealedDir])
        #expect(again.status == 78 && again.stderr.contains("backup.key"), "never overwritten: \(again)")
        try FileManager.default.removeItem(atPath: "\(f.keys)/backup.pub")
        _ = try await f.run(["staff", "add", "--username", "sue.backup", "--role", "supervisor"] + f.storeArguments)
        let file = f.work.file("p.hbk")
        let backup = try await f.run(["backup", "--to", file, "--backup-public-key", "\(sealedDir)/backup.pub"] + f.storeArguments)
        try #require(backup.succeeded, "\(backup)")
        let right = try await f.run(
            ["backup", "verify", file, "--backup-key", sealedDir, "--passphrase-env", "HEARTH_BK"],
            environment: ["HEARTH_BK": "a long backup passphrase"])
        #expect(right.succeeded, "\(right)")
        let wrong = try await f.run(
            ["backup", "verify", file, "--backup-key", sealedDir, "--passphrase-env", "HEARTH_BK"],
            environment: ["HEARTH_BK": "not the passphrase at all"])
        #expect(wrong.status == 78 && wrong.stderr.contains("passphrase is wrong"), "\(wrong)")
        let otherKey = try await f.run(["backup", "verify", file, "--backup-key", f.offline])
        #expect(otherKey.status == 1 && otherKey.stderr.contains("wrong-key"), "\(otherKey)")
    }

    /// A backup that fails or is killed half-way never appears under its final name: only
    /// `FILE.partial` (removed on failure; left by a kill, where verify calls it truncated).
    @Test("a failed or killed backup never leaves FILE under its final name", .enabled(if: TestPostgres.enabled))
    func interruptedBackupNeverLooksComplete() async throws {
        let f = try await BackupFixture.make(.postgres)
        defer { Task { await f.drop() } }
        // A pg_dump that writes 200 KB and then fails, and one that writes 200 KB and hangs.
        let bin = f.work.file("fake-bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: false)
        for (name, tail) in [("failing", "exit 1"), ("hanging", "sleep 60")] {
            let dir = "\(bin)/\(name)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            let script = "#!/bin/sh\nhead -c 204800 /dev/zero\necho 'pg_dump: error: simulated' >&2\n\(tail)\n"
            _ = FileManager.default.createFile(atPath: "\(dir)/pg_dump", contents: Data(script.utf8), attributes: [.posixPermissions: 0o755])
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let failing = f.work.file("failing.hbk")
        let failed = try await f.run(["backup", "--to", failing] + f.storeArguments, environment: ["PATH": "\(bin)/failing:\(path)"])
        #expect(failed.status == 1 && failed.stderr.contains("simulated"), "\(failed)")
        #expect(!FileManager.default.fileExists(atPath: failing) && !FileManager.default.fileExists(atPath: failing + ".partial"))

        let killed = f.work.file("killed.hbk")
        let child = try ChildProcess(["backup", "--to", killed] + f.storeArguments, in: f.work.path, environment: ["PATH": "\(bin)/hanging:\(path)"])
        let deadline = ContinuousClock.now + .seconds(60)
        while fileBytes(killed + ".partial").count < 100_000 && ContinuousClock.now < deadline { await pause(.milliseconds(50)) }
        child.signal(SIGKILL)
        await child.waitForExit(timeout: .seconds(10))
        #expect(!FileManager.default.fileExists(atPath: killed), "a killed backup is never under its final name")
        #expect(fileBytes(killed + ".partial").count >= 100_000)
        let verify = try await f.run(["backup", "verify", killed + ".partial", "--backup-key", f.offline])
        #expect(verify.status == 1 && verify.stderr.contains("truncated"), "\(verify)")
        // The next backup says what to do about the leftover.
        let next = try await f.run(["backup", "--to", killed] + f.storeArguments)
        #expect(next.status == 1 && next.stderr.contains("delete"), "\(next)")
    }
}
