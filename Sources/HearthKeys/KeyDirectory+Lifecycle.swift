public import HearthCore
public import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Key lifecycle on disk: rotation, retirement and master-key rotation (SECURITY.md, "Key lifecycle").
extension KeyDirectory {
    /// `<name>.v<N>.retired`: the public half of a retired version, kept as a record.
    public func retiredFile(_ kind: KeyKind, version: UInt32) -> String { file("\(kind.name).v\(version).retired") }

    /// Versions retired for a kind, ascending.
    public func retiredVersions(of kind: KeyKind) -> [UInt32] { versions(of: kind, suffix: ".retired") }

    /// Creates version N+1 of a scope key pair, which becomes primary at once.
    @discardableResult
    public func rotate(_ scope: Scope, master: borrowing SecretKey) throws -> UInt32 {
        let kind = KeyKind.scope(scope)
        return try withDirectoryLock {
            let next = ((versions(of: kind) + retiredVersions(of: kind)).max() ?? 0) + 1
            try createKeyPair(kind, version: next, master: master)
            return next
        }
    }

    /// Destroys a scope key version's private key: overwrites the file with random bytes, fsyncs,
    /// deletes it, and keeps the public half as `.retired`. Callers check first that no wrap uses
    /// the version and that it is not primary.
    public func retire(_ scope: Scope, version: UInt32) throws {
        try withDirectoryLock { try retireLocked(scope, version: version) }
    }

    func retireLocked(_ scope: Scope, version: UInt32) throws {
        let kind = KeyKind.scope(scope)
        guard versions(of: kind).contains(version) else {
            throw KeyFileError(
                path: publicFile(kind, version: version), reason: "there is no such live key version", hint: "see `hearth keys status`")
        }
        guard versions(of: kind).last != version else {
            throw KeyFileError(
                path: publicFile(kind, version: version), reason: "it is the primary version",
                hint: "rotate first (`hearth keys rotate --scope \(scope.rawValue)`), rewrap, then retire")
        }
        let sealed = sealedFile(kind, version: version)
        // Without the file, an earlier retirement was interrupted after destroying it: only the rename is left.
        var st = stat()
        if lstat(sealed, &st) == 0 || errno != ENOENT {
            try SecureFile.overwriteAndDelete(sealed)
        }
        guard rename(publicFile(kind, version: version), retiredFile(kind, version: version)) == 0 else {
            throw KeyFileError(path: publicFile(kind, version: version), reason: "cannot rename it to .retired", hint: "check the directory")
        }
        SecureFile.syncDirectory(of: sealed)
    }

    // MARK: Master-key rotation

    /// The commit marker of an interrupted master-key rotation.
    var rotationMarker: String { file("rotate-master.commit") }

