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

    @Test("an intake-only key directory (*.pub, tls.crt, tls.key) starts `hearth intake` and answers /healthz over verified TLS")
    func intakeStartsWithPublicKeysAndTLSOnly() async throws {
        let work = try TemporaryDirectory()
        let full = try await makeKeySet(in: work, name: "full")
        let intakeKeys = work.file("intake-keys")
        #expect(mkdir(intakeKeys, 0o700) == 0)
        #expect(chmod(intakeKeys, 0o700) == 0)
        let wanted = try FileManager.default.contentsOfDirectory(atPath: full).filter {
            ($0.hasSuffix(".pub") && !$0.hasPrefix("audit.") && !$0.hasPrefix("casework.")) || $0 == "tls.crt" || $0 == "tls.key"
        }
        for name in wanted {
            let target = "\(intakeKeys)/\(name)"
            #expect(
                FileManager.default.createFile(atPath: target, contents: Data(fileBytes("\(full)/\(name)")), attributes: [.posixPermissions: 0o600]))
            #expect(chmod(target, 0o600) == 0)
        }
        let present = try FileManager.default.contentsOfDirectory(atPath: intakeKeys)
        #expect(present.count == 6, "four scope public keys and the TLS pair: \(present)")
        #expect(!present.contains { $0.hasSuffix(".sealed") || $0.hasPrefix("master.") }, "\(present)")

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
}
