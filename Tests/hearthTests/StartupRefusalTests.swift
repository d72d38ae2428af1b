import Foundation
import HearthTestSupport
import Testing

/// Invariant 8: the service refuses to start with key files readable by others, missing keys,
/// or TLS off — naming the file — and never starts listening.
@Suite("hearth start-up refusals (Invariant 8)", .timeLimit(.minutes(1)))
struct StartupRefusalTests {
    /// Runs `hearth serve` (no --dev) on `keys` and expects a refusal that names `file` and says `reason`.
    func expectRefusal(
        keys: String, in work: TemporaryDirectory, naming file: String, reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await ChildProcess.run(
            ["serve", "--keys", keys, "--data", work.file("data"), "--intake-port", "0", "--casework-port", "0"], in: work.path,
            timeout: .seconds(30))
        #expect(outcome.exitedNormally, "it refuses rather than crashing: \(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.status != 0, "\(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains("refusing to start"), "\(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains("'\(file)'"), "stderr names \(file): \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(outcome.stderr.contains(reason), "stderr says '\(reason)': \(outcome.stderr)", sourceLocation: sourceLocation)
        #expect(!outcome.stdout.contains("intake:"), "it never listens: \(outcome.stdout)", sourceLocation: sourceLocation)
    }

    /// Replaces a file's contents in place (its mode stays 0600).
    func overwrite(_ path: String, with contents: [UInt8]) throws {
        try Data(contents).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o600) == 0)
        #expect(mode(path) == 0o600)
    }

    @Test("a missing scope public key (police.v1.pub) stops start-up")
    func refusesMissingScopePublicKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        try FileManager.default.removeItem(atPath: "\(keys)/police.v1.pub")
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/police.v1.pub", reason: "missing")
    }

    @Test("a group-readable master.key (0640) stops start-up")
    func refusesGroupReadableMasterKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        #expect(chmod("\(keys)/master.key", 0o640) == 0)
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/master.key", reason: "readable or writable by group or others")
    }

    @Test("a world-readable support.v1.pub (0604) stops start-up")
    func refusesWorldReadablePublicKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        #expect(chmod("\(keys)/support.v1.pub", 0o604) == 0)
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/support.v1.pub", reason: "readable or writable by group or others")
    }

    @Test("a truncated public key file (10 bytes) stops start-up")
    func refusesTruncatedPublicKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        let police = "\(keys)/police.v1.pub"
        try overwrite(police, with: Array(fileBytes(police).prefix(10)))
        #expect(fileBytes(police).count == 10)
        try await expectRefusal(keys: keys, in: work, naming: police, reason: "not a valid police v1 public key file")
    }

    @Test("a public key file whose header names another scope stops start-up")
    func refusesPublicKeyOfAnotherScope() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        let police = "\(keys)/police.v1.pub"
        try overwrite(police, with: fileBytes("\(keys)/support.v1.pub"))
        #expect(fileBytes(police) == fileBytes("\(keys)/support.v1.pub"))
        try await expectRefusal(keys: keys, in: work, naming: police, reason: "not a valid police v1 public key file")
    }

    @Test("a missing TLS key stops start-up: there is no plain-HTTP fallback")
    func refusesMissingTLSKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        try FileManager.default.removeItem(atPath: "\(keys)/tls.key")
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/tls.key", reason: "missing")
    }

    @Test("a group-writable key directory (0770) stops start-up")
    func refusesGroupWritableKeyDirectory() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        #expect(chmod(keys, 0o770) == 0)
        try await expectRefusal(keys: keys, in: work, naming: keys, reason: "open to group or others")
    }

    @Test("a group-readable key directory (0750) stops start-up")
    func refusesGroupReadableKeyDirectory() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        #expect(chmod(keys, 0o750) == 0)
        try await expectRefusal(keys: keys, in: work, naming: keys, reason: "open to group or others")
    }

    @Test("a corrupt sealed private key stops `hearth serve`, which will hold the casework keys")
    func refusesCorruptSealedKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        let sealed = "\(keys)/review.v1.sealed"
        var bytes = fileBytes(sealed)
        bytes[bytes.count - 1] ^= 0x01
        try overwrite(sealed, with: bytes)
        try await expectRefusal(keys: keys, in: work, naming: sealed, reason: "cannot be opened with this master key")
    }

    @Test("a sealed key from another key set (same name, other master key) stops `hearth serve`")
    func refusesForeignSealedKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        let other = try await makeKeySet(in: work, name: "other")
        try overwrite("\(keys)/police.v1.sealed", with: fileBytes("\(other)/police.v1.sealed"))
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/police.v1.sealed", reason: "cannot be opened with this master key")
    }

    @Test("a missing master key stops `hearth serve`")
    func refusesMissingMasterKey() async throws {
        let work = try TemporaryDirectory()
        let keys = try await makeKeySet(in: work)
        try FileManager.default.removeItem(atPath: "\(keys)/master.key")
        try await expectRefusal(keys: keys, in: work, naming: "\(keys)/master.key", reason: "missing")
    }

    /// Publishes `full` into a new intake directory with `hearth keys publish` and adds the TLS pair.
    func publishIntakeKeys(from full: String, in work: TemporaryDirectory) async throws -> String {
        let intakeKeys = work.file("intake-keys")
        let publish = try await ChildProcess.run(
            ["keys", "publish", "--keys", full, "--data", work.file("data"), "--to", intakeKeys], in: work.path, timeout: .seconds(30))
        #expect(publish.succeeded, "\(publish)")
        #expect(publish.stdout.contains("support v1 (primary)"), "\(publish.stdout)")
        #expect(publish.stdout.contains("keys.manifest"), "\(publish.stdout)")
        for name in ["tls.crt", "tls.key"] {
            let target = "\(intakeKeys)/\(name)"
            #expect(
                FileManager.default.createFile(atPath: target, contents: Data(fileBytes("\(full)/\(name)")), attributes: [.posixPermissions: 0o600]))
            #expect(chmod(target, 0o600) == 0)
        }
        return intakeKeys
    }

    @Test(
        "`hearth keys publish` makes an intake directory (*.pub, keys.manifest, then tls.*) on which `hearth intake` answers /healthz over verified TLS"
    )
    func intakeStartsWithPublicKeysAndTLSOnly() async throws {
        let work = try TemporaryDirectory()
        let full = try await makeKeySet(in: work, name: "full")
        let intakeKeys = try await publishIntakeKeys(from: full, in: work)
        let present = try FileManager.default.contentsOfDirectory(atPath: intakeKeys).sorted()
        #expect(
            present == [
                "audit.v1.pub", "keys.manifest", "police.v1.pub", "prosecution.v1.pub", "review.v1.pub", "support.v1.pub", "tls.crt", "tls.key",
            ], "the four scope public keys, the audit public key, the manifest and the TLS pair")
        #expect(mode(intakeKeys) == 0o700)
        #expect(mode("\(intakeKeys)/keys.manifest") == 0o600)

        try await withHearth(
            ["intake", "--keys", intakeKeys, "--data", work.file("data"), "--intake-port", "0"], in: work.path
        ) { _, listener in
            #expect(realPath(listener.certificatePath) == realPath("\(intakeKeys)/tls.crt"))
            try await withClient(listener) { client in
                let reply = try await client.send(.GET, "/healthz")
                #expect(reply.status == 200)
            }
        }
    }

    @Test(
        "`hearth intake` refuses a key directory holding a private key, naming it (exit 78)",
        arguments: ["support.v1.sealed", "master.key", "rotate-master.commit"])
    func intakeRefusesPrivateKeys(_ name: String) async throws {
        let work = try TemporaryDirectory()
        let full = try await makeKeySet(in: work, name: "full")
        let intakeKeys = try await publishIntakeKeys(from: full, in: work)
        let source = FileManager.default.fileExists(atPath: "\(full)/\(name)") ? fileBytes("\(full)/\(name)") : Array("move master.key\n".utf8)
        #expect(FileManager.default.createFile(atPath: "\(intakeKeys)/\(name)", contents: Data(source), attributes: [.posixPermissions: 0o600]))
        let outcome = try await ChildProcess.run(
            ["intake", "--keys", intakeKeys, "--data", work.file("data"), "--intake-port", "0"], in: work.path, timeout: .seconds(30))
        #expect(outcome.exitedNormally && outcome.status == 78, "\(outcome)")
        #expect(outcome.stderr.contains("refusing to start"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("'\(intakeKeys)/\(name)'"), "names the file: \(outcome.stderr)")
        #expect(outcome.stderr.contains("the intake must hold public keys only"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("hearth keys publish --to DIR"), "\(outcome.stderr)")
        #expect(!outcome.stdout.contains("intake:"), "it never listens: \(outcome.stdout)")
        #expect(FileManager.default.fileExists(atPath: "\(intakeKeys)/\(name)"), "nothing is deleted or recovered in an intake directory")
    }

    @Test("`hearth intake` refuses a key directory without keys.manifest, and `hearth keys publish` refuses the casework directory itself")
    func intakeRefusesUnpublishedDirectory() async throws {
        let work = try TemporaryDirectory()
        let full = try await makeKeySet(in: work, name: "full")
        let intakeKeys = try await publishIntakeKeys(from: full, in: work)
        try FileManager.default.removeItem(atPath: "\(intakeKeys)/keys.manifest")
        let outcome = try await ChildProcess.run(
            ["intake", "--keys", intakeKeys, "--data", work.file("data"), "--intake-port", "0"], in: work.path, timeout: .seconds(30))
        #expect(outcome.exitedNormally && outcome.status == 78, "\(outcome)")
        #expect(outcome.stderr.contains("'\(intakeKeys)/keys.manifest': it is missing"), "\(outcome.stderr)")

        let intoItself = try await ChildProcess.run(
            ["keys", "publish", "--keys", full, "--data", work.file("data"), "--to", full], in: work.path, timeout: .seconds(30))
        #expect(intoItself.exitedNormally && intoItself.status == 78, "\(intoItself)")
        #expect(intoItself.stderr.contains("nothing published"), "\(intoItself.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(full)/keys.manifest"))
    }
}
