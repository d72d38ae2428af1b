import Foundation
import GRDB
import HearthApp
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthKeys
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Logging
import Testing

/// A casework key directory, a published intake directory made from it by `publishKeys` (what
/// `hearth keys publish` runs), and an intake listener on the published one wired by the
/// composition root as `hearth intake` is: manifest required, private keys refused.
final class PublishedIntake: Sendable {
    let work: TemporaryDirectory
    let maintenance: HearthMaintenance
    let settings: HearthSettings
    let assembly: HearthAssembly
    let client: TestHTTPSClient
    let logs: LogCapture
    private let task: Task<Void, any Error>

    var casework: KeyDirectory { maintenance.keys }
    var published: KeyDirectory { assembly.keys }

    private init(
        work: TemporaryDirectory, maintenance: HearthMaintenance, settings: HearthSettings, assembly: HearthAssembly, client: TestHTTPSClient,
        logs: LogCapture, task: Task<Void, any Error>
    ) {
        self.work = work
        self.maintenance = maintenance
        self.settings = settings
        self.assembly = assembly
        self.client = client
        self.logs = logs
        self.task = task
    }

    /// Settings of the casework-side maintenance commands.
    static func caseworkSettings(_ work: TemporaryDirectory) -> HearthSettings {
        var settings = HearthSettings(keys: work.file("casework-keys"), data: work.file("data"))
        settings.clock = TestClock()
        return settings
    }

    /// Settings of an intake on the published directory (`hearth intake`).
    static func intakeSettings(_ work: TemporaryDirectory, reloader: Bool) -> HearthSettings {
        var settings = HearthSettings(keys: work.file("intake-keys"), data: work.file("data"))
        settings.requirePublishedKeys = true
        settings.intakePort = 0
        settings.submissionLimits = .liftedForTests
        settings.backgroundJobs = reloader
        settings.handlesSignals = false
        return settings
    }

    /// Makes casework keys, publishes them, adds the intake's TLS pair and starts the intake.
    static func start(reloader: Bool = false) async throws -> PublishedIntake {
        let work = try TemporaryDirectory("hearth-publish")
        let caseworkSettings = caseworkSettings(work)
        try KeyDirectory(path: caseworkSettings.keys).initialise(passphrase: nil)
        let maintenance = try await HearthMaintenance.open(caseworkSettings)
        _ = try await maintenance.publishKeys(to: work.file("intake-keys"))
        try HearthTLS.createDevelopmentCertificate(keys: KeyDirectory(path: work.file("intake-keys")))
        let settings = intakeSettings(work, reloader: reloader)
        let logs = LogCapture()
        let (assembly, ports, task) = try await HearthAssembly.start(settings, listeners: .intake, logger: logs.logger())
        let client = try TestHTTPSClient(baseURL: "https://127.0.0.1:\(ports[.intake]!)", certificatePath: assembly.keys.tlsCertificateFile)
        return PublishedIntake(
            work: work, maintenance: maintenance, settings: caseworkSettings, assembly: assembly, client: client, logs: logs, task: task)
    }

    func stop() async {
        await client.shutdown()
        await assembly.shutdown()
        _ = await task.result
    }

    /// Runs `body` against a fresh intake and always stops it.
    static func with(reloader: Bool = false, _ body: (PublishedIntake) async throws -> Void) async throws {
        let h = try await start(reloader: reloader)
        do {
            try await body(h)
            await h.stop()
        } catch {
            await h.stop()
            throw error
        }
    }

