import Foundation
import HearthCore
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

/// `KeyDirectory.publish` and `loadPublishedKeys` on files (SECURITY.md §3.18); the byte format
/// itself is pinned by `Tests/HearthCoreTests/Vectors/key-manifest-*.txt`.
@Suite("Key publication on disk")
struct KeyPublicationTests {
    /// A casework key directory (master.key) and the path of an intake directory beside it.
    func keySet() throws -> (work: TemporaryDirectory, keys: KeyDirectory, target: KeyDirectory) {
        let work = try TemporaryDirectory()
        let keys = KeyDirectory(path: work.file("keys"))
        try keys.initialise(passphrase: nil)
        return (work, keys, KeyDirectory(path: work.file("intake")))
    }

    @Test("a manifest encodes, decodes and verifies to itself; a wrong audit key or one flipped bit is refused")
    func manifestRoundTrip() throws {
        let audit = try Ed25519PrivateKey.generate()
        let entries = try Scope.allCases.map { scope in
            KeyManifest.Entry(scope: scope, version: 1, isPrimary: true, publicKey: try X25519PrivateKey.generate().publicKey.bytes)
        }
        let manifest = try KeyManifest(created: 1_800_000_000, auditVersion: 1, entries: entries)
        let bytes = manifest.encoded(signingWith: audit)
        #expect(bytes.count == 14 + 38 * 4 + 64)
        #expect(try KeyManifest.verify(bytes, auditKey: audit.publicKey) == manifest)
        #expect {
            try KeyManifest.verify(bytes, auditKey: try Ed25519PrivateKey.generate().publicKey)
        } throws: { error in
            (error as? CryptoError)?.code == .authenticationFailed
        }
        for index in [0, 8, 13, 14, 19, 100, bytes.count - 1] {
            #expect(throws: CryptoError.self, "bit flipped at \(index)") {
                try KeyManifest.verify(flipping(bytes, at: index), auditKey: audit.publicKey)
            }
        }
        for bad in [[], Array(bytes.dropLast()), bytes + [0], [UInt8](repeating: 0xFF, count: 300)] {
            #expect(throws: CryptoError.self) { try KeyManifest.decode(bad) }
        }
        #expect(throws: CryptoError.self) { try KeyManifest(created: 1, auditVersion: 1, entries: Array(entries.dropLast())) }
    }

    @Test("publish copies only public halves, refuses private keys and other key sets, and each publication is newer")
    func publishWritesPublicHalvesOnly() throws {
        let (work, keys, target) = try keySet()
        let audit = try keys.loadAuditPrivateKey(version: 1, master: try keys.loadMasterKey(passphrase: nil))
        let first = try keys.publish(to: target, auditKey: audit, auditVersion: 1, now: 1000)
        #expect(first.created == 1000)
        #expect(
            SecureFile.list(target.path) == [
                "audit.v1.pub", "keys.manifest", "police.v1.pub", "prosecution.v1.pub", "review.v1.pub", "support.v1.pub",
            ])
        try target.checkPermissions()
        try target.refusePrivateKeys()
        #expect(try target.loadPublishedKeys().manifest == first)
        let second = try keys.publish(to: target, auditKey: audit, auditVersion: 1, now: 1000)
        #expect(second.created == 1001, "one second after the manifest already there")

        // Publishing into the casework directory itself is refused: it holds private keys.
        #expect(throws: KeyFileError.self) { try keys.publish(to: keys, auditKey: audit, auditVersion: 1, now: 2000) }

        // A directory published from another key set is refused, naming the clashing file.
        let other = KeyDirectory(path: work.file("other-keys"))
        try other.initialise(passphrase: nil)
        let otherAudit = try other.loadAuditPrivateKey(version: 1, master: try other.loadMasterKey(passphrase: nil))
        #expect {
            try other.publish(to: target, auditKey: otherAudit, auditVersion: 1, now: 3000)
        } throws: { error in
            (error as? KeyFileError)?.path == target.file("support.v1.pub")
        }
    }

    @Test("a listed .pub that is missing or altered is refused, naming it; so is a missing manifest")
    func loadRefusesIncompletePublication() throws {
        let (work, keys, target) = try keySet()
        let master = try keys.loadMasterKey(passphrase: nil)
        _ = try keys.publish(to: target, auditKey: try keys.loadAuditPrivateKey(version: 1, master: master), auditVersion: 1, now: 1000)
        let police = target.publicFile(.scope(.police), version: 1)
        let original = fileBytes(police)
        try SecureFile.replaceAtomically(police, contents: fileBytes(target.publicFile(.scope(.review), version: 1)))
        #expect {
            try target.loadPublishedKeys()
        } throws: { error in
            (error as? KeyFileError)?.path == police
        }
        #expect(unlink(police) == 0)
        #expect {
            try target.loadPublishedKeys()
        } throws: { error in
            (error as? KeyFileError)?.path == police && (error as? KeyFileError)?.reason == "it is missing"
        }
        try SecureFile.createExclusive(police, contents: original)
        _ = try target.loadPublishedKeys()
        #expect(unlink(target.manifestFile) == 0)
        #expect {
            try target.loadPublishedKeys()
        } throws: { error in
            (error as? KeyFileError)?.path == target.manifestFile
        }
        _ = work
    }
}
