import HearthCrypto

/// Derivation labels and associated-data prefixes, exactly as SECURITY.md lists them.
public enum Label {
    static let commitment = Array("hearth/v1/commitment".utf8)
    static let body = Array("hearth/v1/body".utf8)
    static let consentWrap = Array("hearth/v1/consent-wrap".utf8)
    static let consentWrapKey = Array("hearth/v1/consent-wrap-key".utf8)
    static let survivorWrap = Array("hearth/v1/survivor-wrap".utf8)
    static let survivorWrapKey = Array("hearth/v1/survivor-wrap-key".utf8)
    static let receiptLookup = Array("hearth/v1/receipt-lookup".utf8)
    /// Key-file sealing (SECURITY.md §3.10).
    public static let keyFile = Array("hearth/v1/key-file".utf8)
    /// The master-key check in `master.kdf`.
    public static let masterCheck = Array("hearth/v1/master-check".utf8)
    static let message = Array("hearth/v1/message".utf8)
    static let accessReason = Array("hearth/v1/access-reason".utf8)
    static let totpSecretKey = Array("hearth/v1/totp-secret-key".utf8)
    static let totpSecret = Array("hearth/v1/totp-secret".utf8)
    static let sessionKey = Array("hearth/v1/session-key".utf8)
}

/// A record's data key (L2): 32 random bytes, new for every record, never stored bare.
public struct DataKey: ~Copyable, Sendable {
    let key: SecretKey

    /// A fresh random data key.
    public static func generate() throws -> DataKey { DataKey(key: try SecretKey.random()) }

    init(key: consuming SecretKey) { self.key = key }

    /// Accepts unwrapped bytes only if they match the record's key commitment (checked in constant time).
    init(unwrapped secret: consuming SecretBytes, recordID: RecordID, commitment: [UInt8]) throws {
        let key = try SecretKey(secret)
        let expected = try Envelope.commitment(to: key, recordID: recordID)
        guard Sodium.constantTimeEqual(expected, commitment) else {
            throw CryptoError(.commitmentMismatch, "failed to open: the data key does not match the record's commitment")
        }
        self.key = key
    }
}

/// The byte formats of every sealed thing (SECURITY.md, "Sealed formats").
///
/// Every blob starts with ``formatVersion``; anything else is rejected before decryption.
public enum Envelope {
    /// The one format version this code writes and reads.
    public static let formatVersion: UInt8 = 1
    /// Length of a consent wrap.
    public static let consentWrapByteCount = 1 + SealedToPublicKey.overhead + SecretKey.byteCount
    /// Length of a survivor wrap.
    public static let survivorWrapByteCount = 1 + XChaCha20Poly1305.overhead + SecretKey.byteCount

    /// `BLAKE2b-256(key: DEK, "hearth/v1/commitment" || record id)`.
    static func commitment(to key: borrowing SecretKey, recordID: RecordID) throws -> [UInt8] {
        try Blake2b.hash(Label.commitment + recordID.bytes, key: key.secret)
    }

    /// The key commitment of a data key.
    public static func commitment(to dek: borrowing DataKey, recordID: RecordID) throws -> [UInt8] {
        try commitment(to: dek.key, recordID: recordID)
    }

    // MARK: Body

    static func bodyAssociatedData(recordID: RecordID, commitment: [UInt8]) -> [UInt8] {
        Label.body + [formatVersion] + recordID.bytes + commitment
    }

    /// Pads and seals a record body: `0x01 || nonce || ciphertext || tag`.
    public static func sealBody(
        _ plaintext: borrowing SecretBytes, with dek: borrowing DataKey, recordID: RecordID, commitment: [UInt8]
    ) throws -> [UInt8] {
        let padded = try BucketPadding.pad(plaintext)
        let box = try XChaCha20Poly1305.seal(
            padded, using: dek.key, authenticating: bodyAssociatedData(recordID: recordID, commitment: commitment))
        return [formatVersion] + box
    }

    /// Opens a record body and removes its padding.
    public static func openBody(
        _ blob: [UInt8], with dek: borrowing DataKey, recordID: RecordID, commitment: [UInt8]
    ) throws -> SecretBytes {
        guard blob.first == formatVersion else {
            throw CryptoError(.malformedInput, "failed to open body: unknown format version")
        }
        // SECURITY.md §3.6 and §3.12: the length must be `B + 41` with `B` a bucket, checked before decrypting.
        let bucket = blob.count - 1 - XChaCha20Poly1305.overhead
        guard bucket >= BucketPadding.smallestBucket, bucket <= BucketPadding.largestBucket, bucket & (bucket - 1) == 0 else {
            throw CryptoError(.malformedInput, "failed to open body: \(blob.count) bytes is not a padded body length")
        }
        let padded = try XChaCha20Poly1305.open(
            blob[1...], using: dek.key,
            authenticating: bodyAssociatedData(recordID: recordID, commitment: commitment))
        return try BucketPadding.unpad(padded)
    }

    // MARK: Messages and access reasons

    /// What a sealed note under a record's DEK is: a message in the thread or a stated reason for opening.
    public enum NoteKind: Sendable {
        /// A message; `fromSurvivor` is bound into the associated data so authorship cannot be swapped.
        case message(fromSurvivor: Bool)
        /// The reason a member of staff gave for opening the record.
        case accessReason
    }

    static func noteAssociatedData(_ kind: NoteKind, recordID: RecordID, noteID: [UInt8], commitment: [UInt8]) -> [UInt8] {
        switch kind {
        case .message(let fromSurvivor):
            Label.message + [formatVersion] + recordID.bytes + noteID + [fromSurvivor ? 1 : 2] + commitment
        case .accessReason:
            Label.accessReason + [formatVersion] + recordID.bytes + noteID + commitment
        }
    }

