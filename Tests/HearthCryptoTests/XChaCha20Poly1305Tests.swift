import HearthCrypto
import HearthTestSupport
import Testing

@Suite("XChaCha20-Poly1305")
struct XChaCha20Poly1305Tests {
    let associatedData = Array("hearth/test/ad".utf8)

    @Test func sealedMessageOpensWithTheSameKeyAndAssociatedData() throws {
        let key = try SecretKey.random()
        let message = Array("a message only the key holder reads".utf8)
        let box = try XChaCha20Poly1305.seal(message, using: key, authenticating: associatedData)
        #expect(box.count == message.count + XChaCha20Poly1305.overhead)
        let opened = try XChaCha20Poly1305.open(box, using: key, authenticating: associatedData)
        #expect(opened.unsafeExportedBytes() == message)
    }

    @Test func emptyMessageRoundTrips() throws {
        let key = try SecretKey.random()
        let box = try XChaCha20Poly1305.seal([UInt8](), using: key, authenticating: associatedData)
        #expect(box.count == XChaCha20Poly1305.overhead)
        let opened = try XChaCha20Poly1305.open(box, using: key, authenticating: associatedData)
        #expect(opened.count == 0)
    }

    @Test func sealingTheSameMessageTwiceUsesFreshNonces() throws {
        let key = try SecretKey.random()
        let a = try XChaCha20Poly1305.seal([1, 2, 3], using: key, authenticating: associatedData)
        let b = try XChaCha20Poly1305.seal([1, 2, 3], using: key, authenticating: associatedData)
        #expect(a.prefix(XChaCha20Poly1305.nonceByteCount) != b.prefix(XChaCha20Poly1305.nonceByteCount))
    }

    @Test func flippingAnySingleByteOfTheBoxFailsAuthentication() throws {
        let key = try SecretKey.random()
        let box = try XChaCha20Poly1305.seal(Array("short".utf8), using: key, authenticating: associatedData)
        for index in box.indices {
            for mask: UInt8 in [0x01, 0x80, 0xFF] {
                let tampered = flipping(box, at: index, mask: mask)
                let code = cryptoErrorCode { _ = try XChaCha20Poly1305.open(tampered, using: key, authenticating: associatedData) }
                #expect(code == .authenticationFailed, "byte \(index) xor \(mask) was accepted")
            }
        }
    }

    @Test func changedAssociatedDataFailsAuthentication() throws {
        let key = try SecretKey.random()
        let box = try XChaCha20Poly1305.seal([9, 9, 9], using: key, authenticating: associatedData)
        for other in [Array("hearth/test/ae".utf8), Array(associatedData.dropLast()), associatedData + [0], []] {
            let code = cryptoErrorCode { _ = try XChaCha20Poly1305.open(box, using: key, authenticating: other) }
            #expect(code == .authenticationFailed)
        }
    }

    @Test func wrongKeyFailsAuthentication() throws {
        let key = try SecretKey.random()
        let other = try SecretKey.random()
        let box = try XChaCha20Poly1305.seal([1, 2, 3], using: key, authenticating: associatedData)
        let code = cryptoErrorCode { _ = try XChaCha20Poly1305.open(box, using: other, authenticating: associatedData) }
        #expect(code == .authenticationFailed)
    }

    @Test(arguments: [0, 1, 23, 24, 39])
    func inputShorterThanNonceAndTagIsMalformedNotACrash(length: Int) throws {
        let key = try SecretKey.random()
        let code = cryptoErrorCode {
            _ = try XChaCha20Poly1305.open([UInt8](repeating: 7, count: length), using: key, authenticating: associatedData)
        }
        #expect(code == .malformedInput)
    }

    @Test func symmetricKeyRefusesAnythingButThirtyTwoBytes() {
        for count in [0, 16, 31, 33, 64] {
            #expect(cryptoErrorCode { _ = try SecretKey(SecretBytes(zeroedCount: count)) } == .malformedInput)
        }
    }
}
