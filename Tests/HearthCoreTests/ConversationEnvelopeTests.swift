import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

/// Invariant 4 for conversations (SECURITY.md §3.13): a message or conversation wrap moved to
/// another record, group, key version, note id or author fails to open, and one group's key
/// opens no other group's conversation.
@Suite("Conversation keys, wraps and messages")
struct ConversationEnvelopeTests {
    @Test("the survivor's key for a group and the one staff unwrap are the same; other groups' keys differ and do not open it")
    func oneKeyPerGroup() throws {
        let receipt = try Receipt.generate()
        let record = try RecordID.random()
        let police = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapConversation(
            receipt.conversationKey(recordID: record, scope: .police), recordID: record, scope: .police, keyVersion: 1, publicKey: police.publicKey)
        #expect(wrap.count == Envelope.conversationWrapByteCount)
        let noteID = try SystemRandom.bytes(Envelope.noteIDByteCount)
        let toPolice = try Envelope.sealMessage(
            SecretBytes(copying: Array("for the police".utf8)), fromSurvivor: true, with: receipt.conversationKey(recordID: record, scope: .police),
            recordID: record, scope: .police, noteID: noteID)
        #expect(toPolice.count == 1 + 24 + 1024 + 16, "padded to the 1 KiB bucket")
        let staffKey = try Envelope.openConversationWrap(wrap, with: police, recordID: record, scope: .police, keyVersion: 1)
        let opened = try Envelope.openMessage(toPolice, fromSurvivor: true, with: staffKey, recordID: record, scope: .police, noteID: noteID)
        #expect(opened.unsafeExportedBytes() == Array("for the police".utf8))

        // A support message is sealed under support's key: the police key does not open it, even named as police.
        let toSupport = try Envelope.sealMessage(
            SecretBytes(copying: Array("for support only".utf8)), fromSurvivor: true,
            with: receipt.conversationKey(recordID: record, scope: .support), recordID: record, scope: .support, noteID: noteID)
        for scope in [Scope.support, .police] {
            #expect(throws: CryptoError.self) {
                _ = try Envelope.openMessage(toSupport, fromSurvivor: true, with: staffKey, recordID: record, scope: scope, noteID: noteID)
            }
        }
    }

    @Test("a message or wrap presented with another record, group, version, note id or author fails to open")
    func transplantsFail() throws {
        let receipt = try Receipt.generate()
        let record = try RecordID.random()
        let other = try RecordID.random()
        let key = try X25519PrivateKey.generate()
        let wrap = try Envelope.wrapConversation(
            receipt.conversationKey(recordID: record, scope: .review), recordID: record, scope: .review, keyVersion: 2, publicKey: key.publicKey)
        for (r, s, v) in [(other, Scope.review, UInt32(2)), (record, .support, 2), (record, .review, 1)] {
            #expect(throws: CryptoError.self) { _ = try Envelope.openConversationWrap(wrap, with: key, recordID: r, scope: s, keyVersion: v) }
        }
        let noteID = try SystemRandom.bytes(Envelope.noteIDByteCount)
        let blob = try Envelope.sealMessage(
            SecretBytes(copying: Array("from staff".utf8)), fromSurvivor: false, with: receipt.conversationKey(recordID: record, scope: .review),
            recordID: record, scope: .review, noteID: noteID)
        let attempts: [(RecordID, Scope, [UInt8], Bool)] = [
            (other, .review, noteID, false), (record, .support, noteID, false),
            (record, .review, try SystemRandom.bytes(Envelope.noteIDByteCount), false), (record, .review, noteID, true),
        ]
        for (r, s, n, fromSurvivor) in attempts {
            #expect(throws: CryptoError.self) {
                _ = try Envelope.openMessage(
                    blob, fromSurvivor: fromSurvivor, with: receipt.conversationKey(recordID: r, scope: s), recordID: r, scope: s, noteID: n)
            }
        }
        // Another receipt derives another key.
        #expect(throws: CryptoError.self) {
            _ = try Envelope.openMessage(
                blob, fromSurvivor: false, with: Receipt.generate().conversationKey(recordID: record, scope: .review), recordID: record,
                scope: .review, noteID: noteID)
        }
    }
}
