import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Envelope: record bodies")
struct EnvelopeBodyTests {
    @Test func sealedBodyOpensWithItsDataKey() throws {
        let record = try SealedRecord()
        let opened = try Envelope.openBody(record.body, with: record.dek, recordID: record.id, commitment: record.commitment)
        #expect(opened.unsafeExportedBytes() == record.plaintext)
    }

    @Test func sealedBodyIsVersionNonceAndOnePaddedBucket() throws {
        let record = try SealedRecord()
        #expect(record.body.first == Envelope.formatVersion)
        #expect(record.body.count == 1 + 24 + 1024 + 16)
        let large = try SealedRecord(plaintext: [UInt8](repeating: 0x41, count: 1024))
        #expect(large.body.count == 1 + 24 + 2048 + 16)
    }

    @Test func flippingAnyByteOfTheBodyFailsToOpen() throws {
        let record = try SealedRecord()
        for index in record.body.indices {
            let tampered = flipping(record.body, at: index)
            let code = cryptoErrorCode {
                _ = try Envelope.openBody(tampered, with: record.dek, recordID: record.id, commitment: record.commitment)
            }
            // Byte 0 is the version and is refused before decryption; any other byte fails authentication.
            #expect(code == (index == 0 ? .malformedInput : .authenticationFailed), "byte \(index)")
        }
    }

    @Test func bodyMovedToAnotherRecordIDFailsToOpen() throws {
        let record = try SealedRecord()
        let other = try RecordID.random()
        let code = cryptoErrorCode {
            _ = try Envelope.openBody(record.body, with: record.dek, recordID: other, commitment: record.commitment)
        }
        #expect(code == .authenticationFailed)
    }

    @Test func bodyMovedIntoAnotherRecordFailsUnderThatRecordsKey() throws {
        let record = try SealedRecord()
        let target = try SealedRecord()
        let code = cryptoErrorCode {
            _ = try Envelope.openBody(record.body, with: target.dek, recordID: target.id, commitment: target.commitment)
        }
        #expect(code == .authenticationFailed)
    }

    @Test func bodyOpenedWithAnotherCommitmentFails() throws {
        let record = try SealedRecord()
        let code = cryptoErrorCode {
            _ = try Envelope.openBody(record.body, with: record.dek, recordID: record.id, commitment: flipping(record.commitment, at: 31))
        }
        #expect(code == .authenticationFailed)
    }

    @Test(arguments: [UInt8(0), 2, 0x7F, 0xFF])
    func bodyWithAnotherVersionByteIsRefusedAsMalformed(version: UInt8) throws {
        let record = try SealedRecord()
        var blob = record.body
        blob[0] = version
        let code = cryptoErrorCode { _ = try Envelope.openBody(blob, with: record.dek, recordID: record.id, commitment: record.commitment) }
        #expect(code == .malformedInput)
    }

    @Test func bodyWhoseLengthIsNotABucketIsRefusedAsMalformed() throws {
        let record = try SealedRecord()
        for blob in [[], [Envelope.formatVersion], Array(record.body.dropLast()), record.body + [0], Array(record.body.prefix(41))] {
            let code = cryptoErrorCode {
                _ = try Envelope.openBody(blob, with: record.dek, recordID: record.id, commitment: record.commitment)
            }
            #expect(code == .malformedInput, "\(blob.count) bytes")
        }
    }

    @Test func commitmentIsThirtyTwoBytesAndBindsTheRecordID() throws {
        let dek = try DataKey.generate()
        let a = try RecordID.random()
        let b = try RecordID.random()
        #expect(try Envelope.commitment(to: dek, recordID: a).count == 32)
        #expect(try Envelope.commitment(to: dek, recordID: a) == Envelope.commitment(to: dek, recordID: a))
        #expect(try Envelope.commitment(to: dek, recordID: a) != Envelope.commitment(to: dek, recordID: b))
    }
}

