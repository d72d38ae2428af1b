public import HearthCore
public import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The public keys an intake holds, read from a published key directory and checked against its
/// signed manifest (SECURITY.md §3.18).
public struct PublishedKeys: Sendable {
    /// The manifest, verified.
    public let manifest: KeyManifest
    /// Its file bytes (to tell a re-read of the same manifest from a new one).
    public let bytes: [UInt8]
    /// The audit public key that verified it.
    public let auditKey: Ed25519PublicKey
    /// The ring of the primary versions the manifest names.
    public let ring: PublicKeyRing
}

/// Publication: the public halves and a signed manifest, for the intake's key directory.
extension KeyDirectory {
    /// `keys.manifest`.
    public var manifestFile: String { file(KeyManifest.fileName) }

    /// Whether the directory has a `keys.manifest`.
    public var hasManifest: Bool { SecureFile.list(path).contains(KeyManifest.fileName) }

    /// Refuses a directory holding any private key material (`master.key`, `master.kdf`,
    /// `*.sealed`, `rotate-master.commit`, `*.next`), naming the first such file: the intake's
    /// key directory must hold public keys only.
    public func refusePrivateKeys() throws {
        for name in SecureFile.list(path) {
            let isPrivate =
                name == "master.key" || name == "master.kdf" || name == "rotate-master.commit" || name.hasSuffix(".sealed")
                || name.hasSuffix(".next")
            guard isPrivate else { continue }
            throw KeyFileError(
                path: file(name), reason: "it is private key material, and the intake must hold public keys only",
                hint: "publish with `hearth keys publish --to DIR` and point --keys there; move this file back to the casework key directory")
        }
    }

    /// Writes into `target` (created 0700 if missing) the `.pub` file of every live scope key
    /// version, `audit.v<auditVersion>.pub`, and `keys.manifest` signed with `auditKey`. Each file
    /// is written to a temporary name and renamed into place; `.pub` files come first and the
    /// manifest last, then scope `.pub` files the manifest no longer lists are removed. The
    /// creation time is `now`, or one second after the manifest already in `target` if that is
    /// later, so a running intake always takes the new one. Refuses a target holding private keys.
    public func publish(to target: KeyDirectory, auditKey: borrowing Ed25519PrivateKey, auditVersion: UInt32, now: Int64) throws -> KeyManifest {
        if mkdir(target.path, 0o700) != 0 && errno != EEXIST {
            throw KeyFileError(path: target.path, reason: "cannot create the directory", hint: "check the parent directory")
        }
        try SecureFile.checkDirectory(target.path)
        try target.refusePrivateKeys()
        return try withDirectoryLock {
            var entries: [KeyManifest.Entry] = []
            for scope in Scope.allCases {
                let kind = KeyKind.scope(scope)
                let versions = versions(of: kind)
                guard let primary = versions.last else {
                    _ = try SecureFile.readKeyFile(publicFile(kind, version: 1))  // names the missing file
                    continue
                }
                for v in versions {
                    let source = publicFile(kind, version: v)
                    guard let key = KeyFileFormat.decodePublic(try SecureFile.readKeyFile(source), kind: kind, version: v) else {
                        throw KeyFileError(
                            path: source, reason: "it is not a valid \(scope.rawValue) v\(v) public key file",
                            hint: "restore it from your key backup; never edit key files by hand")
                    }
                    entries.append(.init(scope: scope, version: v, isPrimary: v == primary, publicKey: key))
                }
            }
            let auditFile = publicFile(.audit, version: auditVersion)
            let auditBytes = try SecureFile.readKeyFile(auditFile)
            guard KeyFileFormat.decodePublic(auditBytes, kind: .audit, version: auditVersion) == auditKey.publicKey.bytes else {
                throw KeyFileError(
                    path: auditFile, reason: "it does not hold the public half of the audit key that signs", hint: "restore it from your key backup")
            }
            var created = now
            if let existing = try? KeyManifest.decode(SecureFile.readKeyFile(target.manifestFile, maxBytes: KeyManifest.maximumByteCount)) {
                created = max(created, existing.manifest.created + 1)
            }
            let manifest: KeyManifest
            do {
                manifest = try KeyManifest(created: created, auditVersion: auditVersion, entries: entries)
            } catch {
                throw KeyFileError(
                    path: path, reason: "its public keys cannot be listed in a manifest (\(error))", hint: "check `hearth keys status`")
            }
            var files: [(name: String, bytes: [UInt8])] = entries.map { ("\($0.scope.rawValue).v\($0.version).pub", $0.publicFileBytes) }
            files.append(("audit.v\(auditVersion).pub", auditBytes))
            for (name, bytes) in files {
                let destination = target.file(name)
                if SecureFile.list(target.path).contains(name) {
                    guard try SecureFile.readKeyFile(destination) == bytes else {
                        throw KeyFileError(
                            path: destination, reason: "it holds a different key than \(file(name))",
                            hint: "this directory was published from another key set; publish into an empty directory")
                    }
                    continue
                }
                try SecureFile.replaceAtomically(destination, contents: bytes)
            }
            try SecureFile.replaceAtomically(target.manifestFile, contents: manifest.encoded(signingWith: auditKey))
            let listed = Set(files.map(\.name))
            for name in SecureFile.list(target.path) where name.hasSuffix(".pub") && !listed.contains(name) {
                if Scope.allCases.contains(where: { name.hasPrefix("\($0.rawValue).v") }) { _ = unlink(target.file(name)) }
            }
            SecureFile.syncDirectory(of: target.manifestFile)
            return manifest
        }
    }

