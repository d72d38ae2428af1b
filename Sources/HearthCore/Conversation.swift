import HearthCrypto

extension Label {
    static let conversationKey = Array("hearth/v1/conversation-key".utf8)
    static let conversationWrap = Array("hearth/v1/conversation-wrap".utf8)
    static let conversationWrapKey = Array("hearth/v1/conversation-wrap-key".utf8)
    static let conversationMessage = Array("hearth/v1/conversation-message".utf8)
}

/// The key of one conversation: the messages between a survivor and one group (SECURITY.md
/// §3.13). Derived from the receipt for the survivor; staff of that group reach it only through
/// the conversation wrap beside their group's consent wrap (§3.7), so a group never holds the key
/// of another group's conversation.
public struct ConversationKey: ~Copyable, Sendable {
    let key: SecretKey

    init(key: consuming SecretKey) { self.key = key }
}

extension Receipt {
    /// `BLAKE2b-256(key: receipt secret, "hearth/v1/conversation-key" || record id || scope id)`:
    /// the survivor's own way to the conversation with `scope`, stored nowhere.
    public func conversationKey(recordID: RecordID, scope: Scope) throws -> ConversationKey {
        ConversationKey(key: try Blake2b.deriveKey(Label.conversationKey + recordID.bytes + [scope.id], key: secret()))
    }

    /// The conversation keys of every scope, 32 bytes each in `Scope.allCases` order: what a page
    /// session keeps so it can read and write every conversation without keeping the receipt.
    func conversationKeys(recordID: RecordID) throws -> SecretBytes {
        let all = SecretBytes(zeroedCount: Scope.allCases.count * SecretKey.byteCount)
        for (index, scope) in Scope.allCases.enumerated() {
            let key = try conversationKey(recordID: recordID, scope: scope)
            key.key.secret.withUnsafeBytes { one in
                all.withUnsafeMutableBytes { out in
                    UnsafeMutableRawBufferPointer(rebasing: out[(index * SecretKey.byteCount)...]).copyMemory(from: one)
                }
            }
        }
        return all
    }
}

extension Envelope {
    /// Length of a conversation wrap (the same construction as a consent wrap).
    public static let conversationWrapByteCount = consentWrapByteCount

    static func conversationWrapAssociatedData(recordID: RecordID, scope: Scope, keyVersion: UInt32) -> [UInt8] {
        Label.conversationWrap + [formatVersion] + recordID.bytes + [scope.id] + keyVersion.bigEndianBytes
    }

    /// Seals a conversation key to the scope's public key of a given version (105 bytes).
    public static func wrapConversation(
        _ key: borrowing ConversationKey, recordID: RecordID, scope: Scope, keyVersion: UInt32, publicKey: X25519PublicKey
    ) throws -> [UInt8] {
        let sealed = try SealedToPublicKey.seal(
            key.key.secret, to: publicKey, kdfLabel: Label.conversationWrapKey,
            authenticating: conversationWrapAssociatedData(recordID: recordID, scope: scope, keyVersion: keyVersion))
        return [formatVersion] + sealed
    }

    /// Opens a conversation wrap with the scope's private key.
    public static func openConversationWrap(
        _ wrap: [UInt8], with privateKey: borrowing X25519PrivateKey, recordID: RecordID, scope: Scope, keyVersion: UInt32
    ) throws -> ConversationKey {
        guard wrap.count == conversationWrapByteCount, wrap.first == formatVersion else {
            throw CryptoError(
                .malformedInput, "failed to open conversation wrap: not a version-1 wrap of \(conversationWrapByteCount) bytes")
        }
        let secret = try SealedToPublicKey.open(
            Array(wrap[1...]), with: privateKey, kdfLabel: Label.conversationWrapKey,
            authenticating: conversationWrapAssociatedData(recordID: recordID, scope: scope, keyVersion: keyVersion))
        return ConversationKey(key: try SecretKey(secret))
    }

    static func messageAssociatedData(recordID: RecordID, scope: Scope, noteID: [UInt8], fromSurvivor: Bool) -> [UInt8] {
        Label.conversationMessage + [formatVersion] + recordID.bytes + [scope.id] + noteID + [fromSurvivor ? 1 : 2]
    }

    /// Pads and seals a message of the conversation with `scope`: `0x01 || nonce || ciphertext || tag`.
    public static func sealMessage(
        _ text: borrowing SecretBytes, fromSurvivor: Bool, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope,
        noteID: [UInt8]
    ) throws -> [UInt8] {
        guard noteID.count == noteIDByteCount else { throw CryptoError(.malformedInput, "a note id must be 16 bytes") }
        let padded = try BucketPadding.pad(text)
        let box = try padded.withUnsafeBytes { p in
            try XChaCha20Poly1305.seal(
                Array(p), using: key.key,
                authenticating: messageAssociatedData(recordID: recordID, scope: scope, noteID: noteID, fromSurvivor: fromSurvivor))
        }
        return [formatVersion] + box
    }

    /// Opens a message sealed by ``sealMessage(_:fromSurvivor:with:recordID:scope:noteID:)``.
    public static func openMessage(
        _ blob: [UInt8], fromSurvivor: Bool, with key: borrowing ConversationKey, recordID: RecordID, scope: Scope, noteID: [UInt8]
    ) throws -> SecretBytes {
        guard blob.first == formatVersion, noteID.count == noteIDByteCount else {
            throw CryptoError(.malformedInput, "failed to open message: unknown format version")
        }
        let padded = try XChaCha20Poly1305.open(
            blob[1...], using: key.key,
            authenticating: messageAssociatedData(recordID: recordID, scope: scope, noteID: noteID, fromSurvivor: fromSurvivor))
        return try BucketPadding.unpad(padded)
    }
}