@Suite("Envelope: consent wraps")
struct EnvelopeConsentWrapTests {
    @Test func consentWrapOpensWithTheScopePrivateKeyAndOpensTheBody() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .police, keyVersion: 3, publicKey: scopeKey.publicKey)
        #expect(wrap.count == Envelope.consentWrapByteCount)
        #expect(wrap.count == 105)
        #expect(wrap.first == 1)
        let dek = try Envelope.openScopeWrap(
            wrap,
            with: scopeKey,
            recordID: record.id,
            scope: .police,
            keyVersion: 3,
            commitment: record.commitment
        )
        let opened = try Envelope.openBody(record.body, with: dek, recordID: record.id, commitment: record.commitment)
        #expect(opened.unsafeExportedBytes() == record.plaintext)
    }

    @Test func flippingAnyByteOfTheConsentWrapFailsToOpen() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        for index in wrap.indices {
            let tampered = flipping(wrap, at: index)
            let code = cryptoErrorCode {
                _ = try Envelope.openScopeWrap(
                    tampered,
                    with: scopeKey,
                    recordID: record.id,
                    scope: .support,
                    keyVersion: 1,
                    commitment: record.commitment
                )
            }
            if index == 0 {
                #expect(code == .malformedInput)
            } else {
                // A flipped ephemeral key could in principle land on a low-order point; it must never open.
                #expect(code == .authenticationFailed || code == .weakPublicKey, "byte \(index)")
            }
        }
    }

    @Test func consentWrapOpenedForAnotherRecordFails() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .review, keyVersion: 1, publicKey: scopeKey.publicKey)
        let other = try RecordID.random()
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: other,
                scope: .review,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .authenticationFailed)
    }

    @Test(arguments: [Scope.review, .police, .prosecution])
    func supportConsentWrapPresentedAsAnotherScopeFails(other: Scope) throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: record.id,
                scope: other,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .authenticationFailed)
    }

    @Test(arguments: [UInt32(0), 1, 3, 0x0100_0002, .max])
    func versionTwoConsentWrapPresentedAsAnotherKeyVersionFails(other: UInt32) throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 2, publicKey: scopeKey.publicKey)
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: record.id,
                scope: .support,
                keyVersion: other,
                commitment: record.commitment
            )
        }
        #expect(code == .authenticationFailed)
    }

    @Test func consentWrapOpenedWithAnotherScopesPrivateKeyFails() throws {
        let record = try SealedRecord()
        let supportKey = try X25519PrivateKey.generate()
        let policeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(
            record.dek,
            recordID: record.id,
            scope: .support,
            keyVersion: 1,
            publicKey: supportKey.publicKey
        )
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: policeKey,
                recordID: record.id,
                scope: .support,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .authenticationFailed)
    }

    @Test func consentWrapOfASubstitutedDataKeyIsRejectedByTheCommitment() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let substitute = try DataKey.generate()
        // Correctly made for this record id, scope and version, but around a different DEK.
        let wrap = try Envelope.wrapForScope(substitute, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: record.id,
                scope: .support,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .commitmentMismatch)
    }

    @Test(arguments: [UInt8(0), 2, 0xFF])
    func consentWrapWithAnotherVersionByteIsRefusedAsMalformed(version: UInt8) throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        var wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        wrap[0] = version
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: record.id,
                scope: .support,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .malformedInput)
    }

    @Test func consentWrapOfTheWrongLengthIsRefusedAsMalformed() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        for blob in [[], Array(wrap.prefix(1)), Array(wrap.dropLast()), wrap + [0]] {
            let code = cryptoErrorCode {
                _ = try Envelope.openScopeWrap(
                    blob,
                    with: scopeKey,
                    recordID: record.id,
                    scope: .support,
                    keyVersion: 1,
                    commitment: record.commitment
                )
            }
            #expect(code == .malformedInput, "\(blob.count) bytes")
        }
    }

    @Test func consentWrapWithALowOrderEphemeralKeyIsRefused() throws {
        let record = try SealedRecord()
        let scopeKey = try X25519PrivateKey.generate()
        var wrap = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: scopeKey.publicKey)
        wrap.replaceSubrange(1..<33, with: [UInt8](repeating: 0, count: 32))
        let code = cryptoErrorCode {
            _ = try Envelope.openScopeWrap(
                wrap,
                with: scopeKey,
                recordID: record.id,
                scope: .support,
                keyVersion: 1,
                commitment: record.commitment
            )
        }
        #expect(code == .weakPublicKey)
    }

    @Test func wrappingToALowOrderScopeKeyIsRefused() throws {
        let record = try SealedRecord()
        let lowOrder = try X25519PublicKey(bytes: [UInt8](repeating: 0, count: 32))
        let code = cryptoErrorCode {
            _ = try Envelope.wrapForScope(record.dek, recordID: record.id, scope: .support, keyVersion: 1, publicKey: lowOrder)
        }
        #expect(code == .weakPublicKey)
    }
}

