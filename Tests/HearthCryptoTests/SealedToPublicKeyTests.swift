import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Sealing to an X25519 public key")
struct SealedToPublicKeyTests {
    let label = Array("hearth/test/wrap-key".utf8)
    let associatedData = Array("hearth/test/wrap".utf8)

    @Test func recipientOpensWhatWasSealedToItsPublicKey() throws {
        let recipient = try X25519PrivateKey.generate()
        let sealed = try SealedToPublicKey.seal(
            secret("data key"),
            to: recipient.publicKey,
            kdfLabel: label,
            authenticating: associatedData
        )
        #expect(sealed.count == "data key".utf8.count + SealedToPublicKey.overhead)
        let opened = try SealedToPublicKey.open(sealed, with: recipient, kdfLabel: label, authenticating: associatedData)
        let same = opened.constantTimeEquals(secret("data key"))
        #expect(same)
    }

    @Test func anotherRecipientCannotOpen() throws {
        let recipient = try X25519PrivateKey.generate()
        let stranger = try X25519PrivateKey.generate()
        let sealed = try SealedToPublicKey.seal(
            secret("data key"),
            to: recipient.publicKey,
            kdfLabel: label,
            authenticating: associatedData
        )
        let code = cryptoErrorCode {
            _ = try SealedToPublicKey.open(sealed, with: stranger, kdfLabel: label, authenticating: associatedData)
        }
        #expect(code == .authenticationFailed)
    }

    @Test func flippingAnySingleByteFailsToOpen() throws {
        let recipient = try X25519PrivateKey.generate()
        let sealed = try SealedToPublicKey.seal(secret("k"), to: recipient.publicKey, kdfLabel: label, authenticating: associatedData)
        for index in sealed.indices {
            let tampered = flipping(sealed, at: index)
            let code = cryptoErrorCode {
                _ = try SealedToPublicKey.open(tampered, with: recipient, kdfLabel: label, authenticating: associatedData)
            }
            // A flipped ephemeral key may also land on a low-order point; either way it must not open.
            #expect(code == .authenticationFailed || code == .weakPublicKey, "byte \(index) was accepted")
        }
    }

    @Test func anotherKdfLabelOrAssociatedDataFailsToOpen() throws {
        let recipient = try X25519PrivateKey.generate()
        let sealed = try SealedToPublicKey.seal(secret("k"), to: recipient.publicKey, kdfLabel: label, authenticating: associatedData)
        let otherLabel = cryptoErrorCode {
            _ = try SealedToPublicKey.open(
                sealed,
                with: recipient,
                kdfLabel: Array("hearth/test/other".utf8),
                authenticating: associatedData
            )
        }
        let otherData = cryptoErrorCode {
            _ = try SealedToPublicKey.open(sealed, with: recipient, kdfLabel: label, authenticating: associatedData + [1])
        }
        #expect(otherLabel == .authenticationFailed)
        #expect(otherData == .authenticationFailed)
    }

    @Test func sealingToTheAllZeroLowOrderPointIsRefused() throws {
        let lowOrder = try X25519PublicKey(bytes: [UInt8](repeating: 0, count: 32))
        let code = cryptoErrorCode {
            _ = try SealedToPublicKey.seal(secret("k"), to: lowOrder, kdfLabel: label, authenticating: associatedData)
        }
        #expect(code == .weakPublicKey)
    }

    @Test func aBlobCarryingTheAllZeroEphemeralKeyIsRefused() throws {
        let recipient = try X25519PrivateKey.generate()
        let blob = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 0x5A, count: XChaCha20Poly1305.overhead + 32)
        let code = cryptoErrorCode {
            _ = try SealedToPublicKey.open(blob, with: recipient, kdfLabel: label, authenticating: associatedData)
        }
        #expect(code == .weakPublicKey)
    }

    @Test func blobShorterThanTheOverheadIsMalformed() throws {
        let recipient = try X25519PrivateKey.generate()
        for length in [0, 31, 32, SealedToPublicKey.overhead - 1] {
            let code = cryptoErrorCode {
                _ = try SealedToPublicKey.open(
                    [UInt8](repeating: 1, count: length),
                    with: recipient,
                    kdfLabel: label,
                    authenticating: associatedData
                )
            }
            #expect(code == .malformedInput)
        }
    }

    @Test func rfc7748PublicKeyIsDerivedFromThePrivateKey() throws {
        // RFC 7748 section 6.1, Alice's key pair.
        let alice = try X25519PrivateKey(
            secret: SecretBytes(copying: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        )
        #expect(alice.publicKey.bytes == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
    }

    @Test func rfc7748SharedSecretMatches() throws {
        // RFC 7748 section 6.1: Alice's private key with Bob's public key.
        let alice = try X25519PrivateKey(
            secret: SecretBytes(copying: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        )
        let bob = try X25519PublicKey(bytes: hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let shared = try alice.sharedSecret(with: bob)
        #expect(shared.unsafeExportedBytes() == hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    }

    @Test func keysOfTheWrongLengthAreRefused() {
        #expect(cryptoErrorCode { _ = try X25519PublicKey(bytes: [UInt8](repeating: 9, count: 31)) } == .malformedInput)
        #expect(cryptoErrorCode { _ = try X25519PrivateKey(secret: SecretBytes(zeroedCount: 33)) } == .malformedInput)
    }
}