    /// Takes the master-rotation lock: an exclusive `flock` on the key directory itself, held by
    /// `rotateMaster` for its whole run. The kernel drops it when the process dies, so a crash
    /// leaves no stale lock. Returns the descriptor to close (which releases it), nil while another
    /// process (or another descriptor in this one) holds it, or -1 if the directory cannot be opened.
    func tryRotationLock() -> Int32? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Runs `body` holding the key-directory lock (waiting for it), so that rotation and retirement
    /// never interleave with a master-key rotation.
    func withDirectoryLock<T>(_ body: () throws -> T) throws -> T {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw KeyFileError(path: path, reason: "cannot open the key directory", hint: "check it exists") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw KeyFileError(path: path, reason: "cannot lock the key directory", hint: "try again") }
        return try body()
    }

    /// Finishes or undoes a master-key rotation that a crash interrupted: with the commit marker
    /// present, every `.next` file is moved into place (roll forward); without it, `.next` files
    /// are deleted (roll back). Safe to run at every start; a no-op when nothing was interrupted,
    /// and while a rotation is still running in another process (the service's key reloader and
    /// `hearth keys status` call this; deleting `.next` files under a live rotation would leave
    /// keys sealed under a master key that no longer exists).
    public func recoverInterruptedRotation() throws {
        guard let fd = tryRotationLock() else { return }
        defer { if fd >= 0 { close(fd) } }
        try recoverLocked()
    }

    func recoverLocked() throws {
        let names = SecureFile.list(path)
        if names.contains("rotate-master.commit") {
            let marker = String(decoding: try SecureFile.readKeyFile(rotationMarker), as: UTF8.self)
            for line in marker.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].contains("/") else { continue }
                let target = file(parts[1])
                switch parts[0] {
                case "move":
                    if access(target + ".next", F_OK) == 0 {
                        guard rename(target + ".next", target) == 0 else {
                            throw KeyFileError(path: target, reason: "cannot finish the master-key rotation", hint: "check the directory")
                        }
                    }
                case "remove":
                    _ = unlink(target)
                default:
                    continue
                }
            }
            SecureFile.syncDirectory(of: rotationMarker)
            _ = unlink(rotationMarker)
            SecureFile.syncDirectory(of: rotationMarker)
        } else {
            for name in names where name.hasSuffix(".next") {
                _ = unlink(file(name))
            }
            SecureFile.syncDirectory(of: rotationMarker)
        }
    }

    /// Re-seals every private key file under a new master key (random, or derived from
    /// `newPassphrase`). New files are written and fsynced beside the old ones, a commit marker
    /// is written, then they are renamed into place; a crash at any point leaves a directory that
    /// opens with exactly one of the two master keys. `afterStep` is a test hook.
    public func rotateMaster(
        from old: borrowing SecretKey, newPassphrase: consuming SecretBytes?, cost: Argon2id.Cost = .moderate,
        afterStep: (String) -> Void = { _ in }
    ) throws {
        guard let lock = tryRotationLock() else {
            throw KeyFileError(
                path: path, reason: "another master-key rotation is running on it", hint: "wait for it to finish, then check `hearth keys status`")
        }
        guard lock >= 0 else {
            throw KeyFileError(path: path, reason: "the key directory cannot be opened", hint: "check it exists and is yours")
        }
        defer { close(lock) }
        try recoverLocked()
        let new: SecretKey
        var moves: [String] = []
        var removals: [String] = []
        if let newPassphrase {
            let salt = try SystemRandom.bytes(Argon2id.saltByteCount)
            new = try Argon2id.deriveKey(passphrase: newPassphrase, salt: salt, cost: cost)
            try SecureFile.createExclusive(masterKDFFile + ".next", contents: KeyFileFormat.encodeKDF(cost: cost, salt: salt, master: new))
            moves.append("master.kdf")
            if !usesPassphrase { removals.append("master.key") }
        } else {
            new = try SecretKey.random()
            try SecureFile.createExclusive(masterKeyFile + ".next", contents: new.secret.unsafeExportedBytes())
            moves.append("master.key")
            if usesPassphrase { removals.append("master.kdf") }
        }
        afterStep("master written")
        for kind in KeyKind.all {
            for v in versions(of: kind) {
                let name = "\(kind.name).v\(v).sealed"
                let secret = try KeyFileFormat.decodeSealed(try SecureFile.readKeyFile(file(name)), kind: kind, version: v, master: old)
                try SecureFile.createExclusive(
                    file(name) + ".next", contents: KeyFileFormat.encodeSealed(kind: kind, version: v, secret: secret, master: new))
                moves.append(name)
                afterStep("sealed \(name)")
            }
        }
        let marker = (moves.map { "move \($0)" } + removals.map { "remove \($0)" }).joined(separator: "\n") + "\n"
        try SecureFile.createExclusive(rotationMarker, contents: Array(marker.utf8))
        afterStep("committed")
        try recoverLocked()
        afterStep("done")
    }
}

extension SecureFile {
    /// Overwrites a file with random bytes of the same length, fsyncs, then deletes it.
    public static func overwriteAndDelete(_ path: String) throws {
        let length = try readKeyFile(path).count
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw KeyFileError(path: path, reason: "cannot open it for overwriting", hint: "check its owner and mode") }
        let noise = try SystemRandom.bytes(max(length, 1))
        let written = noise.withUnsafeBytes { pwrite(fd, $0.baseAddress!, length, 0) }
        let synced = fsync(fd)
        close(fd)
        guard written == length, synced == 0 else {
            throw KeyFileError(path: path, reason: "cannot overwrite it", hint: "check the disk")
        }
        guard unlink(path) == 0 else { throw KeyFileError(path: path, reason: "cannot delete it", hint: "check the directory") }
        syncDirectory(of: path)
    }
}
