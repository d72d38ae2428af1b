import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a key file, naming the file and what to do. Never contains key material.
public struct KeyFileError: Error, CustomStringConvertible, Sendable {
    /// The file (or directory) concerned.
    public let path: String
    /// What is wrong, in plain words.
    public let reason: String
    /// What to do about it.
    public let hint: String

    /// Creates an error.
    public init(path: String, reason: String, hint: String) {
        self.path = path
        self.reason = reason
        self.hint = hint
    }

    public var description: String { "failed to use key file '\(path)': \(reason)\nhint: \(hint)" }
}

/// What a key file holds: a scope's X25519 key, the Ed25519 audit-signing key, or the casework
/// secret (32 random bytes from which the TOTP-sealing and session-hashing keys derive, so that
/// rotating the master key never touches staff credentials).
public enum KeyKind: Hashable, Sendable, CustomStringConvertible {
    case scope(Scope)
    case audit
    case casework

    /// The kind byte in file headers (SECURITY.md).
    public var byte: UInt8 {
        switch self {
        case .scope(let s): s.id
        case .audit: 16
        case .casework: 17
        }
    }

    /// The file-name stem: `support`, `review`, `police`, `prosecution` or `audit`.
    public var name: String {
        switch self {
        case .scope(let s): s.rawValue
        case .audit: "audit"
        case .casework: "casework"
        }
    }

    public var description: String { name }

    /// Every kind, scopes first.
    public static let all: [KeyKind] = Scope.allCases.map { .scope($0) } + [.audit, .casework]

    init?(name: String) {
        if name == "audit" {
            self = .audit
        } else if name == "casework" {
            self = .casework
        } else if let s = Scope(rawValue: name) {
            self = .scope(s)
        } else {
            return nil
        }
    }
}

/// Byte formats of key files (SECURITY.md, "Key files").
public enum KeyFileFormat {
    static let publicMagic = Array("HRTHPUB1".utf8)
    static let sealedMagic = Array("HRTHSEC1".utf8)
    static let kdfMagic = Array("HRTHKDF1".utf8)
    /// Length of a `.pub` file.
    public static let publicFileByteCount = 8 + 1 + 4 + 32
    /// Length of a `.sealed` file.
    public static let sealedFileByteCount = 8 + 1 + 4 + XChaCha20Poly1305.overhead + 32
    /// Length of `master.kdf`.
    public static let kdfFileByteCount = 8 + 8 + 8 + 16 + 32

    /// Encodes a public key file.
    public static func encodePublic(kind: KeyKind, version: UInt32, key: [UInt8]) -> [UInt8] {
        publicMagic + [kind.byte] + version.bigEndianBytes + key
    }

    /// Decodes a public key file, checking that its header agrees with its name.
    public static func decodePublic(_ bytes: [UInt8], kind: KeyKind, version: UInt32) -> [UInt8]? {
        guard bytes.count == publicFileByteCount, Array(bytes[0..<8]) == publicMagic,
            bytes[8] == kind.byte, Array(bytes[9..<13]) == version.bigEndianBytes
        else { return nil }
        return Array(bytes[13...])
    }

    static func sealedHeader(kind: KeyKind, version: UInt32) -> [UInt8] {
        sealedMagic + [kind.byte] + version.bigEndianBytes
    }

    static func fileKey(master: borrowing SecretKey) throws -> SecretKey {
        try Blake2b.deriveKey(Label.keyFile, key: master.secret)
    }

    /// Seals a 32-byte private key (X25519 scalar or Ed25519 seed) under the master key.
    public static func encodeSealed(
        kind: KeyKind, version: UInt32, secret: borrowing SecretBytes, master: borrowing SecretKey
    ) throws -> [UInt8] {
        let header = sealedHeader(kind: kind, version: version)
        let box = try secret.withUnsafeBytes { s in
            try XChaCha20Poly1305.seal(Array(s), using: fileKey(master: master), authenticating: header)
        }
        return header + box
    }

    /// Opens a sealed key file; throws if it is malformed, renamed, or sealed under another master key.
    public static func decodeSealed(
        _ bytes: [UInt8], kind: KeyKind, version: UInt32, master: borrowing SecretKey
    ) throws -> SecretBytes {
        let header = sealedHeader(kind: kind, version: version)
        guard bytes.count == sealedFileByteCount, Array(bytes[0..<13]) == header else {
            throw CryptoError(.malformedInput, "not a \(kind) v\(version) sealed key file")
        }
        return try XChaCha20Poly1305.open(bytes[13...], using: fileKey(master: master), authenticating: header)
    }