    /// Length of a note id.
    public static let noteIDByteCount = 16

    /// Pads and seals a note (message or access reason) under the record's DEK: `0x01 || nonce || ciphertext || tag`.
    public static func sealNote(
        _ text: borrowing SecretBytes, kind: NoteKind, with dek: borrowing DataKey, recordID: RecordID, noteID: [UInt8], commitment: [UInt8]
    ) throws -> [UInt8] {
        guard noteID.count == noteIDByteCount else { throw CryptoError(.malformedInput, "a note id must be 16 bytes") }
        let padded = try BucketPadding.pad(text)
        let box = try XChaCha20Poly1305.seal(
            padded, using: dek.key, authenticating: noteAssociatedData(kind, recordID: recordID, noteID: noteID, commitment: commitment))
        return [formatVersion] + box
    }

    /// Opens a note sealed by ``sealNote(_:kind:with:recordID:noteID:commitment:)``.
    public static func openNote(
        _ blob: [UInt8], kind: NoteKind, with dek: borrowing DataKey, recordID: RecordID, noteID: [UInt8], commitment: [UInt8]
    ) throws -> SecretBytes {
        guard blob.first == formatVersion, noteID.count == noteIDByteCount else {
            throw CryptoError(.malformedInput, "failed to open note: unknown format version")
        }
        let padded = try XChaCha20Poly1305.open(
            blob[1...], using: dek.key, authenticating: noteAssociatedData(kind, recordID: recordID, noteID: noteID, commitment: commitment))
        return try BucketPadding.unpad(padded)
    }

    // MARK: Consent wraps

    static func consentWrapAssociatedData(recordID: RecordID, scope: Scope, keyVersion: UInt32) -> [UInt8] {
        Label.consentWrap + [formatVersion] + recordID.bytes + [scope.id] + keyVersion.bigEndianBytes
    }

    /// Seals the DEK to a scope's public key of a given version (105 bytes).
    public static func wrapForScope(
        _ dek: borrowing DataKey, recordID: RecordID, scope: Scope, keyVersion: UInt32, publicKey: X25519PublicKey
    ) throws -> [UInt8] {
        let sealed = try SealedToPublicKey.seal(
            dek.key.secret, to: publicKey, kdfLabel: Label.consentWrapKey,
            authenticating: consentWrapAssociatedData(recordID: recordID, scope: scope, keyVersion: keyVersion))
        return [formatVersion] + sealed
    }

    /// Opens a consent wrap with the scope's private key and checks the commitment.
    public static func openScopeWrap(
        _ wrap: [UInt8], with privateKey: borrowing X25519PrivateKey,
        recordID: RecordID, scope: Scope, keyVersion: UInt32, commitment: [UInt8]
    ) throws -> DataKey {
        guard wrap.count == consentWrapByteCount, wrap.first == formatVersion else {
            throw CryptoError(.malformedInput, "failed to open consent wrap: not a version-1 wrap of \(consentWrapByteCount) bytes")
        }
        let secret = try SealedToPublicKey.open(
            Array(wrap[1...]), with: privateKey, kdfLabel: Label.consentWrapKey,
            authenticating: consentWrapAssociatedData(recordID: recordID, scope: scope, keyVersion: keyVersion))
        return try DataKey(unwrapped: secret, recordID: recordID, commitment: commitment)
    }

    // MARK: Survivor wrap

    static func survivorWrapAssociatedData(recordID: RecordID) -> [UInt8] {
        Label.survivorWrap + [formatVersion] + recordID.bytes
    }

    /// Seals the DEK under the key derived from the receipt (73 bytes).
    public static func wrapForSurvivor(_ dek: borrowing DataKey, recordID: RecordID, receipt: Receipt) throws -> [UInt8] {
        let key = try receipt.survivorWrapKey()
        let box = try XChaCha20Poly1305.seal(dek.key.secret, using: key, authenticating: survivorWrapAssociatedData(recordID: recordID))
        return [formatVersion] + box
    }

    /// Opens the survivor wrap with the receipt and checks the commitment.
    public static func openSurvivorWrap(
        _ wrap: [UInt8], receipt: Receipt, recordID: RecordID, commitment: [UInt8]
    ) throws -> DataKey {
        guard wrap.count == survivorWrapByteCount, wrap.first == formatVersion else {
            throw CryptoError(.malformedInput, "failed to open survivor wrap: not a version-1 wrap of \(survivorWrapByteCount) bytes")
        }
        return try openSurvivorWrap(wrap, key: receipt.survivorWrapKey(), recordID: recordID, commitment: commitment)
    }

    /// Opens the survivor wrap with the key the receipt derives (what a page session keeps) and
    /// checks the commitment.
    public static func openSurvivorWrap(
        _ wrap: [UInt8], key: borrowing SecretKey, recordID: RecordID, commitment: [UInt8]
    ) throws -> DataKey {
        guard wrap.count == survivorWrapByteCount, wrap.first == formatVersion else {
            throw CryptoError(.malformedInput, "failed to open survivor wrap: not a version-1 wrap of \(survivorWrapByteCount) bytes")
        }
        let secret = try XChaCha20Poly1305.open(wrap[1...], using: key, authenticating: survivorWrapAssociatedData(recordID: recordID))
        return try DataKey(unwrapped: secret, recordID: recordID, commitment: commitment)
    }
}

extension UInt32 {
    /// Big-endian bytes.
    /// The four bytes, most significant first (SECURITY.md §3.1).
    public var bigEndianBytes: [UInt8] { [UInt8(self >> 24), UInt8((self >> 16) & 0xFF), UInt8((self >> 8) & 0xFF), UInt8(self & 0xFF)] }
}
