import Foundation
import HearthCore
import HearthCrypto
import HearthKeys
import HearthTestSupport
import Testing

/// The key files `hearth keys init`, `rotate` and `retire` write (SECURITY.md §3.10).
@Suite("Key files")
struct KeyFileTests {
    @Test("casework.v1.pub holds the unkeyed BLAKE2b-256 of the secret in casework.v1.sealed")
    func caseworkPublicFileIsTheUnkeyedHash() throws {
        let dir = try TemporaryDirectory()
        let keys = KeyDirectory(path: dir.file("keys"))
        try keys.initialise(passphrase: nil)
        let master = try keys.loadMasterKey(passphrase: nil)
        let secret = try keys.loadCaseworkSecret(master: master).unsafeExportedBytes()
        #expect(secret.count == 32)
        let header = Array("HRTHPUB1".utf8) + [17, 0, 0, 0, 1]
        #expect(fileBytes(keys.publicFile(.casework, version: 1)) == header + (try Blake2b.hash(secret)))
        #expect(fileBytes(keys.sealedFile(.casework, version: 1)).count == 85)
    }

    @Test("retiring a version renames its .pub to .retired unchanged and destroys its .sealed; versions are never reused")
    func retiredFileIsThePublicFileRenamed() throws {
        let dir = try TemporaryDirectory()
        let keys = KeyDirectory(path: dir.file("keys"))
        try keys.initialise(passphrase: nil)
        let master = try keys.loadMasterKey(passphrase: nil)
        #expect(try keys.rotate(.support, master: master) == 2)
        let pub = fileBytes(keys.publicFile(.scope(.support), version: 1))
        #expect(pub.count == KeyFileFormat.publicFileByteCount)

        try keys.retire(.support, version: 1)
        #expect(fileBytes(keys.retiredFile(.scope(.support), version: 1)) == pub)
        #expect(!FileManager.default.fileExists(atPath: keys.publicFile(.scope(.support), version: 1)))
        #expect(!FileManager.default.fileExists(atPath: keys.sealedFile(.scope(.support), version: 1)))
        #expect(keys.versions(of: .scope(.support)) == [2])
        #expect(keys.retiredVersions(of: .scope(.support)) == [1])
        #expect(try keys.rotate(.support, master: master) == 3)
        try keys.verifyPrivateKeys(master: master)
    }

    @Test("a master.kdf asking for more memory than Int holds is refused, not a crash (fuzzer find, Tests/Fuzz/corpus/KeyFile/crash-f21e4442…)")
    func masterKDFWithAbsurdMemoryCostIsRefused() {
        // HRTHKDF1, ops 255, memory 0xFFFFFE0000002000, zero salt and check: the fuzzer's input.
        let bytes = Array("HRTHKDF1".utf8) + [0, 0, 0, 0, 0, 0, 0, 0xFF] + [0xFF, 0xFF, 0xFE, 0, 0, 0, 0x20, 0] + [UInt8](repeating: 0, count: 48)
        #expect(bytes.count == KeyFileFormat.kdfFileByteCount)
        #expect(throws: CryptoError.self) { _ = try KeyFileFormat.decodeKDF(bytes, passphrase: SecretBytes(copying: Array("p".utf8))) }
    }
}