    /// `master.kdf`: Argon2id parameters, salt, and a check value for the derived master key.
    public static func encodeKDF(cost: Argon2id.Cost, salt: [UInt8], master: borrowing SecretKey) throws -> [UInt8] {
        func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8((v >> (UInt64($0) * 8)) & 0xFF) } }
        return kdfMagic + u64(cost.opsLimit) + u64(cost.memLimit) + salt
            + (try Blake2b.hash(Label.masterCheck, key: master.secret))
    }

    /// Re-derives the master key from `master.kdf` and a passphrase; nil for a wrong passphrase.
    public static func decodeKDF(_ bytes: [UInt8], passphrase: borrowing SecretBytes) throws -> SecretKey? {
        guard bytes.count == kdfFileByteCount, Array(bytes[0..<8]) == kdfMagic else {
            throw CryptoError(.malformedInput, "not a master.kdf file")
        }
        func u64(_ r: Range<Int>) -> UInt64 { bytes[r].reduce(0) { $0 << 8 | UInt64($1) } }
        let cost = Argon2id.Cost(opsLimit: u64(8..<16), memLimit: u64(16..<24))
        let master = try Argon2id.deriveKey(passphrase: passphrase, salt: Array(bytes[24..<40]), cost: cost)
        let check = try Blake2b.hash(Label.masterCheck, key: master.secret)
        guard Sodium.constantTimeEqual(check, bytes[40..<72]) else { return nil }
        return master
    }
}

/// The public half of the key hierarchy: what the intake process holds.
public struct PublicKeyRing: Sendable {
    /// A scope's public key of one version.
    public struct Entry: Sendable, Hashable {
        /// The key version (N in `<scope>.vN.pub`).
        public let version: UInt32
        /// The key.
        public let key: X25519PublicKey
    }

    /// The primary (highest) version of each scope: new consent wraps use it.
    public let primary: [Scope: Entry]

    /// Creates a ring; every scope must have a key.
    public init(primary: [Scope: Entry]) {
        self.primary = primary
    }
}

