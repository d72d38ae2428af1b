import HearthCore
public import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The backup key pair (SECURITY.md §3.20): `backup.pub`, which the service seals backups to, and
/// `backup.key`, the private half, which stays offline and never in the service's key directory.
public enum BackupKeys {
    /// The public file's name.
    public static let publicFileName = "backup.pub"
    /// The private file's name.
    public static let privateFileName = "backup.key"

    static let publicMagic = Array("HRTHBPK1".utf8)
    static let plainMagic = Array("HRTHBSK1".utf8)
    static let passphraseMagic = Array("HRTHBSP1".utf8)
    /// Magic strings that mark a file as a backup private key, whatever its name.
    static let privateMagics = [plainMagic, passphraseMagic]

    /// `backup.pub`: magic, X25519 public key (40 bytes).
    public static let publicFileByteCount = 40
    /// `backup.key` without a passphrase: magic, X25519 secret key (40 bytes).
    public static let plainFileByteCount = 40
    /// `backup.key` under a passphrase: magic, opslimit, memlimit, salt, nonce, sealed secret (112 bytes).
    public static let passphraseFileByteCount = 8 + 8 + 8 + 16 + 24 + 48

    /// Creates `DIR/backup.key` (exclusively, 0600; sealed under `passphrase` with Argon2id when
    /// given) and `DIR/backup.pub`, in a directory created 0700. Returns the public key.
    public static func create(in dir: String, passphrase: consuming SecretBytes?, cost: Argon2id.Cost = .moderate) throws -> X25519PublicKey {
        if mkdir(dir, 0o700) != 0 && errno != EEXIST {
            throw KeyFileError(path: dir, reason: "cannot create the directory", hint: "check the parent directory")
        }
        try SecureFile.checkDirectory(dir)
        let pair = try X25519PrivateKey.generate()
        let contents: [UInt8]
        if let passphrase {
            contents = try sealed(pair.secret, passphrase: passphrase, cost: cost)
        } else {
            contents = plainMagic + pair.secret.unsafeExportedBytes()
        }
        try SecureFile.createExclusive("\(dir)/\(privateFileName)", contents: contents)
        try SecureFile.createExclusive("\(dir)/\(publicFileName)", contents: publicMagic + pair.publicKey.bytes)
        return pair.publicKey
    }

    static func sealed(_ secret: borrowing SecretBytes, passphrase: borrowing SecretBytes, cost: Argon2id.Cost) throws -> [UInt8] {
        func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8((v >> (UInt64($0) * 8)) & 0xFF) } }
        let salt = try SystemRandom.bytes(Argon2id.saltByteCount)
        let header = passphraseMagic + u64(cost.opsLimit) + u64(cost.memLimit) + salt
        let key = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, cost: cost)
        let box = try XChaCha20Poly1305.seal(secret, using: key, authenticating: header)
        return header + box
    }

    /// Reads a backup public key file (`backup.pub`).
    public static func loadPublicKey(_ path: String) throws -> X25519PublicKey {
        let bytes = try SecureFile.readKeyFile(path, maxBytes: 4096)
        guard bytes.count == publicFileByteCount, Array(bytes[0..<8]) == publicMagic else {
            throw KeyFileError(
                path: path, reason: "it is not a backup public key (HRTHBPK1, 40 bytes)",
                hint: "copy backup.pub from the directory `hearth keys init-backup` made")
        }
        return try X25519PublicKey(bytes: Array(bytes[8...]))
    }

    /// Opens `DIR/backup.key` (with `passphrase` when it was sealed under one) and checks it
    /// against `DIR/backup.pub` when that is there.
    public static func loadPrivateKey(inDirectory dir: String, passphrase: consuming SecretBytes?) throws -> X25519PrivateKey {
        let path = "\(dir)/\(privateFileName)"
        let bytes = try SecureFile.readKeyFile(path, maxBytes: 4096)
        let key: X25519PrivateKey
        if bytes.count == plainFileByteCount, Array(bytes[0..<8]) == plainMagic {
            key = try X25519PrivateKey(secret: SecretBytes(copying: bytes[8...]))
        } else if bytes.count == passphraseFileByteCount, Array(bytes[0..<8]) == passphraseMagic {
            guard let passphrase else {
                throw KeyFileError(
                    path: path, reason: "it is sealed under a passphrase", hint: "pass --passphrase-env VAR naming the variable that holds it")
            }
            func u64(_ r: Range<Int>) -> UInt64 { bytes[r].reduce(0) { $0 << 8 | UInt64($1) } }
            let cost = Argon2id.Cost(opsLimit: u64(8..<16), memLimit: u64(16..<24))
            let header = Array(bytes[0..<40])
            let derived = try Argon2id.deriveKey(passphrase: passphrase, salt: Array(bytes[24..<40]), cost: cost)
            let secret: SecretBytes
            do {
                secret = try XChaCha20Poly1305.open(bytes[40...], using: derived, authenticating: header)
            } catch {
                throw KeyFileError(path: path, reason: "the passphrase is wrong (or the file was altered)", hint: "check the passphrase variable")
            }
            key = try X25519PrivateKey(secret: secret)
        } else {
            throw KeyFileError(
                path: path, reason: "it is not a backup private key (HRTHBSK1 or HRTHBSP1)",
                hint: "point --backup-key at the directory `hearth keys init-backup` made")
        }
        let publicPath = "\(dir)/\(publicFileName)"
        if SecureFile.list(dir).contains(publicFileName) {
            guard try loadPublicKey(publicPath) == key.publicKey else {
                throw KeyFileError(
                    path: path, reason: "it does not match \(publicPath)", hint: "keep the pair together as `hearth keys init-backup` made it")
            }
        }
        return key
    }

    /// The files in `dir` that hold a backup private key: `backup.key`, or any regular file that
    /// starts with a backup private key's magic. The service's key directory must hold none.
    public static func privateKeyFiles(in dir: String) -> [String] {
        SecureFile.list(dir).compactMap { name in
            let path = "\(dir)/\(name)"
            if name == privateFileName { return path }
            var st = stat()
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size >= 8, st.st_size <= 4096 else { return nil }
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var head = [UInt8](repeating: 0, count: 8)
            guard read(fd, &head, 8) == 8 else { return nil }
            return privateMagics.contains(head) ? path : nil
        }
    }
}