    /// Submits with support consent over TLS; returns the support wrap's key version.
    func submitSupport() async throws -> Int {
        let reply = try await client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(consents: [["scope": "support"]]))
        guard reply.status == 201, let reference = reply.json["reference"] as? String else {
            throw HarnessError("submission failed: \(reply.status) \(reply.text)")
        }
        let id = Data(RecordID(reference: reference)!.bytes)
        return try await assembly.sqlite.inspect { db in
            try Int.fetchOne(
                db,
                sql: "SELECT key_version FROM consent_wraps WHERE scope = 'support' AND record_rid = (SELECT rid FROM records WHERE id = ?)",
                arguments: [id]) ?? -1
        }
    }

    func rotateSupport() async throws {
        _ = try await maintenance.keyLifecycle().rotate(.support, master: try maintenance.masterKey())
    }

    /// Publishes a minute after the last publication (the casework host's clock moves on).
    @discardableResult
    func publish() async throws -> KeyManifest {
        (settings.clock as? TestClock)?.advance(seconds: 60)
        return try await maintenance.publishKeys(to: published.path)
    }

    /// Replaces the manifest's bytes (mode 0600), as someone with write access to the directory could.
    func replaceManifest(with bytes: [UInt8]) throws {
        try SecureFile.replaceAtomically(published.manifestFile, contents: bytes)
    }

    /// Starts a second intake on the same directory and returns the refusal it throws.
    func refusalAtStart() async throws -> KeyFileError {
        do {
            let other = try await HearthAssembly.assemble(
                Self.intakeSettings(work, reloader: false), listeners: .intake, logger: LogCapture().logger())
            await other.shutdown()
            throw HarnessError("the intake started on a refused directory")
        } catch let e as KeyFileError {
            return e
        }
    }
}

