import CSodium
import Crypto

/// libsodium's anonymous sealed box (`crypto_box_seal`): ephemeral X25519, XSalsa20-Poly1305,
/// nonce = BLAKE2b-192(ephemeral public key || recipient public key). Layout:
/// `ephemeral public key (32) || tag (16) || ciphertext`.
public enum AnonymousSealedBox {
    /// Bytes a sealed box adds to its message (`crypto_box_SEALBYTES`).
    public static let overhead = Int(crypto_box_sealbytes())

    /// Seals `message` so that only the holder of `recipient`'s private key can open it.
    public static func seal(_ message: borrowing SecretBytes, to recipient: X25519PublicKey) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let rc = message.withUnsafeBytes { m in
            crypto_box_seal(&out, m.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(m.count), recipient.bytes)
        }
        guard rc == 0 else { throw CryptoError(.malformedInput, "failed to seal to the public key") }
        return out
    }

    /// Opens a box made by ``seal(_:to:)``; throws `authenticationFailed` for any other key or altered byte.
    public static func open(_ sealed: some ReadableBytes, with recipient: borrowing X25519PrivateKey) throws -> SecretBytes {
        try Sodium.ensureInitialised()
        let count = sealed.withUnsafeBytes { $0.count }
        guard count >= overhead else {
            throw CryptoError(.malformedInput, "failed to open: sealed box is \(count) bytes, shorter than \(overhead)")
        }
        let out = SecretBytes(zeroedCount: count - overhead)
        let rc = sealed.withUnsafeBytes { c in
            recipient.secret.withUnsafeBytes { sk in
                out.withUnsafeMutableBytes { o in
                    var scratch: UInt8 = 0
                    let target = o.count > 0 ? o.baseAddress!.assumingMemoryBound(to: UInt8.self) : withUnsafeMutablePointer(to: &scratch) { $0 }
                    return crypto_box_seal_open(
                        target, c.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(count), recipient.publicKey.bytes,
                        sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        guard rc == 0 else { throw CryptoError(.authenticationFailed, "failed to open the sealed box: wrong key or altered bytes") }
        return out
    }
}

/// The sealed backup stream (SECURITY.md §3.20): a header naming the backup key and carrying a
/// per-file key sealed to it, then XChaCha20-Poly1305 chunks whose associated data binds the
/// header's hash, the chunk counter and a final-chunk flag. Every chunk but the last carries
/// data; the last (final) chunk carries a trailer the caller supplies (Hearth: the manifest).
public enum BackupStream {
    /// `"HRTHBAK1"`, the first 8 bytes of a backup file.
    public static let magic = Array("HRTHBAK1".utf8)
    /// The format version byte.
    public static let version: UInt8 = 1
    /// Header length: magic 8, version 1, key id 32, sealed file key 80, nonce prefix 16, chunk size 4.
    public static let headerByteCount = 8 + 1 + 32 + 80 + 16 + 4
    /// The chunk size Hearth writes (64 KiB of plaintext per data chunk).
    public static let defaultChunkSize = 65536
    /// Chunk sizes a reader accepts: a power of two from 1 KiB to 1 MiB (so memory stays bounded).
    public static func isAcceptedChunkSize(_ size: Int) -> Bool {
        size >= 1024 && size <= 1_048_576 && size & (size - 1) == 0
    }
    /// Bytes before each chunk's ciphertext: final flag (1) and plaintext length (u32).
    public static let chunkPrefixByteCount = 5

    static let keyIDLabel = Array("hearth/v1/backup-key-id".utf8)
    static let headerLabel = Array("hearth/v1/backup-header".utf8)
    static let chunkLabel = Array("hearth/v1/backup-chunk".utf8)

    /// The backup key id: BLAKE2b-256 (unkeyed) of `"hearth/v1/backup-key-id" || public key`.
    public static func keyID(of publicKey: X25519PublicKey) throws -> [UInt8] {
        try Blake2b.hash(keyIDLabel + publicKey.bytes)
    }

    static func headerHash(_ header: [UInt8]) throws -> [UInt8] { try Blake2b.hash(headerLabel + header) }

    static func nonce(prefix: [UInt8], counter: UInt64) -> [UInt8] { prefix + counter.backupBigEndian }

    static func associatedData(headerHash: [UInt8], counter: UInt64, final: Bool) -> [UInt8] {
        chunkLabel + headerHash + counter.backupBigEndian + [final ? 1 : 0]
    }
}

/// Writes a sealed backup stream: the header at once, then one chunk per `chunkSize` bytes of
/// data, then the final chunk. Holds at most one chunk of plaintext.
public final class BackupStreamWriter {
    private let output: ([UInt8]) throws -> Void
    private let fileKey: SecretKey
    private let noncePrefix: [UInt8]
    private let headerHash: [UInt8]
    private let chunkSize: Int
    private var buffer: [UInt8] = []
    private var counter: UInt64 = 0
    private var hasher = SHA256()
    /// Data bytes written so far.
    public private(set) var dataByteCount: UInt64 = 0

    /// Starts a stream to `recipient` and writes its header through `output`.
    public init(recipient: X25519PublicKey, chunkSize: Int = BackupStream.defaultChunkSize, output: @escaping ([UInt8]) throws -> Void) throws {
        guard BackupStream.isAcceptedChunkSize(chunkSize) else {
            throw CryptoError(.malformedInput, "a backup chunk size must be a power of two from 1024 to 1048576")
        }
        let fileKey = try SecretKey.random()
        let sealedKey = try AnonymousSealedBox.seal(fileKey.secret, to: recipient)
        noncePrefix = try SystemRandom.bytes(16)
        let header =
            BackupStream.magic + [BackupStream.version] + (try BackupStream.keyID(of: recipient)) + sealedKey + noncePrefix
            + UInt32(chunkSize).backupBigEndian
        headerHash = try BackupStream.headerHash(header)
        self.fileKey = fileKey
        self.chunkSize = chunkSize
        self.output = output
        buffer.reserveCapacity(chunkSize)
        try output(header)
    }

    /// Adds data to the stream; every full chunk is sealed and written at once.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let take = min(chunkSize - buffer.count, bytes.count - offset)
            buffer.append(contentsOf: bytes[offset..<offset + take])
            offset += take
            if buffer.count == chunkSize { try emit(final: false) }
        }
    }

    /// Adds data to the stream.
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Seals what is buffered, then the final chunk: `makeFinal` gets the data's length and its
    /// SHA-256 and returns the final chunk's plaintext (1 to chunk-size bytes).
    public func finish(_ makeFinal: (_ dataByteCount: UInt64, _ dataSHA256: [UInt8]) throws -> [UInt8]) throws {
        if !buffer.isEmpty { try emit(final: false) }
        let digest = Array(hasher.finalize())
        let final = try makeFinal(dataByteCount, digest)
        guard !final.isEmpty, final.count <= chunkSize else {
            throw CryptoError(.malformedInput, "the final chunk must hold 1 to \(chunkSize) bytes")
        }
        try seal(final, final: true)
    }

    private func emit(final: Bool) throws {
        hasher.update(data: buffer)
        dataByteCount += UInt64(buffer.count)
        try seal(buffer, final: final)
        buffer.removeAll(keepingCapacity: true)
    }

    private func seal(_ plaintext: [UInt8], final: Bool) throws {
        let nonce = BackupStream.nonce(prefix: noncePrefix, counter: counter)
        let ad = BackupStream.associatedData(headerHash: headerHash, counter: counter, final: final)
        let box = try XChaCha20Poly1305.seal(plaintext, using: fileKey, nonce: nonce, authenticating: ad)
        try output([final ? 1 : 0] + UInt32(plaintext.count).backupBigEndian + box)
        counter += 1
    }
}

/// Reads and authenticates a sealed backup stream chunk by chunk (SECURITY.md §3.20). Nothing is
/// returned before its chunk authenticated; a stream that ends before its final chunk is
/// `truncated`, one sealed to another backup key `wrong-key`, any altered, re-ordered, dropped,
/// duplicated or spliced chunk `authentication-failed`, and a non-canonical one `malformed-input`.
public final class BackupStreamReader {
    /// One authenticated chunk.
    public enum Chunk {
        /// A data chunk's plaintext.
        case data([UInt8])
        /// The final chunk's plaintext (the trailer).
        case final([UInt8])
    }

    private let input: (Int) throws -> [UInt8]
    private let fileKey: SecretKey
    private let noncePrefix: [UInt8]
    private let headerHash: [UInt8]
    /// The chunk size the header declares.
    public let chunkSize: Int
    /// The backup key id in the header.
    public let keyID: [UInt8]
    private var counter: UInt64 = 0
    private var finished = false
    private var hasher = SHA256()
    /// Data bytes read so far.
    public private(set) var dataByteCount: UInt64 = 0
    /// SHA-256 of the data, once the final chunk has been read.
    public private(set) var dataSHA256: [UInt8]?

    /// Reads the header through `input` (which returns up to the asked number of bytes, fewer
    /// only at the end) and opens the file key with `privateKey`.
    public init(privateKey: borrowing X25519PrivateKey, input: @escaping (Int) throws -> [UInt8]) throws {
        self.input = input
        let header = try Self.readExactly(BackupStream.headerByteCount, from: input)
        guard header.count == BackupStream.headerByteCount else {
            throw CryptoError(.truncated, "the backup ends inside its header (\(header.count) of \(BackupStream.headerByteCount) bytes)")
        }
        guard Array(header[0..<8]) == BackupStream.magic else {
            throw CryptoError(.malformedInput, "not a Hearth backup (no HRTHBAK1 header)")
        }
        guard header[8] == BackupStream.version else {
            throw CryptoError(.malformedInput, "unknown backup format version \(header[8])")
        }
        keyID = Array(header[9..<41])
        let size = Int(UInt32(bigEndianBytes: header[137..<141]))
        guard BackupStream.isAcceptedChunkSize(size) else {
            throw CryptoError(.malformedInput, "the backup header declares chunk size \(size), not a power of two from 1024 to 1048576")
        }
        chunkSize = size
        guard Sodium.constantTimeEqual(keyID, try BackupStream.keyID(of: privateKey.publicKey)) else {
            throw CryptoError(.wrongKey, "the backup was sealed to another backup key (id \(Self.shortID(keyID)))")
        }
        fileKey = try SecretKey(try AnonymousSealedBox.open(header[41..<121], with: privateKey))
        noncePrefix = Array(header[121..<137])
        headerHash = try BackupStream.headerHash(header)
    }

    /// The first 8 bytes of a key id in hex, as operators see it.
    public static func shortID(_ id: [UInt8]) -> String {
        id.prefix(8).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The next authenticated chunk, or nil once the final chunk has been read and the stream has
    /// ended there.
    public func next() throws -> Chunk? {
        if finished {
            guard try input(1).isEmpty else {
                throw CryptoError(.malformedInput, "the backup has bytes after its final chunk")
            }
            return nil
        }
        let prefix = try Self.readExactly(BackupStream.chunkPrefixByteCount, from: input)
        guard prefix.count == BackupStream.chunkPrefixByteCount else {
            throw CryptoError(.truncated, "the backup ends after chunk \(counter) without its final chunk")
        }
        guard prefix[0] <= 1 else { throw CryptoError(.malformedInput, "chunk \(counter) has flag byte \(prefix[0])") }
        let final = prefix[0] == 1
        let length = Int(UInt32(bigEndianBytes: prefix[1..<5]))
        guard length >= 1, length <= chunkSize else {
            throw CryptoError(.malformedInput, "chunk \(counter) declares \(length) bytes (1 to \(chunkSize) allowed)")
        }
        let box = try Self.readExactly(length + XChaCha20Poly1305.tagByteCount, from: input)
        guard box.count == length + XChaCha20Poly1305.tagByteCount else {
            throw CryptoError(.truncated, "the backup ends inside chunk \(counter)")
        }
        let nonce = BackupStream.nonce(prefix: noncePrefix, counter: counter)
        let ad = BackupStream.associatedData(headerHash: headerHash, counter: counter, final: final)
        let plain = try XChaCha20Poly1305.open(ciphertextAndTag: box, using: fileKey, nonce: nonce, authenticating: ad)
        counter += 1
        if final {
            finished = true
            dataSHA256 = Array(hasher.finalize())
            return .final(plain)
        }
        hasher.update(data: plain)
        dataByteCount += UInt64(length)
        return .data(plain)
    }

    static func readExactly(_ count: Int, from input: (Int) throws -> [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            let part = try input(count - out.count)
            if part.isEmpty { break }
            out += part
        }
        return out
    }
}

extension XChaCha20Poly1305 {
    /// Encrypts with a caller-chosen nonce (24 bytes) and returns `ciphertext || tag` only. For
    /// streams whose nonces are derived from a random prefix and a counter, never reused under one key.
    public static func seal(
        _ plaintext: [UInt8], using key: borrowing SecretKey, nonce: [UInt8], authenticating associatedData: [UInt8]
    ) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        guard nonce.count == nonceByteCount else { throw CryptoError(.malformedInput, "an XChaCha20 nonce must be 24 bytes") }
        var out = [UInt8](repeating: 0, count: plaintext.count + tagByteCount)
        var written: UInt64 = 0
        let rc = key.secret.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                &out, &written, plaintext, UInt64(plaintext.count), associatedData, UInt64(associatedData.count), nil, nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError(.malformedInput, "failed to seal: message too long") }
        return out
    }

    /// Decrypts `ciphertext || tag` made with an explicit nonce by ``seal(_:using:nonce:authenticating:)``.
    public static func open(
        ciphertextAndTag box: [UInt8], using key: borrowing SecretKey, nonce: [UInt8], authenticating associatedData: [UInt8]
    ) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        guard nonce.count == nonceByteCount, box.count >= tagByteCount else {
            throw CryptoError(.malformedInput, "failed to open: nonce or box of the wrong length")
        }
        var out = [UInt8](repeating: 0, count: max(box.count - tagByteCount, 1))
        var written: UInt64 = 0
        let rc = key.secret.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &out, &written, nil, box, UInt64(box.count), associatedData, UInt64(associatedData.count), nonce,
                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError(.authenticationFailed, "failed to open: authentication failed") }
        return Array(out.prefix(Int(written)))
    }
}

extension UInt64 {
    var backupBigEndian: [UInt8] { (0..<8).reversed().map { UInt8((self >> (UInt64($0) * 8)) & 0xFF) } }
}

extension UInt32 {
    var backupBigEndian: [UInt8] { [UInt8(self >> 24), UInt8((self >> 16) & 0xFF), UInt8((self >> 8) & 0xFF), UInt8(self & 0xFF)] }

    init(bigEndianBytes bytes: ArraySlice<UInt8>) {
        self = bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }
}
