public import HearthCore
public import HearthCrypto

extension CaseworkKeys {
    /// Loads everything the casework process holds from the key directory with the master key
    /// (which is not kept).
    public convenience init(directory: KeyDirectory, master: borrowing SecretKey) throws {
        let auditVersions = directory.versions(of: .audit)
        guard let version = auditVersions.last else {
            throw KeyFileError(path: directory.publicFile(.audit, version: 1), reason: "it is missing", hint: "create keys with `hearth keys init`")
        }
        var publics: [UInt32: Ed25519PublicKey] = [:]
        for v in auditVersions { publics[v] = try directory.loadAuditPublicKey(version: v) }
        try self.init(
            scopeKeys: try directory.loadScopePrivateKeys(master: master), caseworkSecret: try directory.loadCaseworkSecret(master: master),
            auditKeyVersion: version, auditKey: try directory.loadAuditPrivateKey(version: version, master: master), auditPublicKeys: publics)
    }

    /// Reloads the scope private keys after a rotation or retirement, without a restart. On any
    /// error the keys in use stay as they were.
    public func reloadScopeKeys(from directory: KeyDirectory, master: borrowing SecretKey) throws {
        replaceScopeKeys(try directory.loadScopePrivateKeys(master: master))
    }
}

extension KeyDirectory {
    /// Opens the Ed25519 audit-signing key of one version.
    public func loadAuditPrivateKey(version: UInt32, master: borrowing SecretKey) throws -> Ed25519PrivateKey {
        let file = sealedFile(.audit, version: version)
        let bytes = try SecureFile.readKeyFile(file)
        do {
            return try Ed25519PrivateKey(seed: KeyFileFormat.decodeSealed(bytes, kind: .audit, version: version, master: master))
        } catch {
            throw KeyFileError(path: file, reason: "it cannot be opened with this master key", hint: "restore it from your key backup")
        }
    }

    /// Reads the Ed25519 audit public key of one version.
    public func loadAuditPublicKey(version: UInt32) throws -> Ed25519PublicKey {
        let file = publicFile(.audit, version: version)
        guard let key = KeyFileFormat.decodePublic(try SecureFile.readKeyFile(file), kind: .audit, version: version) else {
            throw KeyFileError(path: file, reason: "it is not a valid audit public key file", hint: "restore it from your key backup")
        }
        return try Ed25519PublicKey(bytes: key)
    }

    /// Every scope private key version present, opened with the master key.
    public func loadScopePrivateKeys(master: borrowing SecretKey) throws -> [Scope: [UInt32: ScopePrivateKey]] {
        var keys: [Scope: [UInt32: ScopePrivateKey]] = [:]
        for scope in Scope.allCases {
            for v in versions(of: .scope(scope)) {
                keys[scope, default: [:]][v] = ScopePrivateKey(
                    scope: scope, version: v, key: try loadScopePrivateKey(scope, version: v, master: master))
            }
        }
        return keys
    }
}
