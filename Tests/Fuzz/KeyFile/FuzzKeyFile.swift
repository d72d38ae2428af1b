// libFuzzer target: the key-file formats (SECURITY.md §3.10 and §3.18): `.pub` and `.sealed` key
// files, `master.kdf` and the signed key manifest.
//
// Any bytes, read as each kind of file with the kind and version its own header claims: nothing
// traps; a sealed key file never opens under the real master key generated at start-up, and a
// manifest never verifies under the real audit key.
import HearthCore
import HearthCrypto
import HearthKeys

/// Keys made once per fuzzing process.
final class RealKeys: Sendable {
    let master: SecretKey
    let audit: Ed25519PrivateKey

    init() {
        do {
            master = try SecretKey.random()
            audit = try Ed25519PrivateKey.generate()
        } catch {
            fatalError("could not make the fuzzing keys: \(error)")
        }
    }
}

let keys = RealKeys()

/// The most work a `master.kdf` may ask of Argon2id in one fuzzing run: larger but still valid
/// costs are skipped, because they only make libsodium slow, not the parser interesting.
let kdfMemoryCeiling: UInt64 = 64 * 1024

func fuzzKeyFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let kinds: [KeyKind] = Scope.allCases.map { .scope($0) } + [.audit, .casework]
    // The kind and version the header claims, so that a well-formed header reaches the cipher.
    let claimedKind = bytes.count > 8 ? kinds.first { $0.byte == bytes[8] } ?? .audit : .audit
    let claimedVersion = bytes.count >= 13 ? bytes[9..<13].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } : 1

    if let key = KeyFileFormat.decodePublic(bytes, kind: claimedKind, version: claimedVersion) {
        precondition(key.count == 32, "a public key file gave a key of \(key.count) bytes")
        precondition(
            KeyFileFormat.encodePublic(kind: claimedKind, version: claimedVersion, key: key) == bytes,
            "a public key file decodes but does not re-encode to itself")
    }
    if (try? KeyFileFormat.decodeSealed(bytes, kind: claimedKind, version: claimedVersion, master: keys.master)) != nil {
        fatalError("a sealed key file made of arbitrary bytes opened under the real master key")
    }
    if let (manifest, _) = try? KeyManifest.decode(bytes) {
        _ = try? manifest.ring()
        if (try? KeyManifest.verify(bytes, auditKey: keys.audit.publicKey)) != nil {
            fatalError("a key manifest made of arbitrary bytes verified under the real audit key")
        }
    }
    if bytes.count == KeyFileFormat.kdfFileByteCount {
        let u64 = { (r: Range<Int>) in bytes[r].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        let (ops, memory) = (u64(8..<16), u64(16..<24))
        // Cheap costs run Argon2id for real; costs no machine could pay must be refused, not trap.
        if (ops <= 3 && memory <= kdfMemoryCeiling) || memory > UInt64(Int.max) || ops > UInt64(UInt32.max) {
            let passphrase = SecretBytes(copying: Array("fuzzing passphrase".utf8))
            if (try? KeyFileFormat.decodeKDF(bytes, passphrase: passphrase)) ?? nil != nil {
                fatalError("an arbitrary master.kdf accepted the fuzzing passphrase")
            }
        }
    }
    return 0
}