/// Low-level, careful file operations for key material.
public enum SecureFile {
    /// Writes a new file with `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, and fsyncs it and its directory.
    public static func createExclusive(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KeyFileError(
                path: path, reason: "cannot create it (\(String(cString: strerror(errno))))",
                hint: errno == EEXIST ? "a key file is never overwritten; move the old one away first" : "check the directory exists and is writable")
        }
        defer { close(fd) }
        var offset = 0
        while offset < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, contents.count - offset) }
            guard n > 0 else {
                throw KeyFileError(path: path, reason: "cannot write it", hint: "check free disk space")
            }
            offset += n
        }
        guard fsync(fd) == 0 else { throw KeyFileError(path: path, reason: "cannot fsync it", hint: "check the disk") }
        syncDirectory(of: path)
    }

    /// Fsyncs the directory holding `path`, so a new name survives power loss.
    public static func syncDirectory(of path: String) {
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads a key file after checking it is a regular file (not a link) that group and others can
    /// neither read nor write. `maxBytes` bounds what is read.
    public static func readKeyFile(_ path: String, maxBytes: Int = 64 * 1024) throws -> [UInt8] {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw KeyFileError(
                path: path, reason: "it is missing",
                hint: "create keys with `hearth keys init --dir DIR`, or point --keys at the right directory")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw KeyFileError(path: path, reason: "it is not a regular file", hint: "replace it with the real key file")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw KeyFileError(
                path: path, reason: "it is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                hint: "run `chmod 600 \(path)` and check who could have copied it")
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw KeyFileError(path: path, reason: "it cannot be opened", hint: "check its owner and mode")
        }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: maxBytes + 1)
        var total = 0
        while total <= maxBytes {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, maxBytes + 1 - total) }
            if n <= 0 { break }
            total += n
        }
        guard total <= maxBytes else {
            throw KeyFileError(path: path, reason: "it is far larger than any key file", hint: "replace it with the real key file")
        }
        return Array(out[0..<total])
    }

    /// Refuses a directory that group or others may write to (they could swap keys).
    public static func checkDirectory(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw KeyFileError(
                path: path, reason: "the key directory is missing",
                hint: "create keys with `hearth keys init --dir \(path)`, or run `hearth serve --dev`")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw KeyFileError(
                path: path, reason: "the key directory is open to group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                hint: "run `chmod 700 \(path)`")
        }
    }

    /// The names of the entries in a directory.
    public static func list(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// The key directory (`keys/` by default): file names, creation and loading.
public struct KeyDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// A key directory at `path`.
    public init(path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    /// Full path of a file in the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }
    /// `master.key`.
    public var masterKeyFile: String { file("master.key") }
    /// `master.kdf` (passphrase mode).
    public var masterKDFFile: String { file("master.kdf") }
    /// The TLS certificate (PEM).
    public var tlsCertificateFile: String { file("tls.crt") }
    /// The TLS private key (PEM).
    public var tlsKeyFile: String { file("tls.key") }
    /// The casework listener's own certificate (PEM), when it has one.
    public var caseworkCertificateFile: String { file("casework-tls.crt") }
    /// The casework listener's own TLS key (PEM).
    public var caseworkKeyFile: String { file("casework-tls.key") }

    /// `<name>.v<N>.pub`.
    public func publicFile(_ kind: KeyKind, version: UInt32) -> String { file("\(kind.name).v\(version).pub") }
    /// `<name>.v<N>.sealed`.
    public func sealedFile(_ kind: KeyKind, version: UInt32) -> String { file("\(kind.name).v\(version).sealed") }

    /// The versions present for a kind, from `.pub` file names, ascending.
    public func versions(of kind: KeyKind) -> [UInt32] {
        let prefix = "\(kind.name).v"
        return SecureFile.list(path).compactMap { name -> UInt32? in
            guard name.hasPrefix(prefix), name.hasSuffix(".pub") else { return nil }
            let digits = name.dropFirst(prefix.count).dropLast(4)
            guard let v = UInt32(digits), v > 0, String(v) == digits else { return nil }
            return v
        }.sorted()
    }

    /// Whether any key material already exists here.
    public var isEmpty: Bool {
        !SecureFile.list(path).contains { $0 != "README.md" && $0 != ".gitignore" }
    }

    /// Creates the master key (or `master.kdf` from a passphrase), version 1 of every scope key
    /// pair and the audit-signing key. Every file is created exclusively with mode 0600.
    public func initialise(passphrase: consuming SecretBytes?, cost: Argon2id.Cost = .moderate) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw KeyFileError(path: path, reason: "cannot create the key directory", hint: "check the parent directory")
        }
        // A directory that holds no keys yet (e.g. `keys/` as cloned, 0755) is closed before use.
        if isEmpty { _ = chmod(path, 0o700) }
        try SecureFile.checkDirectory(path)
        let master: SecretKey
        if let passphrase {
            let salt = try SystemRandom.bytes(Argon2id.saltByteCount)
            master = try Argon2id.deriveKey(passphrase: passphrase, salt: salt, cost: cost)
            try SecureFile.createExclusive(masterKDFFile, contents: KeyFileFormat.encodeKDF(cost: cost, salt: salt, master: master))
        } else {
            master = try SecretKey.random()
            try SecureFile.createExclusive(masterKeyFile, contents: master.secret.unsafeExportedBytes())
        }
        for kind in KeyKind.all {
            try createKeyPair(kind, version: 1, master: master)
        }
    }

    /// Creates `<kind>.v<version>.pub` and `.sealed` under `master`.
    public func createKeyPair(_ kind: KeyKind, version: UInt32, master: borrowing SecretKey) throws {
        let publicBytes: [UInt8]
        let sealed: [UInt8]
        switch kind {
        case .scope:
            let pair = try X25519PrivateKey.generate()
            publicBytes = pair.publicKey.bytes
            sealed = try KeyFileFormat.encodeSealed(kind: kind, version: version, secret: pair.secret, master: master)
        case .audit:
            let pair = try Ed25519PrivateKey.generate()
            publicBytes = pair.publicKey.bytes
            sealed = try KeyFileFormat.encodeSealed(kind: kind, version: version, secret: pair.seed, master: master)
        case .casework:
            // The "public" file holds an unkeyed BLAKE2b-256 of the secret: a check, not a key.
            let secret = try SecretBytes.random(count: 32)
            publicBytes = try secret.withUnsafeBytes { try Blake2b.hash(Array($0)) }
            sealed = try KeyFileFormat.encodeSealed(kind: kind, version: version, secret: secret, master: master)
        }
        try SecureFile.createExclusive(sealedFile(kind, version: version), contents: sealed)
        try SecureFile.createExclusive(
            publicFile(kind, version: version), contents: KeyFileFormat.encodePublic(kind: kind, version: version, key: publicBytes))
    }

    /// Loads the primary public key of every scope: all the intake process needs (with the TLS files).
    public func loadPublicKeyRing() throws -> PublicKeyRing {
        try SecureFile.checkDirectory(path)
        var primary: [Scope: PublicKeyRing.Entry] = [:]
        for scope in Scope.allCases {
            let kind = KeyKind.scope(scope)
            guard let version = versions(of: kind).last else {
                _ = try SecureFile.readKeyFile(publicFile(kind, version: 1))  // throws "missing", naming the file
                continue
            }
            let file = publicFile(kind, version: version)
            let bytes = try SecureFile.readKeyFile(file)
            guard let key = KeyFileFormat.decodePublic(bytes, kind: kind, version: version) else {
                throw KeyFileError(
                    path: file, reason: "it is not a valid \(scope.rawValue) v\(version) public key file",
                    hint: "restore it from your key backup; never edit key files by hand")
            }
            primary[scope] = PublicKeyRing.Entry(version: version, key: try X25519PublicKey(bytes: key))
        }
        return PublicKeyRing(primary: primary)
    }

    /// Loads the master key from `master.key`, or from `master.kdf` with a passphrase.
    public func loadMasterKey(passphrase: consuming SecretBytes?) throws -> SecretKey {
        if let passphrase {
            let bytes = try SecureFile.readKeyFile(masterKDFFile)
            let master: SecretKey?
            do {
                master = try KeyFileFormat.decodeKDF(bytes, passphrase: passphrase)
            } catch {
                throw KeyFileError(path: masterKDFFile, reason: "it is malformed", hint: "restore it from your key backup")
            }
            guard let master else {
                throw KeyFileError(path: masterKDFFile, reason: "the passphrase is wrong", hint: "check the passphrase variable")
            }
            return master
        }
        let bytes = try SecureFile.readKeyFile(masterKeyFile)
        guard bytes.count == SecretKey.byteCount else {
            throw KeyFileError(
                path: masterKeyFile, reason: "it is \(bytes.count) bytes, not 32",
                hint: "restore it from your key backup; if you use a passphrase, pass --passphrase-env")
        }
        return try SecretKey(SecretBytes(copying: bytes))
    }

    /// Opens the casework secret (the highest version) with the master key.
    public func loadCaseworkSecret(master: borrowing SecretKey) throws -> SecretBytes {
        guard let version = versions(of: .casework).last else {
            throw KeyFileError(
                path: publicFile(.casework, version: 1), reason: "it is missing", hint: "create keys with `hearth keys init`")
        }
        let file = sealedFile(.casework, version: version)
        let bytes = try SecureFile.readKeyFile(file)
        do {
            return try KeyFileFormat.decodeSealed(bytes, kind: .casework, version: version, master: master)
        } catch {
            throw KeyFileError(path: file, reason: "it cannot be opened with this master key", hint: "restore it from your key backup")
        }
    }

    /// Opens a scope's private key of one version with the master key.
    public func loadScopePrivateKey(_ scope: Scope, version: UInt32, master: borrowing SecretKey) throws -> X25519PrivateKey {
        let file = sealedFile(.scope(scope), version: version)
        let bytes = try SecureFile.readKeyFile(file)
        do {
            let secret = try KeyFileFormat.decodeSealed(bytes, kind: .scope(scope), version: version, master: master)
            return try X25519PrivateKey(secret: secret)
        } catch {
            throw KeyFileError(
                path: file, reason: "it cannot be opened with this master key (corrupt, renamed, or from another key set)",
                hint: "restore it from your key backup")
        }
    }

    /// Opens every private key file with the master key, so a corrupt, renamed or foreign key file
    /// stops start-up instead of failing later. Nothing opened is kept.
    public func verifyPrivateKeys(master: borrowing SecretKey) throws {
        for kind in KeyKind.all {
            let versions = versions(of: kind)
            guard !versions.isEmpty else {
                _ = try SecureFile.readKeyFile(publicFile(kind, version: 1))  // names the missing file
                continue
            }
            for v in versions {
                let file = sealedFile(kind, version: v)
                let bytes = try SecureFile.readKeyFile(file)
                let publicFile = publicFile(kind, version: v)
                guard let publicKey = KeyFileFormat.decodePublic(try SecureFile.readKeyFile(publicFile), kind: kind, version: v) else {
                    throw KeyFileError(
                        path: publicFile, reason: "it is not a valid \(kind.name) v\(v) public key file",
                        hint: "restore it from your key backup; never edit key files by hand")
                }
                let matches: Bool
                do {
                    let secret = try KeyFileFormat.decodeSealed(bytes, kind: kind, version: v, master: master)
                    switch kind {
                    case .scope: matches = try X25519PrivateKey(secret: secret).publicKey.bytes == publicKey
                    case .audit: matches = try Ed25519PrivateKey(seed: secret).publicKey.bytes == publicKey
                    case .casework: matches = try secret.withUnsafeBytes { try Blake2b.hash(Array($0)) } == publicKey
                    }
                } catch {
                    throw KeyFileError(
                        path: file, reason: "it cannot be opened with this master key (corrupt, renamed, or from another key set)",
                        hint: "restore it from your key backup")
                }
                guard matches else {
                    throw KeyFileError(
                        path: file, reason: "it does not match \(kind.name).v\(v).pub", hint: "restore both files of the pair from your key backup")
                }
            }
        }
    }

    /// Whether the master key is held as a passphrase-derived `master.kdf`.
    public var usesPassphrase: Bool { SecureFile.list(path).contains("master.kdf") }

    /// One line of `hearth keys status`.
    public struct Status: Sendable, Codable, Equatable {
        /// `support`, …, `audit`, `master`, `tls`.
        public let key: String
        /// Version number, where keys have versions.
        public let version: UInt32?
        /// `primary`, `decrypt-only`, `present`.
        public let state: String
        /// Files involved.
        public let files: [String]
        /// Problems found (missing, permissions, malformed); empty when fine.
        public let problems: [String]
    }

    /// Describes every key in the directory without opening any private key.
    public func status() -> [Status] {
        var out: [Status] = []
        func problems(_ files: [String], check: ([UInt8], String) -> String? = { _, _ in nil }) -> [String] {
            files.compactMap { f in
                do {
                    return check(try SecureFile.readKeyFile(f), f)
                } catch let e as KeyFileError {
                    return "\(e.path): \(e.reason)"
                } catch {
                    return "\(f): unreadable"
                }
            }
        }
        let masterFiles = SecureFile.list(path).contains("master.kdf") ? [masterKDFFile] : [masterKeyFile]
        out.append(Status(key: "master", version: nil, state: "present", files: masterFiles, problems: problems(masterFiles)))
        for kind in KeyKind.all {
            let versions = versions(of: kind)
            if versions.isEmpty {
                out.append(
                    Status(key: kind.name, version: nil, state: "missing", files: [], problems: ["no \(kind.name).vN.pub file"]))
            }
            for v in versions {
                let files = [publicFile(kind, version: v), sealedFile(kind, version: v)]
                let found = problems(files) { bytes, file in
                    if file.hasSuffix(".pub") {
                        return KeyFileFormat.decodePublic(bytes, kind: kind, version: v) == nil ? "\(file): malformed" : nil
                    }
                    return bytes.count == KeyFileFormat.sealedFileByteCount ? nil : "\(file): malformed"
                }
                out.append(
                    Status(key: kind.name, version: v, state: v == versions.last ? "primary" : "decrypt-only", files: files, problems: found))
            }
        }
        let tls = [tlsCertificateFile, tlsKeyFile]
        out.append(Status(key: "tls", version: nil, state: "present", files: tls, problems: problems(tls)))
        return out
    }
}

extension KeyDirectory {
    /// Refuses the directory if it, or any file in it, is open to group or others.
    public func checkPermissions() throws {
        try SecureFile.checkDirectory(path)
        for name in SecureFile.list(path) where name != "README.md" && name != ".gitignore" {
            var st = stat()
            let file = self.file(name)
            guard lstat(file, &st) == 0 else { continue }
            guard st.st_mode & 0o077 == 0 else {
                throw KeyFileError(
                    path: file, reason: "it is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                    hint: "run `chmod 600 \(file)` and check who could have copied it")
            }
        }
    }
}
