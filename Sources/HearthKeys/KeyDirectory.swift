public import HearthCore
public import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    public func versions(of kind: KeyKind) -> [UInt32] { versions(of: kind, suffix: ".pub") }

    /// The versions named `<name>.v<N><suffix>` for a kind (canonical decimal N ≥ 1), ascending.
    func versions(of kind: KeyKind, suffix: String) -> [UInt32] {
        let prefix = "\(kind.name).v"
        return SecureFile.list(path).compactMap { name -> UInt32? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
            let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
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