@Suite("Envelope: survivor wraps")
struct EnvelopeSurvivorWrapTests {
    @Test func survivorWrapOpensWithTheReceiptAndOpensTheBody() throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        let wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: receipt)
        #expect(wrap.count == Envelope.survivorWrapByteCount)
        #expect(wrap.count == 73)
        #expect(wrap.first == 1)
        let reparsed = try #require(Receipt(parsing: receipt.displayed.lowercased()))
        let dek = try Envelope.openSurvivorWrap(wrap, receipt: reparsed, recordID: record.id, commitment: record.commitment)
        #expect(try Envelope.commitment(to: dek, recordID: record.id) == record.commitment)
        let opened = try Envelope.openBody(record.body, with: dek, recordID: record.id, commitment: record.commitment)
        #expect(opened.unsafeExportedBytes() == record.plaintext)
    }

    @Test func flippingAnyByteOfTheSurvivorWrapFailsToOpen() throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        let wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: receipt)
        for index in wrap.indices {
            let tampered = flipping(wrap, at: index)
            let code = cryptoErrorCode {
                _ = try Envelope.openSurvivorWrap(tampered, receipt: receipt, recordID: record.id, commitment: record.commitment)
            }
            #expect(code == (index == 0 ? .malformedInput : .authenticationFailed), "byte \(index)")
        }
    }

    @Test func survivorWrapOpenedForAnotherRecordFails() throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        let wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: receipt)
        let other = try RecordID.random()
        let code = cryptoErrorCode {
            _ = try Envelope.openSurvivorWrap(wrap, receipt: receipt, recordID: other, commitment: record.commitment)
        }
        #expect(code == .authenticationFailed)
    }

    @Test func survivorWrapOpenedWithAnotherReceiptFails() throws {
        let record = try SealedRecord()
        let wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: try Receipt.generate())
        let stranger = try Receipt.generate()
        let code = cryptoErrorCode {
            _ = try Envelope.openSurvivorWrap(wrap, receipt: stranger, recordID: record.id, commitment: record.commitment)
        }
        #expect(code == .authenticationFailed)
    }

    @Test func survivorWrapOfASubstitutedDataKeyIsRejectedByTheCommitment() throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        let substitute = try DataKey.generate()
        let wrap = try Envelope.wrapForSurvivor(substitute, recordID: record.id, receipt: receipt)
        let code = cryptoErrorCode {
            _ = try Envelope.openSurvivorWrap(wrap, receipt: receipt, recordID: record.id, commitment: record.commitment)
        }
        #expect(code == .commitmentMismatch)
    }

    @Test(arguments: [UInt8(0), 2, 0xFF])
    func survivorWrapWithAnotherVersionByteIsRefusedAsMalformed(version: UInt8) throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        var wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: receipt)
        wrap[0] = version
        let code = cryptoErrorCode {
            _ = try Envelope.openSurvivorWrap(wrap, receipt: receipt, recordID: record.id, commitment: record.commitment)
        }
        #expect(code == .malformedInput)
    }

    @Test func survivorWrapOfTheWrongLengthIsRefusedAsMalformed() throws {
        let record = try SealedRecord()
        let receipt = try Receipt.generate()
        let wrap = try Envelope.wrapForSurvivor(record.dek, recordID: record.id, receipt: receipt)
        for blob in [[], Array(wrap.prefix(1)), Array(wrap.dropLast()), wrap + [0]] {
            let code = cryptoErrorCode {
                _ = try Envelope.openSurvivorWrap(blob, receipt: receipt, recordID: record.id, commitment: record.commitment)
            }
            #expect(code == .malformedInput, "\(blob.count) bytes")
        }
    }
}