    /// Reads and verifies `keys.manifest`: canonical, signed by `audit.v<N>.pub` (or, when
    /// `trusting` is given, by one of those keys only), every listed `.pub` present and holding
    /// the listed key, and no scope `.pub` newer than the primary the manifest names (which would
    /// make the manifest older than the keys beside it). Throws ``KeyFileError`` naming the file.
    public func loadPublishedKeys(trusting: [UInt32: Ed25519PublicKey]? = nil) throws -> PublishedKeys {
        try SecureFile.checkDirectory(path)
        let republish = "run `hearth keys publish --to \(path)` on the casework host again"
        let bytes = try SecureFile.readKeyFile(manifestFile, maxBytes: KeyManifest.maximumByteCount)
        let decoded: KeyManifest
        do {
            decoded = try KeyManifest.decode(bytes).manifest
        } catch {
            throw KeyFileError(path: manifestFile, reason: "it is malformed (\(error))", hint: republish)
        }
        let auditKey: Ed25519PublicKey
        if let trusting {
            guard let pinned = trusting[decoded.auditVersion] else {
                throw KeyFileError(
                    path: manifestFile, reason: "it is signed by audit v\(decoded.auditVersion), a key this running intake does not trust",
                    hint: "restart the intake to accept a new audit key; if nobody published, treat the intake host as compromised")
            }
            auditKey = pinned
        } else {
            auditKey = try loadAuditPublicKey(version: decoded.auditVersion)
        }
        let manifest: KeyManifest
        do {
            manifest = try KeyManifest.verify(bytes, auditKey: auditKey)
        } catch {
            throw KeyFileError(
                path: manifestFile, reason: "its signature does not verify under audit v\(decoded.auditVersion) (forged or altered)",
                hint: "\(republish); if nobody altered it, treat the intake host as compromised")
        }
        for entry in manifest.entries {
            let pub = publicFile(.scope(entry.scope), version: entry.version)
            guard try SecureFile.readKeyFile(pub) == entry.publicFileBytes else {
                throw KeyFileError(path: pub, reason: "it does not hold the key \(KeyManifest.fileName) lists for it", hint: republish)
            }
        }
        for (scope, primary) in manifest.primaries {
            if let newer = versions(of: .scope(scope)).last, newer > primary.version {
                throw KeyFileError(
                    path: manifestFile,
                    reason: "it is stale: it names \(scope.rawValue) v\(primary.version) as primary, but \(scope.rawValue).v\(newer).pub is here",
                    hint: republish)
            }
        }
        let ring: PublicKeyRing
        do {
            ring = try manifest.ring()
        } catch {
            throw KeyFileError(path: manifestFile, reason: "it lists a key that is not an X25519 public key", hint: republish)
        }
        return PublishedKeys(manifest: manifest, bytes: bytes, auditKey: auditKey, ring: ring)
    }
}

extension SecureFile {
    /// Writes `contents` to `path` through a temporary file (`path.tmp`, created exclusively,
    /// mode 0600, fsynced) renamed over `path`, so a reader sees the old file or the new one.
    public static func replaceAtomically(_ path: String, contents: [UInt8]) throws {
        let temporary = path + ".tmp"
        _ = unlink(temporary)
        try createExclusive(temporary, contents: contents)
        guard rename(temporary, path) == 0 else {
            _ = unlink(temporary)
            throw KeyFileError(path: path, reason: "cannot rename \(temporary) into place", hint: "check the directory")
        }
        syncDirectory(of: path)
    }
}