@Suite("Published keys: the intake seals only to what a signed manifest names (SECURITY.md §3.18)", .timeLimit(.minutes(2)))
struct PublishedKeysTests {
    @Test("publish writes only public halves and a signed manifest; an intake on it wraps at v1")
    func publishThenIntakeWrapsAtV1() async throws {
        try await PublishedIntake.with { h in
            let names = SecureFile.list(h.published.path).filter { !$0.hasPrefix("tls.") }
            #expect(
                names == ["audit.v1.pub", "keys.manifest", "police.v1.pub", "prosecution.v1.pub", "review.v1.pub", "support.v1.pub"],
                "\(names)")
            let manifest = try h.published.loadPublishedKeys().manifest
            #expect(manifest.primarySummary == "support.v1,review.v1,police.v1,prosecution.v1")
            #expect(manifest.auditVersion == 1)
            #expect(try await h.submitSupport() == 1)
            let audited = try await h.assembly.sqlite.inspect { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE action = 'keys.publish'") ?? 0
            }
            #expect(audited == 1, "publishing is audited")
        }
    }

    @Test("rotate, then publish: the running intake's reloader seals to v2 within seconds, without a restart")
    func rotateAndPublishReachRunningIntake() async throws {
        try await PublishedIntake.with(reloader: true) { h in
            #expect(try await h.submitSupport() == 1)
            try await h.rotateSupport()
            try await Task.sleep(for: .seconds(3))
            #expect(try await h.submitSupport() == 1, "a rotation alone does not reach a separate intake")
            try await h.publish()
            var version = 0
            for _ in 0..<40 {
                version = try await h.submitSupport()
                if version == 2 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(version == 2)
            #expect(h.logs.text.contains("keys reloaded"), "\(h.logs.text)")

            // The reloader refuses a forged manifest, logs the refusal once without key material,
            // and keeps sealing to v2.
            let inUse = try h.published.loadPublishedKeys().manifest
            let genuine = fileBytes(h.published.manifestFile)
            try h.replaceManifest(with: flipping(genuine, at: genuine.count - 1))
            var refused: [String] = []
            for _ in 0..<40 {
                refused = h.logs.all.filter { $0.contains("key reload refused") }
                if !refused.isEmpty { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(refused.count == 1, "\(h.logs.text)")
            #expect(refused.first?.contains("keys.manifest") == true && refused.first?.contains("signature does not verify") == true)
            let secrets = [hex(genuine), hex(Array(genuine.suffix(64)))] + inUse.entries.map { hex($0.publicKey) }
            #expect(!secrets.contains { h.logs.text.contains($0) }, "no key material or manifest bytes in the log")
            #expect(try await h.submitSupport() == 2)
        }
    }

    @Test("a forged manifest (one signature bit flipped) is refused on reload and at start")
    func forgedManifestIsRefused() async throws {
        try await PublishedIntake.with { h in
            try await h.rotateSupport()
            try await h.publish()
            let genuine = fileBytes(h.published.manifestFile)
            try h.replaceManifest(with: flipping(genuine, at: genuine.count - 1))
            #expect {
                try h.assembly.reloadKeys()
            } throws: { error in
                let e = error as? KeyFileError
                return e?.path == h.published.manifestFile && e?.reason.contains("signature does not verify") == true
            }
            #expect(try await h.submitSupport() == 1, "the keys in use stay in use")
            let refusal = try await h.refusalAtStart()
            #expect(refusal.path == h.published.manifestFile && refusal.reason.contains("signature does not verify"), "\(refusal)")
            #expect(refusal.hint.contains("hearth keys publish --to"), "\(refusal)")

            // A forged body (the primary changed after signing) is refused the same way.
            var body = genuine
            body[14 + 5] ^= 1  // support v1's state byte
            try h.replaceManifest(with: body)
            #expect(throws: KeyFileError.self) { try h.assembly.reloadKeys() }
            try h.replaceManifest(with: genuine)
            try h.assembly.reloadKeys()
            #expect(try await h.submitSupport() == 2)
        }
    }

    @Test("a stale manifest is refused on reload (older than the one in use) and at start (older than the keys beside it)")
    func staleManifestIsRefused() async throws {
        try await PublishedIntake.with { h in
            let first = fileBytes(h.published.manifestFile)
            let again = try await h.publish()
            #expect(again.created > (try KeyManifest.decode(first).manifest.created), "each publication is newer than the last")
            try h.assembly.reloadKeys()
            try h.replaceManifest(with: first)
            #expect {
                try h.assembly.reloadKeys()
            } throws: { error in
                (error as? KeyFileError)?.reason.contains("stale") == true
            }

            try await h.rotateSupport()
            try await h.publish()
            try h.assembly.reloadKeys()
            #expect(try await h.submitSupport() == 2)
            try h.replaceManifest(with: first)
            #expect(throws: KeyFileError.self) { try h.assembly.reloadKeys() }
            #expect(try await h.submitSupport() == 2, "the keys in use stay in use")
            let refusal = try await h.refusalAtStart()
            #expect(refusal.path == h.published.manifestFile, "\(refusal)")
            #expect(refusal.reason.contains("stale") && refusal.reason.contains("support.v2.pub"), "\(refusal)")
        }
    }

    @Test("rotate, rewrap, retire and publish: nothing is sealed to the retired version, and its .pub leaves the intake")
    func nothingSealedToRetiredVersion() async throws {
        try await PublishedIntake.with { h in
            for _ in 0..<3 { #expect(try await h.submitSupport() == 1) }
            try await h.rotateSupport()
            try await h.publish()
            try h.assembly.reloadKeys()
            #expect(try await h.submitSupport() == 2)
            let master = try h.maintenance.masterKey()
            let result = try await h.maintenance.rewrapJob(logger: LogCapture().logger()).run(scope: .support, master: master)
            #expect(result.done == 3)
            try await h.maintenance.keyLifecycle().retire(.support, version: 1)
            try await h.publish()
            try h.assembly.reloadKeys()
            #expect(!FileManager.default.fileExists(atPath: h.published.publicFile(.scope(.support), version: 1)))
            #expect(!SecureFile.list(h.published.path).contains { $0.hasSuffix(".retired") || $0.hasSuffix(".sealed") })
            #expect(try h.published.loadPublishedKeys().manifest.entries.filter { $0.scope == .support }.map(\.version) == [2])
            for _ in 0..<2 { #expect(try await h.submitSupport() == 2) }
            let atRetired = try await h.assembly.sqlite.inspect { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM consent_wraps WHERE scope = 'support' AND key_version = 1") ?? -1
            }
            #expect(atRetired == 0)
        }
    }

    @Test("an intake directory holding a private key is refused at start and on reload, naming the file")
    func privateKeyInIntakeDirectoryIsRefused() async throws {
        try await PublishedIntake.with { h in
            let stray = h.published.file("support.v1.sealed")
            try SecureFile.createExclusive(stray, contents: fileBytes(h.casework.sealedFile(.scope(.support), version: 1)))
            #expect {
                try h.assembly.reloadKeys()
            } throws: { error in
                (error as? KeyFileError)?.path == stray
            }
            let refusal = try await h.refusalAtStart()
            #expect(refusal.path == stray && refusal.reason.contains("the intake must hold public keys only"), "\(refusal)")
        }
    }
}
