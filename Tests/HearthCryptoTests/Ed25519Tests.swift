import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Ed25519")
struct Ed25519Tests {
    @Test func signatureVerifiesUnderTheSigningKeysPublicKey() throws {
        let key = try Ed25519PrivateKey.generate()
        let message = Array("checkpoint 42".utf8)
        #expect(key.publicKey.isValidSignature(key.signature(for: message), for: message))
    }

    @Test func tamperedMessageDoesNotVerify() throws {
        let key = try Ed25519PrivateKey.generate()
        let message = Array("checkpoint 42".utf8)
        let signature = key.signature(for: message)
        for index in message.indices {
            #expect(!key.publicKey.isValidSignature(signature, for: flipping(message, at: index)))
        }
        #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
    }

    @Test func tamperedSignatureDoesNotVerify() throws {
        let key = try Ed25519PrivateKey.generate()
        let message = Array("checkpoint 42".utf8)
        let signature = key.signature(for: message)
        for index in signature.indices {
            #expect(!key.publicKey.isValidSignature(flipping(signature, at: index), for: message), "byte \(index)")
        }
    }

    @Test func signatureOfTheWrongLengthDoesNotVerify() throws {
        let key = try Ed25519PrivateKey.generate()
        let signature = key.signature(for: [1])
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: [1]))
        #expect(!key.publicKey.isValidSignature(signature + [0], for: [1]))
        #expect(!key.publicKey.isValidSignature([], for: [1]))
    }

    @Test func anotherKeysSignatureDoesNotVerify() throws {
        let key = try Ed25519PrivateKey.generate()
        let other = try Ed25519PrivateKey.generate()
        #expect(!other.publicKey.isValidSignature(key.signature(for: [1, 2]), for: [1, 2]))
    }

    @Test func rfc8032TestOneMatchesPublicKeyAndSignature() throws {
        // RFC 8032 section 7.1, TEST 1 (also in libsodium's test suite): empty message.
        let key = try Ed25519PrivateKey(seed: SecretBytes(copying: hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
        let expectedSignature = hex(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065"
                + "224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        #expect(key.publicKey.bytes == hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        #expect(key.signature(for: [UInt8]()) == expectedSignature)
        #expect(key.publicKey.isValidSignature(expectedSignature, for: [UInt8]()))
    }

    @Test func keysOfTheWrongLengthAreRefused() {
        #expect(cryptoErrorCode { _ = try Ed25519PublicKey(bytes: [UInt8](repeating: 1, count: 33)) } == .malformedInput)
        #expect(cryptoErrorCode { _ = try Ed25519PrivateKey(seed: SecretBytes(zeroedCount: 31)) } == .malformedInput)
    }
}
