import HearthCrypto
import HearthTestSupport
import Testing

@Suite("BLAKE2b")
struct Blake2bTests {
    // Expected values were computed independently of libsodium with Python's hashlib:
    //   hashlib.blake2b(msg, key=key, digest_size=32).hexdigest()
    // (and digest_size=64 / no key where stated), then hard-coded here.

    @Test func keyedHashOfEmptyMessageMatchesPythonHashlib() throws {
        // key = bytes(range(32)), msg = b""
        let digest = try Blake2b.hash([UInt8](), key: SecretBytes(copying: Array(0..<32) as [UInt8]))
        #expect(hex(digest) == "4e51e7a913fc80137da52880fecca175bf81e117d5c68126dc2774033517ea0d")
    }

    @Test func keyedHashOfAbcMatchesPythonHashlib() throws {
        // key = bytes(range(32)), msg = b"abc"
        let digest = try Blake2b.hash(Array("abc".utf8), key: SecretBytes(copying: Array(0..<32) as [UInt8]))
        #expect(hex(digest) == "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f")
    }

    @Test func keyedHashWithShortestKeyMatchesPythonHashlib() throws {
        // key = bytes(range(16)), msg = b"hearth/v1/commitment" + bytes(range(1, 11))
        let message = Array("hearth/v1/commitment".utf8) + (Array(1...10) as [UInt8])
        let digest = try Blake2b.hash(message, key: SecretBytes(copying: Array(0..<16) as [UInt8]))
        #expect(hex(digest) == "ac19b3f1d4dce265ef4deb2c48919d4134dd1f54504f151fda3f1009a343341d")
    }

    @Test func keyedHashWithLongestKeyMatchesPythonHashlib() throws {
        // key = bytes(range(64)), msg = bytes(range(256))
        let digest = try Blake2b.hash(Array(0...255) as [UInt8], key: SecretBytes(copying: Array(0..<64) as [UInt8]))
        #expect(hex(digest) == "1ee3b6312b4e0f0b9663b812b8c129e6d45c410b1c9c5a1667bfc6dd951db79f")
    }

    @Test func sixtyFourByteKeyedOutputMatchesPythonHashlib() throws {
        // key = bytes(range(32)), msg = b"abc", digest_size = 64
        let digest = try Blake2b.hash(Array("abc".utf8), key: SecretBytes(copying: Array(0..<32) as [UInt8]), outputByteCount: 64)
        #expect(
            hex(digest)
                == "9af0244b7da7fe29d90a89727e06a0c93977ce1ad7edcb76ac0b24142194ea00c77be4a1d3fededd31d5a593625a508e742fc90d708f8b48a5c246e4e8e42d94"
        )
    }

    @Test func unkeyedHashMatchesPythonHashlib() throws {
        // msg = b"abc", no key
        #expect(hex(try Blake2b.hash(Array("abc".utf8))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func derivedKeyEqualsTheKeyedHash() throws {
        let key = SecretBytes(copying: Array(0..<32) as [UInt8])
        let derived = try Blake2b.deriveKey(Array("abc".utf8), key: key)
        #expect(derived.secret.unsafeExportedBytes() == hex("d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f"))
    }

    @Test(arguments: [0, 1, 15, 65, 128])
    func keysOutsideSixteenToSixtyFourBytesAreRefused(length: Int) {
        #expect(cryptoErrorCode { _ = try Blake2b.hash([1, 2, 3], key: SecretBytes(zeroedCount: length)) } == .malformedInput)
        #expect(cryptoErrorCode { _ = try Blake2b.deriveKey([1, 2, 3], key: SecretBytes(zeroedCount: length)) } == .malformedInput)
    }

    @Test(arguments: [16, 27, 32, 64])
    func keysOfSixteenToSixtyFourBytesAreAccepted(length: Int) throws {
        #expect(try Blake2b.hash([1, 2, 3], key: SecretBytes(zeroedCount: length)).count == 32)
        _ = try Blake2b.deriveKey([1, 2, 3], key: SecretBytes(zeroedCount: length))
    }

    @Test(arguments: [0, 15, 65])
    func outputLengthsOutsideSixteenToSixtyFourAreRefused(length: Int) {
        #expect(
            cryptoErrorCode { _ = try Blake2b.hash([1], key: SecretBytes(zeroedCount: 32), outputByteCount: length) } == .malformedInput
        )
        #expect(cryptoErrorCode { _ = try Blake2b.hash([1], outputByteCount: length) } == .malformedInput)
    }

    @Test func differentKeysGiveDifferentHashes() throws {
        let a = try Blake2b.hash([1, 2, 3], key: SecretBytes(zeroedCount: 32))
        let b = try Blake2b.hash([1, 2, 3], key: SecretBytes(copying: [UInt8](repeating: 0, count: 31) + [1]))
        #expect(a != b)
    }
}
